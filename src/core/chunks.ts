/**
 * The one receive queue of every driver's stream: chunks as the runtime
 * delivered them, held until the manager moves them into the connection's
 * recv ring. On Espruino a chunk is a binary string, which its typed arrays'
 * `set()` copies as char codes, natively; on Node and in the simulator it is
 * bytes. A driver appends a chunk with `chunks.push(chunk)` and adds its
 * length to `heldBytes`.
 *
 * readChunks is written as a method of the stream (`this` is the queue) so
 * the Espruino driver installs it on its stream's prototype as `readInto`: on
 * the device a wrapper method would be one function object more.
 */
import type { Ring } from './ring.js';

export type Chunk = string | Uint8Array;

/** The fields a stream keeps its queue in (on the stream itself: a separate object per socket costs device RAM). */
export interface ChunkQueue {
  /** Received chunks not yet moved into a ring, oldest first. */
  chunks: Chunk[];
  /** Bytes of `chunks[0]` already moved. (Not `offset`: the device build keeps that name long, the interpreter's own.) */
  headMoved: number;
  /** Bytes held in all. */
  heldBytes: number;
}

/**
 * Moves held bytes into the ring's free space, oldest first, at most `max`
 * when given; returns how many. A whole chunk is copied as it is, and only a
 * chunk the ring cuts (its end, or a smaller `max`) is sliced.
 */
export function readChunks(this: ChunkQueue, into: Ring, max?: number): number {
  const budget = max !== undefined && max < into.free ? max : into.free;
  let moved = 0;
  while (this.chunks.length > 0 && moved < budget) {
    const chunk = this.chunks[0];
    let n = chunk.length - this.headMoved;
    if (n > budget - moved) n = budget - moved;
    // At most two runs: up to the ring's end, then from its start.
    let at = into.commit(0);
    for (let done = 0; done < n; at = 0) {
      const from = this.headMoved + done;
      const run = n - done < into.capacity - at ? n - done : into.capacity - at;
      const piece = from === 0 && run === chunk.length ? chunk : typeof chunk === 'string' ? chunk.substring(from, from + run) : chunk.subarray(from, from + run);
      into.bytes.set(piece as ArrayLike<number>, at);
      done += run;
    }
    into.commit(n);
    moved += n;
    this.headMoved += n;
    if (this.headMoved >= chunk.length) {
      this.chunks.shift();
      this.headMoved = 0;
    }
  }
  this.heldBytes -= moved;
  return moved;
}

