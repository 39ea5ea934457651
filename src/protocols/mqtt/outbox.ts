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
 * topic arrives. Every drop is counted and reported to `sink` (DROPPED).
 *
 * With a journal (`journal` in store.ts, over a store), QoS 1/2 records are reported as
 * they are added, released and done, so the store can keep them over a restart.
 */
import { Ring } from '../../core/ring.js';
import { encode } from './codec.js';
import type { PublishPacket } from './codec.js';
import { DropReason, MqttEv } from './events.js';
import type { MqttDropped } from './events.js';
import { utf8Read } from '../utf8.js';

/** Record state bits. */
const enum St {
  DONE = 1,
  /** QoS 2: PUBREC came, PUBREL is what to (re)send. */
  RELEASED = 2,
}

/** What `Outbox.info` reads from a record. */
export enum Field {
  /** The record's bytes: state byte + packet. */
  SIZE = 0,
  QOS = 1,
  /** Packet identifier (0 for QoS 0). */
  ID = 2,
  /** 1 once done (sent at QoS 0, acknowledged, or dropped; a tombstone until the head passes it). */
  DONE = 3,
  /** 1 once a QoS 2 record got PUBREC: PUBREL is what to (re)send. */
  RELEASED = 4,
  /** Where the next record starts (the end of the area counts as 0). */
  AFTER = 5,
  /** Where the topic's length prefix is. */
  TOPIC = 6,
}

/** Marks the unused end of the area after the last record. */
const PAD = 0xff;

export interface OutboxOptions {
  bytes: number;
  count: number;
  refuseNew?: boolean;
  latestPerTopic?: boolean;
}

/** What an outbox tells its store about QoS 1/2 records. */
export interface Journal {
  /** `record` is the state byte (0, which reads as Entry.ADD) and the PUBLISH packet. */
  added(record: Uint8Array): void;
  done(id: number): void;
  released(id: number): void;
}

export class Outbox {
  readonly buf: Uint8Array;
  readonly capacity: number;
  readonly maxCount: number;
  // As given (undefined when unset): on the device a boolean field costs a variable more than an undefined one.
  readonly refuseNew?: boolean;
  readonly latestPerTopic?: boolean;
  /** Told about QoS 1/2 records as they are added, released and done (persistence); undefined: none. */
  journal?: Journal;
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
  dropCount = 0;
  /** The most bytes ever in use. */
  mostUsed = 0;
  /** Store operations that threw (the outbox goes on in RAM). */
  journalErrors = 0;
  /** The newest packet identifier restored from a store (0: none). */
  restoredId = 0;
  /** Told about each drop (DROPPED) before the record goes; null: nobody. */
  sink: { report(ev: MqttEv.DROPPED, data: MqttDropped): void } | null = null;
  /** During a DROPPED event: the dropped record's offset, -1 for a refused new message. */
  dropAt = -1;
  /** Writes records in place: its start is moved to each record before encoding. */
  private readonly writer: Ring;

  constructor(o: OutboxOptions) {
    this.capacity = o.bytes;
    this.buf = new Uint8Array(o.bytes);
    this.writer = new Ring(this.buf);
    this.maxCount = o.count > 0 ? o.count : 1;
    this.refuseNew = o.refuseNew;
    this.latestPerTopic = o.latestPerTopic;
  }

  // ----------------------------------------------------- reading records
  // One method reads every numeric field (on Espruino each function object costs RAM).

  /** A field of the record at `at` (see Field). */
  info(at: number, f: Field): number {
    const buf = this.buf;
    switch (f) {
      case Field.QOS:
        return (buf[at + 1] >> 1) & 3;
      case Field.DONE:
        return buf[at] & St.DONE;
      case Field.RELEASED:
        return (buf[at] & St.RELEASED) >> 1;
    }
    let i = at + 2;
    let rl = 0;
    let mul = 1;
    let b: number;
    do {
      b = buf[i++];
      rl += (b & 127) * mul;
      mul *= 128;
    } while (b & 128);
    // `i` is where the topic's length prefix is, and the record ends at `i + rl`.
    switch (f) {
      case Field.SIZE:
        return i - at + rl;
      case Field.AFTER:
        return i + rl === this.capacity ? 0 : i + rl;
      case Field.TOPIC:
        return i;
    }
    if (!((buf[at + 1] >> 1) & 3)) return 0; // Field.ID: none at QoS 0
    const t = i + 2 + ((buf[i] << 8) | buf[i + 1]);
    return (buf[t] << 8) | buf[t + 1];
  }

  topic(at: number): string {
    const t = this.info(at, Field.TOPIC);
    return utf8Read(this.buf, t + 2, (this.buf[t] << 8) | this.buf[t + 1], this.capacity) || '';
  }

  /** Calls `fn` for each held record, oldest first, until it returns true; returns that record or -1. */
  scan(fn: (at: number) => boolean): number {
    let at = this.head;
    for (let k = 0; k < this.count; k++) {
      if (this.buf[at] === PAD) at = 0;
      if (fn(at)) return at;
      at = this.info(at, Field.AFTER);
    }
    return -1;
  }

  // ----------------------------------------------------- adding

  /**
   * Queues `p` (its packet identifier already set for QoS 1/2). Returns the
   * record's offset, -1 when `p` cannot be encoded, -2 when it was refused
   * (full with `refuseNew`, or larger than the whole outbox): a drop, reported.
   */
  add(p: PublishPacket): number {
    const n = encode(p, null);
    if (n < 0) return -1;
    const size = n + 1;
    const buf = this.buf;
    if (this.latestPerTopic) {
      // Drops unsent records with this topic: a newer value supersedes them.
      let r = this.cursor;
      const pending = this.pending; // drops below may move the cursor; records themselves never move
      for (let k = 0; k < pending; k++) {
        if (buf[r] === PAD) r = 0;
        const next = this.info(r, Field.AFTER);
        if (!(buf[r] & St.DONE) && this.topic(r) === p.topic) this.finish(r, DropReason.REPLACED);
        r = next;
      }
    }
    let at: number;
    for (;;) {
      // Where a record of `size` bytes can go (-1: nowhere now). 0 with `tail` > 0 means "wrap".
      const head = this.head;
      const tail = this.tail;
      at = -1;
      if (this.count === 0) {
        this.head = this.tail = this.cursor = 0;
        if (size <= this.capacity) at = 0;
      } else if (tail > head) {
        at = this.capacity - tail >= size ? tail : head >= size ? 0 : -1;
      } else if (tail < head && head - tail >= size) {
        at = tail;
      }
      if (at >= 0 && this.live < this.maxCount) break;
      if (this.refuseNew || size > this.capacity) {
        this.dropCount++;
        this.dropAt = -1;
        if (this.sink) this.sink.report(MqttEv.DROPPED, { reason: size > this.capacity ? DropReason.TOO_BIG : DropReason.REFUSED, topic: p.topic, qos: p.qos, id: p.id, total: this.dropCount });
        return -2;
      }
      this.finish(this.head, DropReason.OLDEST); // the head is live: done records at the head are gone already
    }
    if (at === 0 && this.tail > 0) {
      buf[this.tail] = PAD;
      this.used += this.capacity - this.tail;
    }
    buf[at] = 0;
    const w = this.writer;
    w.discard(w.length); // the writer, empty, at the record's packet (not Ring.clear: a call of it keeps that method in the device bundle)
    w.start = at + 1;
    encode(p, w);
    if (this.count === 0) this.head = at;
    if (this.pending === 0) this.cursor = at;
    this.tail = at + size === this.capacity ? 0 : at + size;
    this.used += size;
    this.count++;
    this.live++;
    this.pending++;
    if (this.used > this.mostUsed) this.mostUsed = this.used;
    if (p.qos && this.journal) this.journal.added(buf.subarray(at, at + size));
    return at;
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
    this.cursor = this.info(this.cursor, Field.AFTER);
    this.pending--;
  }

  /** A new connection: everything not done is to be sent again. (Session.handle does this itself on CONNACK.) */
  rewind(): void {
    this.cursor = this.head;
    this.pending = this.count;
  }

  /** Marks a sent QoS 1/2 record so every later send of it says DUP. (Session.pump does this itself.) */
  setDup(at: number): void {
    this.buf[at + 1] |= 8;
  }

  /** QoS 2: PUBREC came; from now on PUBREL is what gets (re)sent. */
  release(at: number): void {
    if (this.buf[at] & St.RELEASED) return;
    this.buf[at] |= St.RELEASED;
    if (this.journal) this.journal.released(this.info(at, Field.ID));
  }

  // ----------------------------------------------------- removing

  /**
   * The record is done with (sent at QoS 0, acknowledged, or dropped, when a
   * `reason` is given: counted and reported): frees what the head can pass.
   */
  finish(at: number, reason?: DropReason): void {
    if (reason) {
      this.dropCount++;
      this.dropAt = at;
      if (this.sink) this.sink.report(MqttEv.DROPPED, { reason: reason, topic: this.topic(at), qos: this.info(at, Field.QOS), id: this.info(at, Field.ID), total: this.dropCount });
    }
    const buf = this.buf;
    if (buf[at] & St.DONE) return;
    buf[at] |= St.DONE;
    this.live--;
    if (this.journal && this.info(at, Field.QOS)) this.journal.done(this.info(at, Field.ID));
    for (;;) {
      if (this.count > 0 && buf[this.head] === PAD) {
        this.used -= this.capacity - this.head;
        this.head = 0;
      }
      if (this.count === 0 || !(buf[this.head] & St.DONE)) break;
      if (this.pending === this.count) this.pending--; // the cursor was on it
      this.used -= this.info(this.head, Field.SIZE);
      this.head = this.info(this.head, Field.AFTER);
      this.count--;
    }
    if (this.pending === this.count) this.cursor = this.head; // set after the PAD check: a PAD's byte is reused once passed
  }
}
