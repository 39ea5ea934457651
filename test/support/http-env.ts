/** Helpers for HTTP/WebSocket tests over real loopback sockets: a server on the Node driver, raw sockets, curl, certificates. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Manager } from '../../src/core/manager.js';
import type { ManagerOptions } from '../../src/core/manager.js';
import type { Connection } from '../../src/core/connection.js';
import { NodeDriver } from '../../src/drivers/node.js';
import { httpListen } from '../../src/protocols/http/server.js';
import type { HttpHandler, HttpServerOptions } from '../../src/protocols/http/server.js';
import { sleep, until } from './wait.js';

export interface Served {
  mgr: Manager;
  listener: Connection;
  port: number;
  url: string;
  stop(): void;
}

/** A ringnet HTTP server on 127.0.0.1 with an ephemeral port, running. */
export async function serve(app: (mgr: Manager) => HttpHandler, opts?: HttpServerOptions & { mgr?: ManagerOptions; scheme?: string }): Promise<Served> {
  const o = opts || {};
  const mgr = new Manager(new NodeDriver(), o.mgr || { pools: { default: { conns: 16, recvBytes: 4096, sendBytes: 4096 } } });
  const scheme = o.scheme || 'http';
  const listener = httpListen(mgr, scheme + '://127.0.0.1:0', app(mgr), o) as Connection;
  mgr.run();
  await until(() => listener.remote.port > 0, 3000, 'the listener port');
  const port = listener.remote.port;
  return {
    mgr,
    listener,
    port,
    url: scheme + '://127.0.0.1:' + port,
    stop() {
      mgr.shutdown();
    },
  };
}

export interface RawResult {
  /** Everything received, as a binary string. */
  data: string;
  /** The server closed (FIN or RST) before the wait ended. */
  closed: boolean;
  reset: boolean;
  /** Milliseconds from connect to close (or to the end of the wait). */
  ms: number;
}

/**
 * Connects, sends `parts` (a string, or strings with pauses between them as
 * numbers of ms), and collects what comes back until the server closes, `done`
 * says enough, or `timeoutMs` passes.
 */
export function raw(port: number, parts: string | (string | number)[], opts?: { timeoutMs?: number; done?: (data: string) => boolean; stopSendingOnClose?: boolean }): Promise<RawResult> {
  const o = opts || {};
  const list = typeof parts === 'string' ? [parts] : parts;
  return new Promise((resolve) => {
    const start = Date.now();
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    let closed = false;
    let reset = false;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ data, closed, reset, ms: Date.now() - start });
    };
    const timer = setTimeout(finish, o.timeoutMs || 3000);
    sock.on('data', (b) => {
      data += b.toString('latin1');
      if (o.done && o.done(data)) finish();
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNRESET') reset = true;
      closed = true;
      finish();
    });
    sock.on('close', () => {
      closed = true;
      finish();
    });
    sock.on('connect', async () => {
      for (const p of list) {
        if (finished || closed) break;
        if (typeof p === 'number') await sleep(p);
        else sock.write(Buffer.from(p, 'latin1'));
      }
    });
  });
}

/** The status codes of every response head in `data`, in order. */
export function statuses(data: string): number[] {
  const out: number[] = [];
  const re = /HTTP\/1\.[01] (\d\d\d)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(data))) out.push(+m[1]);
  return out;
}

export interface CurlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs Debian's curl (never through a proxy). */
export function curl(args: string[], timeoutMs = 10000): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile('curl', ['--noproxy', '*', '-sS', ...args], { timeout: timeoutMs, encoding: 'latin1', maxBuffer: 64 * 1024 * 1024, env: {} }, (err, stdout, stderr) => {
      const code = err ? ((err as any).code === undefined ? -1 : (err as any).code) : 0;
      resolve({ code: typeof code === 'number' ? code : -1, stdout, stderr });
    });
  });
}

export interface Cert {
  cert: string;
  key: string;
  dir: string;
  certFile: string;
  remove(): void;
}

/** A self-signed certificate for 127.0.0.1 and localhost, made by openssl for this test run. */
export function makeCert(): Promise<Cert> {
  const dir = mkdtempSync(join(tmpdir(), 'ringnet-tls-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'];
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { timeout: 20000 }, (err) => {
      if (err) return reject(err);
      resolve({
        cert: readFileSync(certFile, 'utf8'),
        key: readFileSync(keyFile, 'utf8'),
        dir,
        certFile,
        remove() {
          rmSync(dir, { recursive: true, force: true });
        },
      });
    });
  });
}
