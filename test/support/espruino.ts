/**
 * The real Espruino interpreter (a Linux build with a device's memory layout)
 * running a bundle the way a board does: saved to flash as `.bootcde`, then
 * booted from it.
 *
 * `bootFromFlash({ bin, code, env })` makes a temporary working directory
 * (the interpreter keeps its flash there, in `espruino.flash`), writes the
 * bundle into Storage in pieces from one interpreter session (each piece
 * waits for its acknowledgement), checks the CRC of what landed in flash,
 * ends that session, and starts the interpreter again interactively so that
 * it boots from flash. Standard input stays open for the whole run (at EOF
 * the Linux build reads junk).
 *
 * Console lines are sent with echo off (a leading DLE, 0x10): neither echoed
 * nor kept in the console's history, whose variables would otherwise count
 * in every memory figure. The interpreter ignores SIGTERM; `close()` kills it.
 *
 * Standard input is read by a second thread of the Linux build that appends
 * to the event queue while the main loop takes from it, unlocked: now and then
 * a line comes out garbled, or bytes of earlier lines come back: about one
 * line in a hundred while an app keeps the main loop busy, fewer while it
 * idles (a write of the esp32 telemetry bundle, 350 pieces, once failed three
 * times in a row). Over stdin the flash is written again from the start when
 * a piece goes unanswered or the CRC differs. With `telnet: true` both
 * sessions start with `--telnet` and the console moves to the build's telnet
 * server on 127.0.0.1:2323, which the main loop reads itself: nothing is
 * lost, and writing is about five times faster. That port is fixed (and bound with SO_REUSEPORT), so one telnet interpreter
 * runs at a time: the harness waits until the port is free, and checks that
 * the interpreter answering is its own (the connection's other end is one of
 * its sockets, in /proc).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsoleLines, CrcMismatch, jsString, writeStorage } from '../../src/cli/telnet.js';
import { interpreterLaunch } from './interpreter.js';
import { portIsFree, sleep, until } from './wait.js';

export { jsString };

export interface BootOptions {
  /** The interpreter executable. */
  bin: string;
  /** The bundle's text (one byte per character). */
  code: string;
  /** Added to the environment, e.g. `{ ESPR_VARS: '3400' }` for the esp32 build. */
  env?: { [name: string]: string };
  /** Boot with `--telnet` and use the telnet console (port 2323) instead of stdin. */
  telnet?: boolean;
  /** Bytes of the bundle per Storage write (each one console line): 256 by default, 768 over telnet. */
  pieceBytes?: number;
  /** How long booting may take before the console answers; 30 s by default. */
  bootTimeoutMs?: number;
  /** Storage files written beside the bundle (name to text, one byte per character), as `ringnet flash` uploads them. */
  files?: { [name: string]: string };
}

export interface Memory {
  /** Variables in use, after a garbage collection. */
  usage: number;
  free: number;
  total: number;
}

/** The telnet console's port in the Linux build (fixed). */
export const TELNET_PORT = 2323;

const TELNET_LOCK = join(tmpdir(), 'ringnet-espruino-telnet.lock');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the telnet port for this process until the returned function is
 * called: test files run in parallel processes, and two interpreters started
 * with --telnet after both saw the port free would share it. A lock file
 * names its holder; one left by a process that died is taken over.
 */
export async function lockTelnetPort(timeoutMs = 240000): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(TELNET_LOCK, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        process.removeListener('exit', release);
        try {
          if (readFileSync(TELNET_LOCK, 'utf8') === String(process.pid)) unlinkSync(TELNET_LOCK);
        } catch (e) {
          // already gone
        }
      };
      process.once('exit', release);
      return release;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder = 0;
    try {
      holder = Number(readFileSync(TELNET_LOCK, 'utf8'));
    } catch (e) {
      continue; // released between the two calls
    }
    if (holder && holder !== process.pid && !alive(holder)) {
      rmSync(TELNET_LOCK, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error('the telnet port is still taken by process ' + holder + ' (' + TELNET_LOCK + ')');
    await sleep(200);
  }
}

/** One interpreter process and its console (stdin/stdout, or a telnet connection), driven by src/cli/telnet.ts. */
class Console {
  readonly proc: ChildProcess;
  readonly exited: Promise<void>;
  private sock: net.Socket | null = null;
  private lines: ConsoleLines;

  constructor(bin: string, args: string[], cwd: string, env: { [name: string]: string }) {
    const launch = interpreterLaunch(bin);
    if (typeof launch === 'string') throw new Error(launch);
    this.proc = spawn(launch.file, launch.prefix.concat(args), { cwd, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    this.lines = new ConsoleLines((text) => {
      if (this.sock) this.sock.write(text, 'latin1');
      else this.proc.stdin!.write(text, 'latin1');
    });
    this.proc.stdout!.on('data', (d: Buffer) => this.lines.feed(d));
    this.proc.stderr!.on('data', (d: Buffer) => this.lines.feed(d));
    this.proc.stdin!.on('error', () => {}); // it died: the waiters are told below
    this.exited = new Promise((resolve) =>
      this.proc.once('exit', () => {
        this.lines.end('the interpreter exited');
        if (this.sock) this.sock.destroy();
        resolve();
      }),
    );
  }

  /** Everything it printed: stdout, stderr and the telnet console, in arrival order. */
  get output(): string {
    return this.lines.output;
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Moves the console to the interpreter's telnet server (it takes the console on accept). */
  async attachTelnet(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.alive) throw new Error('the interpreter exited before its telnet server listened\n' + this.tail());
      try {
        this.sock = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect(TELNET_PORT, '127.0.0.1');
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
        break;
      } catch (e) {
        if (Date.now() > deadline) throw new Error('no telnet server on ' + TELNET_PORT + ': ' + e + '\n' + this.tail());
        await sleep(50);
      }
    }
    this.sock.on('data', (d: Buffer) => this.lines.feed(d));
    this.sock.on('error', () => {});
  }

  /**
   * Whether the telnet connection's other end belongs to this process (Linux
   * /proc: the socket on port 2323 whose peer is our port is one of its file
   * descriptors). Ask once the console has answered: until the interpreter
   * accepts, the socket has no inode.
   */
  ownsTelnetPeer(): boolean {
    if (!this.sock) return true;
    const ours = this.sock.localPort;
    let inode = '';
    for (const row of readFileSync('/proc/net/tcp', 'latin1').split('\n').slice(1)) {
      const f = row.trim().split(/\s+/);
      if (f.length > 9 && parseInt(f[1].split(':')[1], 16) === TELNET_PORT && parseInt(f[2].split(':')[1], 16) === ours) inode = f[9];
    }
    const fds = '/proc/' + this.proc.pid + '/fd';
    return inode !== '' && readdirSync(fds).some((fd) => {
      try {
        return readlinkSync(join(fds, fd)) === 'socket:[' + inode + ']';
      } catch (e) {
        return false;
      }
    });
  }

  /** See ConsoleLines.run. */
  run(line: (out: (expr: string) => string) => string, timeoutMs: number): Promise<string> {
    if (!this.alive) return Promise.reject(new Error('the interpreter has exited\n' + this.tail()));
    return this.lines.run(line, timeoutMs);
  }

  /** The interpreter as a Storage writer (see writeStorage). */
  get console(): ConsoleLines {
    return this.lines;
  }

  tail(): string {
    return this.lines.tail();
  }

  async kill(): Promise<void> {
    if (this.alive) this.proc.kill('SIGKILL');
    await this.exited;
    if (this.unlock) this.unlock();
    this.unlock = null;
  }

  /** Releases the telnet port once the process is gone (set by start()). */
  unlock: (() => void) | null = null;
}

export class Espruino {
  /** The working directory (holds espruino.flash); removed by close(). */
  readonly dir: string;
  private con: Console;

  constructor(dir: string, con: Console) {
    this.dir = dir;
    this.con = con;
  }

  /** Everything the booted interpreter printed so far. */
  get output(): string {
    return this.con.output;
  }

  /** Whether the process still runs. */
  get alive(): boolean {
    return this.con.alive;
  }

  /**
   * Evaluates `js` as a console line at global scope (`var` makes a global) and
   * resolves with its value as `E.toJS` writes it (the console's `=` line, not
   * pretty-printed: `3`, `"text"`, `[1,2]`, `{a:1}`, `undefined`). Rejects with
   * the interpreter's message when it throws, and when no answer comes.
   */
  async command(js: string, timeoutMs = 10000): Promise<string> {
    const src = jsString(js);
    const r = await this.con.run((out) => 'try{' + out('"="+E.toJS(eval(' + src + '))') + '}catch(e){' + out('"!"+e') + '}', timeoutMs);
    if (r[0] !== '=') throw new Error('Espruino: ' + r.slice(1) + ' (from: ' + js + ')');
    return r.slice(1);
  }

  /**
   * `process.memory()`, which collects garbage first (its argument defaults to
   * true), in variables; the figure includes the few variables of the console
   * line that asks.
   */
  async memory(timeoutMs = 10000): Promise<Memory> {
    const m = JSON.parse(await this.con.run((out) => out('JSON.stringify(process.memory())'), timeoutMs));
    return { usage: m.usage, free: m.free, total: m.total };
  }

  /** Kills the interpreter and removes its directory. */
  async close(): Promise<void> {
    await this.con.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Starts the interpreter in `dir`; with `telnet`, on `--telnet` and with its console moved there. */
async function start(opts: BootOptions, dir: string, timeoutMs: number): Promise<Console> {
  // another interpreter with --telnet may hold it
  const unlock = opts.telnet ? await lockTelnetPort() : null;
  if (opts.telnet) await until(() => portIsFree(TELNET_PORT), 120000, 'port ' + TELNET_PORT + ' (the telnet console) to be free', 200);
  const con = new Console(opts.bin, opts.telnet ? ['--telnet'] : [], dir, opts.env || {});
  con.unlock = unlock;
  try {
    if (opts.telnet) await con.attachTelnet(timeoutMs);
    // The console answers once the boot code (if any) has run.
    await con.run((out) => out('1'), timeoutMs);
    if (!con.ownsTelnetPeer()) throw new Error('the telnet console that answered on ' + TELNET_PORT + ' is another process\'s');
  } catch (e) {
    await con.kill();
    throw e;
  }
  return con;
}

/** Writes `code` as `.bootcde` into a fresh flash in `dir`; true when the CRC of what landed matches. */
async function writeFlash(opts: BootOptions, dir: string): Promise<boolean> {
  rmSync(join(dir, 'espruino.flash'), { force: true });
  const writer = await start(opts, dir, 10000);
  try {
    // Over telnet the main loop reads the console, and it sleeps up to 50 ms when idle: a timer keeps it awake.
    if (opts.telnet) await writer.run((out) => 'setInterval(function(){},1);' + out('1'), 5000);
    const pieces = { pieceBytes: opts.pieceBytes || (opts.telnet ? 768 : 256), timeoutMs: 5000 };
    for (const name of Object.keys(opts.files || {})) await writeStorage(writer.console, name, opts.files![name], pieces);
    await writeStorage(writer.console, '.bootcde', opts.code, pieces);
    return true;
  } catch (e) {
    if (e instanceof CrcMismatch) return false;
    throw e;
  } finally {
    await writer.kill();
  }
}

/** Saves `code` to flash as `.bootcde` and boots the interpreter from it. */
export async function bootFromFlash(opts: BootOptions): Promise<Espruino> {
  const dir = mkdtempSync(join(tmpdir(), 'ringnet-espruino-'));
  try {
    for (let tries = 1; ; tries++) {
      let ok = false;
      try {
        ok = await writeFlash(opts, dir);
      } catch (e) {
        // Over stdin a garbled line can also lose its acknowledgement.
        if (opts.telnet || tries === 3) throw e;
      }
      if (ok) break;
      if (tries === 3) throw new Error('.bootcde in flash did not match the bundle (CRC) in 3 tries');
    }
    return new Espruino(dir, await start(opts, dir, opts.bootTimeoutMs || 30000));
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
