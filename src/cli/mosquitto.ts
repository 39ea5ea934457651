/**
 * Real mosquitto brokers for `ringnet sim`, tests and benchmarks: each on
 * free loopback ports, with a config written here, optionally a TLS listener
 * whose certificate is made with openssl on the spot. `stop()` in `after`.
 */
import { spawn, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export interface MosquittoOptions {
  /** Also listen with TLS (a self-signed certificate for 127.0.0.1 is made). */
  tls?: boolean;
  /** Keep sessions and queued messages on disk across a restart (saved on a graceful stop). */
  persistence?: boolean;
  /** Require these user names and passwords (no anonymous clients). */
  users?: { [name: string]: string };
  /** More config lines. */
  extra?: string[];
}

export interface Mosquitto {
  port: number;
  /** 0 without TLS. */
  tlsPort: number;
  /** The TLS listener's certificate (PEM), to trust as a CA. */
  ca: string;
  url: string;
  tlsUrl: string;
  /** Lines mosquitto wrote to stderr (for failure messages). */
  log: string[];
  /** Stops the broker: SIGTERM (graceful: sessions saved) or SIGKILL. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Freezes the running broker (SIGSTOP: its sockets stay open, nothing is answered) or thaws it (SIGCONT). */
  freeze(on: boolean): void;
  /** Starts it again on the same ports with the same config. */
  restart(): Promise<void>;
  /** Stops it and removes its files. */
  dispose(): Promise<void>;
}

/** Debian installs it in sbin, which is not on every user's PATH. */
const MOSQUITTO = existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : 'mosquitto';

/** A loopback port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address() as net.AddressInfo;
      s.close(() => resolve(a.port));
    });
  });
}

function waitForPort(port: number, proc: ChildProcess, log: string[], ms: number): Promise<void> {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (proc.exitCode !== null) return reject(new Error('mosquitto exited with ' + proc.exitCode + ': ' + log.join('')));
      const sock = net.connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        resolve();
      });
      sock.once('error', () => {
        sock.destroy();
        if (Date.now() > until) reject(new Error('mosquitto did not listen on ' + port + ': ' + log.join('')));
        else setTimeout(attempt, 30);
      });
    };
    attempt();
  });
}

export async function startMosquitto(opts?: MosquittoOptions): Promise<Mosquitto> {
  const o = opts || {};
  const dir = mkdtempSync(join(tmpdir(), 'ringnet-mosquitto-'));
  const port = await freePort();
  const tlsPort = o.tls ? await freePort() : 0;
  let ca = '';
  const lines = [
    'user ' + userInfo().username, // as root, mosquitto would otherwise switch to a user that cannot read this directory
    'per_listener_settings false',
    'allow_anonymous ' + (o.users ? 'false' : 'true'),
    'log_dest stderr',
    'log_type error',
    'max_queued_messages 0',
    'max_inflight_messages 20',
    'persistence ' + (o.persistence ? 'true' : 'false'),
    'persistence_location ' + dir + '/',
    'autosave_interval 0',
    'listener ' + port + ' 127.0.0.1',
  ];
  if (o.users) {
    const file = join(dir, 'passwords');
    let first = true;
    for (const name of Object.keys(o.users)) {
      execFileSync('mosquitto_passwd', (first ? ['-c'] : []).concat(['-b', file, name, o.users[name]]), { stdio: 'ignore' });
      first = false;
    }
    lines.push('password_file ' + file);
  }
  if (o.tls) {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ], { stdio: 'ignore' });
    ca = readFileSync(join(dir, 'cert.pem'), 'utf8');
    lines.push('listener ' + tlsPort + ' 127.0.0.1', 'certfile ' + join(dir, 'cert.pem'), 'keyfile ' + join(dir, 'key.pem'));
  }
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, lines.concat(o.extra || []).join('\n') + '\n');
  const log: string[] = [];
  let proc: ChildProcess | null = null;

  const launch = async () => {
    const p = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    p.stderr!.on('data', (d: Buffer) => {
      if (log.length < 200) log.push(d.toString());
    });
    proc = p;
    await waitForPort(port, p, log, 5000);
    if (tlsPort) await waitForPort(tlsPort, p, log, 5000);
  };
  const stop = (signal?: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      const p = proc;
      proc = null;
      if (!p || p.exitCode !== null || p.signalCode !== null) return resolve();
      p.once('exit', () => resolve());
      p.kill(signal || 'SIGTERM');
    });
  await launch();
  return {
    port,
    tlsPort,
    ca,
    url: 'mqtt://127.0.0.1:' + port,
    tlsUrl: 'mqtts://127.0.0.1:' + tlsPort,
    log,
    stop,
    freeze: (on: boolean) => {
      if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill(on ? 'SIGSTOP' : 'SIGCONT');
    },
    restart: launch,
    dispose: async () => {
      await stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
