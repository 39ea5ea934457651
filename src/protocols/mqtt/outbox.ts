/**
 * The outbox: publishes waiting to be sent or acknowledged, in one byte area
 * allocated once, bounded by bytes and by count.
 *
 * Each record is one state byte followed by the encoded PUBLISH packet, so a
 * send is one copy into the connection's ring and a resend only sets DUP in
 * place. Records never wrap: when one does not fit before the end of the area
 * a PAD byte marks the rest as unused and the record starts at 0. Records
 * leave only from the head; one acknowledged out of order stays as a done
 * tombstone until the head reaches it.
 *
 * When full, the default policy drops the oldest record (even one in flight:
 * the newest reading is worth more); `refuseNew` refuses the new one instead;
 * `latestPerTopic` drops a not-yet-sent record when a newer one for the same
 * topic arrives. Every drop is counted and reported through `onDrop`.
 *
 * With a journal (from a store's `attach`), QoS 1/2 records are reported as
 * they are added, released and done, so the store can keep them over a restart.
 */
import { Ring } from '../../core/ring.js';
import { encode } from './codec.js';
import type { PublishPacket } from './codec.js';
import type { Journal } from './store.js';
import { utf8Read } from '../utf8.js';

export const enum DropReason {
  /** The outbox was full and this, the oldest, made room (default policy). */
  OLDEST = 1,
  /** The outbox was full and refused this new one (`refuseNew`). */
  REFUSED = 2,
  /** A newer message for the same topic replaced this unsent one (`latestPerTopic`). */
  REPLACED = 3,
  /** Larger than the outbox, or than the connection's send ring. */
  TOO_BIG = 4,
}

/** Record state bits. */
const enum St {
  DONE = 1,
  /** QoS 2: PUBREC came, PUBREL is what to (re)send. */
  RELEASED = 2,
}

/** Marks the unused end of the area after the last record. */
const PAD = 0xff;

export interface OutboxOptions {
  bytes: number;
  count: number;
  refuseNew?: boolean;
  latestPerTopic?: boolean;
}

export class Outbox {
  readonly buf: Uint8Array;
  readonly capacity: number;
  readonly maxCount: number;
  readonly refuseNew: boolean;
  readonly latestPerTopic: boolean;
  /** Told about QoS 1/2 records as they are added, released and done (persistence); null: none. */
  journal: Journal | null = null;
  /** Byte offset of the oldest record, of where the next goes, and bytes in use (padding included). */
  head = 0;
  tail = 0;
  used = 0;
  /** Records held, done tombstones included. */
  count = 0;
  /** Records not done: waiting or in flight. */
  live = 0;
  /** The next record to send on this connection, and how many records lie from it to the tail. */
  cursor = 0;
  pending = 0;
  /** Records dropped over the outbox's life. */
  dropped = 0;
  /** The most bytes ever in use. */
  highWater = 0;
  /** Store operations that threw (the outbox goes on in RAM). */
  storeErrors = 0;
  /** The newest packet identifier restored from a store (0: none). */
  restoredId = 0;
  /** Told about each drop before the record goes; `at` is -1 for a refused new message. */
  onDrop: ((at: number, reason: DropReason, topic: string, qos: number, id: number) => void) | null = null;
  /** Writes records in place: its start is moved to each record before encoding. */
  private readonly writer: Ring;

  constructor(o: OutboxOptions) {
    this.capacity = o.bytes;
    this.buf = new Uint8Array(o.bytes);
    this.writer = new Ring(this.buf);
    this.maxCount = o.count > 0 ? o.count : 1;
    this.refuseNew = !!o.refuseNew;
    this.latestPerTopic = !!o.latestPerTopic;
  }

  // ----------------------------------------------------- reading records

  /** Size of the record at `at`: state byte + packet. */
  size(at: number): number {
    const buf = this.buf;
    let i = at + 2;
    let rl = 0;
    let mul = 1;
    let b: number;
    do {
      b = buf[i++];
      rl += (b & 127) * mul;
      mul *= 128;
    } while (b & 128);
    return i - at + rl;
  }

  qos(at: number): number {
    return (this.buf[at + 1] >> 1) & 3;
  }

  isDone(at: number): boolean {
    return (this.buf[at] & St.DONE) !== 0;
  }

  isReleased(at: number): boolean {
    return (this.buf[at] & St.RELEASED) !== 0;
  }

  /** Where the topic's length prefix is. */
  private topicAt(at: number): number {
    let i = at + 2;
    while (this.buf[i] & 128) i++;
    return i + 1;
  }

  /** Packet identifier of a QoS 1/2 record (0 for QoS 0). */
  id(at: number): number {
    if (!this.qos(at)) return 0;
    const buf = this.buf;
    const t = this.topicAt(at);
    const i = t + 2 + ((buf[t] << 8) | buf[t + 1]);
    return (buf[i] << 8) | buf[i + 1];
  }

  topic(at: number): string {
    const t = this.topicAt(at);
    return utf8Read(this.buf, t + 2, (this.buf[t] << 8) | this.buf[t + 1], this.capacity) || '';
  }

  /** Position after the record at `at` (the end of the area counts as 0). */
  private after(at: number): number {
    const n = at + this.size(at);
    return n === this.capacity ? 0 : n;
  }

  /** Calls `fn` for each held record, oldest first, until it returns true; returns that record or -1. */
  find(fn: (at: number) => boolean): number {
    let at = this.head;
    for (let k = 0; k < this.count; k++) {
      if (this.buf[at] === PAD) at = 0;
      if (fn(at)) return at;
      at = this.after(at);
    }
    return -1;
  }

  // ----------------------------------------------------- adding

  /** Where a record of `n` bytes can go (-1: nowhere now). A result of 0 with `tail` > 0 means "wrap". */
  private room(n: number): number {
    if (this.count === 0) {
      this.head = this.tail = this.cursor = 0;
      return n <= this.capacity ? 0 : -1;
    }
    const head = this.head;
    const tail = this.tail;
    if (tail > head) {
      if (this.capacity - tail >= n) return tail;
      return head >= n ? 0 : -1;
    }
    return tail < head && head - tail >= n ? tail : -1;
  }

  /**
   * Queues `p` (its packet identifier already set for QoS 1/2). Returns the
   * record's offset, -1 when `p` cannot be encoded, -2 when it was refused
   * (full with `refuseNew`, or larger than the whole outbox): a drop, reported.
   */
  add(p: PublishPacket): number {
    const n = encode(p, null);
    if (n < 0) return -1;
    const size = n + 1;
    if (this.latestPerTopic) this.replaceQueued(p.topic);
    let at: number;
    while ((at = this.room(size)) < 0 || this.live >= this.maxCount) {
      if (this.refuseNew || size > this.capacity) {
        this.dropped++;
        if (this.onDrop) this.onDrop(-1, size > this.capacity ? DropReason.TOO_BIG : DropReason.REFUSED, p.topic, p.qos, p.id);
        return -2;
      }
      this.drop(this.head, DropReason.OLDEST); // the head is live: done records at the head are gone already
    }
    const buf = this.buf;
    if (at === 0 && this.tail > 0) {
      buf[this.tail] = PAD;
      this.used += this.capacity - this.tail;
    }
    buf[at] = 0;
    const w = this.writer;
    w.clear(at + 1);
    encode(p, w);
    if (this.count === 0) this.head = at;
    if (this.pending === 0) this.cursor = at;
    this.tail = at + size === this.capacity ? 0 : at + size;
    this.used += size;
    this.count++;
    this.live++;
    this.pending++;
    if (this.used > this.highWater) this.highWater = this.used;
    if (p.qos && this.journal) this.journal.added(buf.subarray(at, at + size));
    return at;
  }

  /** Drops unsent records with this topic: a newer value supersedes them. */
  private replaceQueued(topic: string): void {
    let at = this.cursor;
    const n = this.pending; // drops below may move the cursor; records themselves never move
    for (let k = 0; k < n; k++) {
      if (this.buf[at] === PAD) at = 0;
      const next = this.after(at);
      if (!(this.buf[at] & St.DONE) && this.topic(at) === topic) this.drop(at, DropReason.REPLACED);
      at = next;
    }
  }

  // ----------------------------------------------------- sending

  /** The next record to send on this connection, or -1. Done ones are skipped. */
  next(): number {
    while (this.pending > 0) {
      if (this.buf[this.cursor] === PAD) this.cursor = 0;
      if (!(this.buf[this.cursor] & St.DONE)) return this.cursor;
      this.advance();
    }
    return -1;
  }

  /** Moves the cursor past the record `next()` returned. */
  advance(): void {
    this.cursor = this.after(this.cursor);
    this.pending--;
  }

  /** A new connection: everything not done is to be sent again. */
  rewind(): void {
    this.cursor = this.head;
    this.pending = this.count;
  }

  /** Marks a sent QoS 1/2 record so every later send of it says DUP. */
  setDup(at: number): void {
    this.buf[at + 1] |= 8;
  }

  /** QoS 2: PUBREC came; from now on PUBREL is what gets (re)sent. */
  release(at: number): void {
    if (this.buf[at] & St.RELEASED) return;
    this.buf[at] |= St.RELEASED;
    if (this.journal) this.journal.released(this.id(at));
  }

  // ----------------------------------------------------- removing

  /** Drops a record (counted, reported) and frees it. */
  drop(at: number, reason: DropReason): void {
    this.dropped++;
    if (this.onDrop) this.onDrop(at, reason, this.topic(at), this.qos(at), this.id(at));
    this.finish(at);
  }

  /** The record is done with (sent at QoS 0, acknowledged, or dropped): frees what the head can pass. */
  finish(at: number): void {
    const buf = this.buf;
    if (buf[at] & St.DONE) return;
    buf[at] |= St.DONE;
    this.live--;
    if (this.qos(at) && this.journal) this.journal.done(this.id(at));
    for (;;) {
      if (this.count > 0 && buf[this.head] === PAD) {
        this.used -= this.capacity - this.head;
        this.head = 0;
      }
      if (this.count === 0 || !(buf[this.head] & St.DONE)) break;
      if (this.pending === this.count) this.pending--; // the cursor was on it
      this.used -= this.size(this.head);
      this.head = this.after(this.head);
      this.count--;
    }
    if (this.pending === this.count) this.cursor = this.head; // set after the PAD check: a PAD's byte is reused once passed
  }
}
