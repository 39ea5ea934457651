/**
 * The MQTT outbox store on Espruino: flash through the `Storage` module.
 *
 * Flash is worn by erasing, so the log only ever appends: each entry is one
 * base64 line in a StorageFile (which appends in place and grows by chunks;
 * base64 also keeps out byte 0xFF, which StorageFile reserves for "unwritten").
 * Compaction writes the live entries to the other of two files and then
 * erases the old one, so flash is erased about once per `compactFactor` ×
 * outbox size of traffic, never per message.
 *
 * A file starts with "#G<generation>" and is whole once its "#C" line is
 * written (after the compacted entries; appended entries follow it); at load
 * the newest whole file wins and the other is erased. "#" is not base64, so
 * markers and entries cannot be confused.
 *
 *   mqttConnect(mgr, url, handler, { store: outboxStore(new EspruinoStore(require('Storage'), 'mqob')) });
 */
import type { AppendLog } from '../core/append-log.js';

/** The part of Espruino's StorageFile this store uses. @runtime */
export interface StorageFileLike {
  write(data: string): void;
  /** The next line including its "\n", or undefined at the end. */
  readLine(): string | undefined;
  erase(): void;
}

/** The part of Espruino's `Storage` module this store uses: `require('Storage')`. @runtime */
export interface StorageLike {
  open(name: string, mode: string): StorageFileLike;
}

export class EspruinoStore implements AppendLog {
  private readonly storage: StorageLike;
  private readonly names: string[];
  /** Which of the two files is live, and its generation. */
  private live = 0;
  private generation = 0;
  private appender: StorageFileLike | null = null;

  /** Compact when the log reaches this many times the outbox's size (default 4). */
  compactFactor = 4;

  /** `name`: up to 7 characters; the files are `name` + "0" and `name` + "1". */
  constructor(storage: StorageLike, name: string) {
    this.storage = storage;
    this.names = [name + '0', name + '1'];
  }

  load(entry: (bytes: Uint8Array) => void): void {
    const g0 = this.scan(0);
    const g1 = this.scan(1);
    if (g0 < 0 && g1 < 0) {
      this.start(0, 1);
      return;
    }
    this.live = g1 > g0 ? 1 : 0;
    this.generation = g1 > g0 ? g1 : g0;
    this.storage.open(this.names[1 - this.live], 'r').erase(); // an older or unfinished generation
    const f = this.storage.open(this.names[this.live], 'r');
    for (let line = f.readLine(); line !== undefined; line = f.readLine()) {
      const text = line.charAt(line.length - 1) === '\n' ? line.substring(0, line.length - 1) : line;
      if (text.length === 0 || text.charAt(0) === '#') continue;
      let raw: string;
      try {
        raw = atob(text);
      } catch (e) {
        continue; // a line cut short by a reset mid-write
      }
      const bytes = new Uint8Array(raw.length);
      for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
      entry(bytes);
    }
  }

  append(bytes: Uint8Array): void {
    if (!this.appender) this.appender = this.storage.open(this.names[this.live], 'a');
    this.appender.write(line(bytes));
  }

  rewrite(write: (append: (bytes: Uint8Array) => void) => void): void {
    const next = 1 - this.live;
    this.storage.open(this.names[next], 'r').erase();
    const f = this.storage.open(this.names[next], 'a');
    f.write('#G' + (this.generation + 1) + '\n');
    write(function (bytes: Uint8Array) {
      f.write(line(bytes));
    });
    f.write('#C\n'); // whole from here: it wins at the next load
    this.storage.open(this.names[this.live], 'r').erase();
    this.live = next;
    this.generation++;
    this.appender = f;
  }

  /** The generation of file `k` when it is whole (its "#C" line was written), else -1. */
  private scan(k: number): number {
    const f = this.storage.open(this.names[k], 'r');
    const g = f.readLine();
    if (g === undefined || g.charAt(0) !== '#' || g.charAt(1) !== 'G') return -1;
    for (let line = f.readLine(); line !== undefined; line = f.readLine()) {
      if (line.charAt(0) === '#' && line.charAt(1) === 'C') return parseInt(g.substring(2), 10);
    }
    return -1;
  }

  private start(k: number, generation: number): void {
    const f = this.storage.open(this.names[k], 'r');
    f.erase();
    const w = this.storage.open(this.names[k], 'a');
    w.write('#G' + generation + '\n#C\n');
    this.live = k;
    this.generation = generation;
    this.appender = w;
  }
}

function line(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return btoa(s) + '\n';
}
