/**
 * A byte FIFO over one Uint8Array of fixed capacity.
 *
 * Microcontrollers cannot afford realloc and heap fragmentation, so a ring is
 * sized once and never allocates again: every method below works in place.
 * Bytes live in `bytes[start .. start+length)` modulo `capacity`.
 */
export class Ring {
  readonly bytes: Uint8Array;
  readonly capacity: number;
  /** Index of the oldest byte. */
  start = 0;
  /** Bytes held. */
  length = 0;

  /** A ring of `capacity` bytes, or over a slice of an arena the caller owns. */
  constructor(capacityOrStorage: number | Uint8Array) {
    this.bytes = typeof capacityOrStorage === 'number' ? new Uint8Array(capacityOrStorage) : capacityOrStorage;
    this.capacity = this.bytes.length;
  }

  get free(): number {
    return this.capacity - this.length;
  }

  /** Appends as much of `src[off, off+len)` as fits; returns how many bytes went in. */
  write(src: Uint8Array, off?: number, len?: number): number {
    const from = off || 0;
    let n = len === undefined ? src.length - from : len;
    if (n > this.free) n = this.free;
    let tail = this.start + this.length;
    if (tail >= this.capacity) tail -= this.capacity;
    const first = n < this.capacity - tail ? n : this.capacity - tail;
    this.bytes.set(first === src.length && from === 0 ? src : src.subarray(from, from + first), tail);
    if (n > first) this.bytes.set(src.subarray(from + first, from + n), 0);
    this.length += n;
    return n;
  }

  /** Appends a binary string (one byte per char code, low 8 bits); returns bytes written. */
  writeString(s: string): number {
    let n = s.length;
    if (n > this.free) n = this.free;
    let tail = this.start + this.length;
    if (tail >= this.capacity) tail -= this.capacity;
    const bytes = this.bytes;
    for (let i = 0; i < n; i++) {
      bytes[tail] = s.charCodeAt(i);
      if (++tail === this.capacity) tail = 0;
    }
    this.length += n;
    return n;
  }

  /** Appends one byte; false when full. */
  writeByte(b: number): boolean {
    if (this.length === this.capacity) return false;
    let tail = this.start + this.length;
    if (tail >= this.capacity) tail -= this.capacity;
    this.bytes[tail] = b;
    this.length++;
    return true;
  }

  /** The byte at `offset` from the oldest one, or -1 past the end. */
  peek(offset: number): number {
    if (offset < 0 || offset >= this.length) return -1;
    let i = this.start + offset;
    if (i >= this.capacity) i -= this.capacity;
    return this.bytes[i];
  }

  /** Copies `len` bytes from `offset` into `dst` at `dstOff` without consuming; returns bytes copied. */
  copyTo(dst: Uint8Array, dstOff: number, offset: number, len: number): number {
    if (offset >= this.length) return 0;
    let n = len < this.length - offset ? len : this.length - offset;
    if (n > dst.length - dstOff) n = dst.length - dstOff;
    let i = this.start + offset;
    if (i >= this.capacity) i -= this.capacity;
    const first = n < this.capacity - i ? n : this.capacity - i;
    dst.set(this.bytes.subarray(i, i + first), dstOff);
    if (n > first) dst.set(this.bytes.subarray(0, n - first), dstOff + first);
    return n;
  }

  /** Moves up to `len` bytes (default: as many as fit in `dst`) into `dst`; returns bytes read. */
  read(dst: Uint8Array, dstOff?: number, len?: number): number {
    const at = dstOff || 0;
    const n = this.copyTo(dst, at, 0, len === undefined ? dst.length - at : len);
    this.discard(n);
    return n;
  }

  /** Drops up to `n` of the oldest bytes; returns how many were dropped. */
  discard(n: number): number {
    if (n >= this.length) {
      n = this.length;
      this.start = 0; // an empty ring restarts at 0 so the next write is contiguous
      this.length = 0;
      return n;
    }
    if (n <= 0) return 0;
    this.start += n;
    if (this.start >= this.capacity) this.start -= this.capacity;
    this.length -= n;
    return n;
  }

  /** Empties the ring; the next write goes to `at` (default 0). */
  clear(at?: number): void {
    this.start = at || 0;
    this.length = 0;
  }

  /**
   * Offset of the first occurrence of a byte, or of a byte sequence / binary string, at or after `from`; -1 if absent.
   * (Not named indexOf: device bundles drop unused methods by name, and every string has an indexOf.)
   */
  find(needle: number | Uint8Array | string, from?: number): number {
    const first = typeof needle === 'number' ? needle : typeof needle === 'string' ? needle.charCodeAt(0) : needle[0];
    const size = typeof needle === 'number' ? 1 : needle.length;
    let at = from || 0;
    while (at + size <= this.length) {
      const hit = this.indexOfByte(first, at);
      if (hit < 0 || hit + size > this.length) return -1;
      if (size === 1 || this.matchesAt(needle as Uint8Array | string, hit)) return hit;
      at = hit + 1;
    }
    return -1;
  }

  private indexOfByte(b: number, from: number): number {
    let i = this.start + from;
    if (i >= this.capacity) i -= this.capacity;
    const endAbs = this.start + this.length;
    if (i >= this.start && endAbs > this.capacity) {
      // Held bytes wrap: search [i, capacity) then [0, end).
      const hit = this.bytes.subarray(i, this.capacity).indexOf(b);
      if (hit >= 0) return from + hit;
      const hit2 = this.bytes.subarray(0, endAbs - this.capacity).indexOf(b);
      return hit2 < 0 ? -1 : from + (this.capacity - i) + hit2;
    }
    const stop = endAbs > this.capacity ? endAbs - this.capacity : endAbs;
    const hit = this.bytes.subarray(i, stop).indexOf(b);
    return hit < 0 ? -1 : from + hit;
  }

  private matchesAt(needle: Uint8Array | string, offset: number): boolean {
    for (let k = 1; k < needle.length; k++) {
      const want = typeof needle === 'string' ? needle.charCodeAt(k) : needle[k];
      if (this.peek(offset + k) !== want) return false;
    }
    return true;
  }

  /** Bytes readable as one contiguous run starting at `bytes[start]`. */
  contiguousLength(): number {
    const run = this.capacity - this.start;
    return this.length < run ? this.length : run;
  }

  /**
   * Offers the held bytes, oldest first, run by run to `sink.put` and discards
   * what it took; stops when it takes less than a run. Returns bytes taken.
   * A stream socket's `write` is this.
   */
  drainTo(sink: { put(src: Uint8Array, off: number, len: number): number }): number {
    let total = 0;
    while (this.length > 0) {
      const run = this.contiguousLength();
      const took = sink.put(this.bytes, this.start, run);
      if (took <= 0) break;
      this.discard(took);
      total += took;
      if (took < run) break;
    }
    return total;
  }

  /** A view of the first contiguous run of held bytes (a view object; the bytes are not copied). */
  contiguous(): Uint8Array {
    return this.bytes.subarray(this.start, this.start + this.contiguousLength());
  }

  /**
   * Marks `n` bytes written directly at the tail as held (for drivers that
   * read straight into the ring), and answers the index in storage where the
   * next byte would be written: `commit(0)` only asks. A negative `n` gives
   * the newest `-n` held bytes back (codecs drop framing left at the tail this
   * way). One method for both: each function object costs RAM on the device.
   */
  commit(n: number): number {
    this.length += n;
    const t = this.start + this.length;
    return t >= this.capacity ? t - this.capacity : t;
  }

  /** The held bytes from `offset` as a binary string (for small headers and topics). */
  toBinaryString(offset?: number, len?: number): string {
    const from = offset || 0;
    const n = len === undefined ? this.length - from : len;
    let s = '';
    for (let k = 0; k < n; k++) s += String.fromCharCode(this.peek(from + k));
    return s;
  }
}
