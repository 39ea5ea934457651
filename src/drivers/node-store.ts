/**
 * The MQTT outbox store on Node: an append-only file of length-prefixed
 * entries (4-byte big-endian length, then the entry). A torn last entry (the
 * process died mid-write) is cut off at load. Compaction writes a new file and
 * renames it over the old one, so a crash leaves one whole log or the other.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, truncateSync, writeSync } from 'node:fs';
import type { AppendLog } from '../core/append-log.js';

export interface NodeFileStoreOptions {
  /** fsync after every append and compaction: survives power loss, not just a process restart (default false). */
  fsync?: boolean;
  /** Compact when the file reaches this many times the outbox's size (default 4). */
  compactFactor?: number;
}

export class NodeFileStore implements AppendLog {
  readonly path: string;
  private fd = -1;
  private readonly fsync: boolean;
  readonly compactFactor: number;

  constructor(path: string, opts?: NodeFileStoreOptions) {
    this.path = path;
    this.fsync = !!(opts && opts.fsync);
    this.compactFactor = (opts && opts.compactFactor) || 4;
  }

  load(entry: (bytes: Uint8Array) => void): void {
    if (!existsSync(this.path)) return;
    const data = readFileSync(this.path);
    let at = 0;
    while (at + 4 <= data.length) {
      const n = data.readUInt32BE(at);
      if (at + 4 + n > data.length) break;
      entry(data.subarray(at + 4, at + 4 + n));
      at += 4 + n;
    }
    if (at < data.length) {
      this.close();
      truncateSync(this.path, at); // so the next append does not follow a torn entry
    }
  }

  append(bytes: Uint8Array): void {
    if (this.fd < 0) this.fd = openSync(this.path, 'a');
    writeSync(this.fd, frame(bytes));
    if (this.fsync) fsyncSync(this.fd);
  }

  rewrite(write: (append: (bytes: Uint8Array) => void) => void): void {
    const tmp = this.path + '.tmp';
    const fd = openSync(tmp, 'w');
    try {
      write(function (bytes: Uint8Array) {
        writeSync(fd, frame(bytes));
      });
      if (this.fsync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.close();
    renameSync(tmp, this.path);
  }

  /** Closes the file (a later append reopens it). */
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

function frame(bytes: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(4 + bytes.length);
  b.writeUInt32BE(bytes.length, 0);
  b.set(bytes, 4);
  return b;
}
