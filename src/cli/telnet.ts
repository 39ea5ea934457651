/**
 * Espruino's console as a program drives it: over a board's telnet server
 * (`ringnet flash --host`), or over the interpreter's stdin in the tests
 * (test/support/espruino.ts uses this same code).
 *
 * Lines are sent with echo off (a leading DLE, 0x10): neither echoed nor
 * kept in the console's history, whose variables would count against the
 * board's memory. Each line prints its answer between markers made of a
 * sequence number, so an answer is told from whatever else the board prints.
 *
 * Files go into Storage in pieces, one console line each
 * (`require("Storage").write(name, piece, offset, total)`, as the espruino
 * CLI does with SAVE_ON_SEND): each piece carries its CRC, which the board
 * checks before writing (a garbled line never lands in flash, where a second
 * write at the same offset cannot fix it), each waits for its
 * acknowledgement, and the whole file's CRC is compared at the end.
 */
import * as net from 'node:net';
import { crc32 } from 'node:zlib';

/** The telnet port of Espruino's TelnetServer on a board (the Linux build uses 2323). */
export const TELNET_PORT = 23;

/** The console takes 1,024 characters a line; a line stays below this. */
const MAX_LINE = 1000;

/** A JavaScript string literal of `s` in printable ASCII (other bytes as \xNN). */
export function jsString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) throw new Error('character ' + c + ' at ' + i + ' is not a byte');
    if (c >= 32 && c < 127 && c !== 34 && c !== 92) out += s[i];
    else out += '\\x' + (c < 16 ? '0' : '') + c.toString(16);
  }
  return out + '"';
}

/** One console session over any link: what it printed comes in through feed(), lines go out through `send`. */
export class ConsoleLines {
  /** Everything the board printed, in arrival order (one character per byte). */
  output = '';
  private waiters: { open: string; close: string; from: number; done: (text: string | null) => void }[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private seq = 0;
  private ended: string | null = null;

  constructor(private readonly send: (text: string) => void) {}

  feed(d: Buffer | string): void {
    this.output += typeof d === 'string' ? d : d.toString('latin1');
    for (let i = 0; i < this.waiters.length; i++) {
      const w = this.waiters[i];
      const a = this.output.indexOf(w.open, w.from);
      const b = a < 0 ? -1 : this.output.indexOf(w.close, a + w.open.length);
      if (b >= 0) {
        this.waiters.splice(i--, 1);
        w.done(this.output.slice(a + w.open.length, b).replace(/^\r?\n/, ''));
      }
    }
  }

  /** The link is gone (`why`, e.g. "the interpreter exited"): waiting lines and later ones fail. */
  end(why: string): void {
    if (this.ended === null) this.ended = why;
    for (const w of this.waiters.splice(0)) w.done(null);
  }

  /**
   * Sends one echo-off console line, made by `line(out)`, where `out(expr)` is
   * a statement that prints `expr` between this line's markers, and resolves
   * with the text printed there. One line at a time.
   */
  run(line: (out: (expr: string) => string) => string, timeoutMs: number): Promise<string> {
    const n = ++this.seq;
    const open = '<<' + n + ':';
    const close = ':' + n + '>>';
    // The markers are put together at run time, so the line's own text never contains them; `expr`
    // is evaluated before any marker string exists, so a memory figure counts only the line itself.
    const text = '\x10' + line((expr) => 'print("<<"+' + n + '+":");print((' + expr + ')+":"+' + n + '+">>")') + '\n';
    if (text.length > MAX_LINE) throw new Error('console line of ' + text.length + ' characters: the console takes 1,024 at a time');
    const go = () =>
      new Promise<string>((resolve, reject) => {
        if (this.ended !== null) return reject(new Error(this.ended + '\n' + this.tail()));
        const timer = setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w.done !== done);
          reject(new Error('no answer in ' + timeoutMs + ' ms to ' + JSON.stringify(text.slice(0, 200)) + '\n' + this.tail()));
        }, timeoutMs);
        const done = (got: string | null) => {
          clearTimeout(timer);
          if (got === null) reject(new Error(this.ended + ' during ' + JSON.stringify(text.slice(0, 200)) + '\n' + this.tail()));
          else resolve(got);
        };
        this.waiters.push({ open, close, from: this.output.length, done });
        this.send(text);
      });
    const p = this.queue.then(go, go);
    this.queue = p.catch(() => {});
    return p;
  }

  tail(): string {
    return 'its last output: ' + JSON.stringify(this.output.slice(-1500));
  }
}

/** The CRC in flash differs from the file's: the write is to be made again from the start. */
export class CrcMismatch extends Error {}

export interface WriteOptions {
  /** Bytes of the file per console line before escaping: 768 by default. */
  pieceBytes?: number;
  /** How long one piece may wait for its acknowledgement: 5 s by default. */
  timeoutMs?: number;
  /** Called after each piece with the bytes written so far. */
  onProgress?: (written: number, total: number) => void;
}

/**
 * Writes `data` (one byte per character) into Storage as `name`, piece by
 * acknowledged piece, then checks the CRC of what landed in flash; resolves
 * with that CRC. Throws CrcMismatch when it differs, and an error naming the
 * offset when the board refuses a piece.
 */
export async function writeStorage(con: ConsoleLines, name: string, data: string, opts: WriteOptions = {}): Promise<number> {
  const piece = opts.pieceBytes || 768;
  const timeout = opts.timeoutMs || 5000;
  const total = data.length;
  if (!total) throw new Error('nothing to write to ' + name);
  const line = (text: string, at: number, crc: number) =>
    // The board checks the piece against its CRC before writing: true (written), false (Storage refused it), "crc" (garbled).
    '(function(s){return E.CRC32(s)!=' + crc + '?"crc":require("Storage").write(' + jsString(name) + ',s,' + at + (at === 0 ? ',' + total : '') + ')})(' + text + ')';
  const room = MAX_LINE - 80 - line('', total, 4294967295).length; // 80: the markers out() adds
  for (let at = 0, n = piece; at < total; at += n) {
    n = Math.min(piece, total - at);
    let text = jsString(data.slice(at, at + n));
    while (text.length > room) text = jsString(data.slice(at, at + (n >>= 1))); // escapes made it too long a line
    const crc = crc32(Buffer.from(data.slice(at, at + n), 'latin1')) >>> 0;
    for (let tries = 1; ; tries++) {
      const r = await con.run((out) => out(line(text, at, crc)), timeout);
      if (r === 'true') break;
      if (r === 'false') throw new Error('the board refused to write ' + name + ' at offset ' + at + ' of ' + total + ' (Storage full?)');
      if (r !== 'crc' || tries === 3) throw new Error('piece at offset ' + at + ' of ' + name + ': answered ' + JSON.stringify(r) + (r === 'crc' ? ' 3 times (the link garbles lines)' : ''));
    }
    if (opts.onProgress) opts.onProgress(at + n, total);
  }
  const want = crc32(Buffer.from(data, 'latin1')) >>> 0;
  const got = Number(await con.run((out) => out('E.CRC32(require("Storage").read(' + jsString(name) + '))'), timeout));
  if (got !== want) throw new CrcMismatch(name + ' in flash has CRC ' + got + ', the file ' + want);
  return want;
}

/** A telnet console connection. */
export interface TelnetConsole {
  con: ConsoleLines;
  socket: net.Socket;
  close(): void;
}

/** `host`, `host:port` or `[v6]:port` as host and port (23 by default). */
export function parseHost(spec: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(spec) || /^([^:]+)(?::(\d+))?$/.exec(spec);
  if (!m || !m[1]) throw new Error('--host expects ip[:port], got "' + spec + '"');
  const port = m[2] === undefined ? TELNET_PORT : Number(m[2]);
  if (!(port > 0 && port < 65536)) throw new Error('--host ' + spec + ': port must be 1 to 65535');
  return { host: m[1], port: port };
}

/** Connects to a board's telnet console; rejects after `timeoutMs` or when the connection is refused. */
export function connectTelnet(host: string, port: number, timeoutMs = 10000): Promise<TelnetConsole> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no telnet console at ' + host + ':' + port + ' in ' + timeoutMs + ' ms'));
    }, timeoutMs);
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error('no telnet console at ' + host + ':' + port + ': ' + e.message));
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      const con = new ConsoleLines((text) => socket.write(text, 'latin1'));
      socket.removeAllListeners('error');
      socket.on('error', (e) => con.end('the telnet connection failed: ' + e.message));
      socket.on('data', (d: Buffer) => con.feed(d));
      socket.on('close', () => con.end('the board closed the telnet connection'));
      resolve({ con: con, socket: socket, close: () => socket.destroy() });
    });
  });
}

export interface TelnetFlashOptions {
  host: string;
  port: number;
  /** The bundle (one byte per character). */
  code: string;
  /** Files for Storage before the code, e.g. the app's gzipped pages. */
  files?: { name: string; data: string }[];
  /** Progress lines; console.log by default. */
  log?: (line: string) => void;
  /** How long the board may take to boot the new code before its console answers; 30 s by default. */
  bootTimeoutMs?: number;
}

function num(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * Over-the-air update: through the board's telnet console, stops the app
 * (`reset()`, as the espruino CLI does before an upload; the board keeps its
 * Wi-Fi and the telnet server), writes the files and the bundle as
 * `.bootcde`, checks both CRCs, and boots it (`load()`), then waits for the
 * console to answer from the new code.
 */
export async function telnetFlash(o: TelnetFlashOptions): Promise<void> {
  const log = o.log || ((line: string) => console.log(line));
  const where = o.host + ':' + o.port;
  const t = await connectTelnet(o.host, o.port);
  try {
    await t.con.run((out) => out('1'), 10000);
    await t.con.run((out) => 'reset();' + out('1'), 10000);
    // Over telnet the main loop reads the console, and it sleeps while idle: a timer keeps it awake until load().
    await t.con.run((out) => 'setInterval(function(){},1);' + out('1'), 10000);
    for (const f of o.files || []) {
      log('uploading ' + f.name + ' (' + num(f.data.length) + ' B) to ' + where + ' …');
      await writeStorage(t.con, f.name, f.data);
    }
    log('uploading ' + num(o.code.length) + ' B to ' + where + ' …');
    let next = 0.25;
    const crc = await writeStorage(t.con, '.bootcde', o.code, {
      onProgress: (done, total) => {
        if (done < total && done / total >= next) {
          log('  ' + Math.floor((done / total) * 100) + '%');
          while (done / total >= next) next += 0.25;
        }
      },
    });
    log('written, CRC ' + ('0000000' + crc.toString(16)).slice(-8) + ' checked; rebooting');
    t.con.run((out) => 'load();' + out('1'), 10000).catch(() => {}); // answered before the reset; the next line comes after the boot
    await t.con.run((out) => out('1'), o.bootTimeoutMs || 30000);
    log('booted: the console on ' + where + ' answers from the new code');
  } finally {
    t.close();
  }
}
