/**
 * Moves an outgoing HTTP message into a connection's send ring.
 *
 * `c.send()` is all-or-nothing and the ring is small, so nothing here assumes
 * a message fits: pieces (strings, byte arrays, ranges of a stored file) wait
 * here *by reference* and `pump()` copies as much as the ring has room for,
 * again on every SEND. The caller's bytes are never copied into a buffer of
 * ours, and there is never more than a handful of pieces waiting.
 */
import type { Connection } from '../../core/connection.js';

/** Read access to stored files: a folder on Node, Espruino's Storage on the device. */
export interface FileStore {
  /** Size in bytes of the file `name`, or -1 when there is none. */
  size(name: string): number;
  /** Copies up to `len` bytes of `name` from `offset` into `dst` at `dstOff`; returns how many (0 at the end). */
  read(name: string, offset: number, dst: Uint8Array, dstOff: number, len: number): number;
}

/** A stretch of a stored file to send. */
export interface FilePiece {
  store: FileStore;
  name: string;
  offset: number;
  end: number;
}

export type Piece = string | Uint8Array | FilePiece;

/** The pieces waiting are bounded by the writers' API; more than this is a bug, not load. */
const MAX_PIECES = 8;

export class Outbox {
  private readonly pieces: Piece[] = [];
  /** Bytes of `pieces[0]` already sent. */
  private offset = 0;
  /** Pieces ever pushed, and ever finished: a writer compares them with its own marks. */
  pushed = 0;
  finished = 0;

  /**
   * @param c the connection written to
   * @param scratch where file bytes pass through on their way to the ring (shared, sized once)
   */
  constructor(
    private readonly c: Connection,
    private readonly scratch: () => Uint8Array,
  ) {}

  /** Nothing waits. */
  get empty(): boolean {
    return this.pieces.length === 0;
  }

  push(piece: Piece): void {
    if (this.pieces.length >= MAX_PIECES) throw new Error('http: too many pieces queued');
    this.pieces.push(piece);
    this.pushed++;
  }

  /** Drops everything waiting (the connection is going away). */
  clear(): void {
    this.finished += this.pieces.length;
    this.pieces.splice(0, this.pieces.length); // (`length = 0` throws on Espruino)
    this.offset = 0;
  }

  /** Copies what fits into the send ring; true when nothing is left waiting. */
  pump(): boolean {
    const c = this.c;
    const pieces = this.pieces;
    while (pieces.length > 0) {
      const room = c.unsent.free;
      if (room <= 0 || !c.canSend(1)) return false;
      const p = pieces[0];
      let done: boolean;
      if (typeof p === 'string') {
        const left = p.length - this.offset;
        const n = left < room ? left : room;
        c.send(this.offset === 0 && n === p.length ? p : p.substring(this.offset, this.offset + n));
        this.offset += n;
        done = this.offset === p.length;
      } else if (p instanceof Uint8Array) {
        const left = p.length - this.offset;
        const n = left < room ? left : room;
        c.send(this.offset === 0 && n === p.length ? p : p.subarray(this.offset, this.offset + n));
        this.offset += n;
        done = this.offset === p.length;
      } else {
        const buf = this.scratch();
        let n = p.end - p.offset;
        if (n > room) n = room;
        if (n > buf.length) n = buf.length;
        const got = n > 0 ? p.store.read(p.name, p.offset, buf, 0, n) : 0;
        if (got > 0) c.send(buf.subarray(0, got));
        p.offset += got;
        // a file that shrank while being sent cannot be padded honestly: close after what there is
        if (got === 0 && p.offset < p.end) {
          c.end();
          this.clear();
          return true;
        }
        done = p.offset >= p.end;
      }
      if (!done) return false;
      pieces.shift();
      this.finished++;
      this.offset = 0;
    }
    return true;
  }
}
