/**
 * The SNTP client: one UDP exchange on the core, retried, checked, and turned
 * into a wall clock that runs on the manager's own (monotonic) clock.
 */
import type { Endpoint } from '../../core/address.js';
import { parseAddress } from '../../core/address.js';
import type { Connection, WithState } from '../../core/connection.js';
import { Ev } from '../../core/events.js';
import type { Manager } from '../../core/manager.js';
import { SNTP_PACKET_BYTES, decodeReply, encodeRequest } from './codec.js';
import type { NtpTimestamp } from './codec.js';
import { indexOfText } from '../../core/text.js';

export enum SntpEv {
  /** The clock was set; data: SntpTime. */
  TIME = 400,
  /** No usable answer after every try; data: the reason. */
  FAILED = 401,
}

export interface SntpTime {
  /** Unix ms at the moment the reply arrived. */
  unixMs: number;
  /** Round-trip delay, ms, less the server's own processing time. */
  delayMs: number;
  stratum: number;
}

export interface SntpEvents {
  [SntpEv.TIME]: SntpTime;
  [SntpEv.FAILED]: string;
}

export interface SntpOptions {
  /** ms to wait for each reply (default 2000). */
  timeoutMs?: number;
  /** Requests before giving up (default 3). */
  tries?: number;
  /** Connection pool for the UDP socket. */
  pool?: string;
  /** sntpKeep: ms from a sync to the next (default one hour). */
  everyMs?: number;
  /** sntpKeep: ms before retrying a failed sync, doubled after each failure up to `everyMs` (default 10 s). */
  retryMs?: number;
  /** sntpKeep: ms before the first sync (default 0: at once). A small board staggers its start-up connections with it. */
  startMs?: number;
}

/** Wall time derived from one SNTP exchange, advancing on the manager's clock. */
export class SntpClock {
  /** @internal Set by the client (no setter method: each function object costs RAM on the device). */
  baseUnixMs = 0;
  /** @internal The manager's clock when `baseUnixMs` was true; -1 before the first sync. */
  baseMono = -1;

  constructor(private readonly mgr: Manager) {}

  get synced(): boolean {
    return this.baseMono >= 0;
  }

  /** Unix ms now, or -1 before the first sync. */
  now(): number {
    return this.baseMono < 0 ? -1 : this.baseUnixMs + (this.mgr.driver.now() - this.baseMono);
  }
}

interface Exchange {
  clock: SntpClock;
  triesLeft: number;
  timeoutMs: number;
  nonce: NtpTimestamp;
  sentAt: number;
  scratch: Uint8Array;
  done: boolean;
}

/**
 * The exchange, as one protocol handler shared by every sync (no closure per
 * request; sending a try is folded in at the end).
 */
function sntpProtocol(c: WithState<Exchange>, ev: number, data: any): void {
  const x = c.protocolState;
  if (x.done) return;
  let failed: string | null = null;
  let send = false;
  if (ev === Ev.CONNECT) {
    if (data === 0) send = true;
    else failed = 'UDP socket failed (' + data + ')';
  } else if (ev === Ev.ERROR || ev === Ev.CLOSE) {
    // The socket failed (on Node a name that does not resolve ends here) or was closed before an answer.
    failed = ev === Ev.ERROR ? data.message : 'closed';
  } else if (ev === Ev.RECV) {
    // Extension fields and MACs after the first 48 bytes are not used by SNTP.
    const reply = decodeReply(x.scratch, c.recv.copyTo(x.scratch, 0, 0, SNTP_PACKET_BYTES));
    if (typeof reply === 'string') return; // not ours or not usable: keep waiting for the timer
    if (reply.originate.seconds !== x.nonce.seconds || reply.originate.fraction !== x.nonce.fraction) return;
    x.done = true;
    c.setTimer(-1);
    if (reply.stratum === 0) {
      c.emit(SntpEv.FAILED, 'server refused: ' + reply.kissCode);
    } else {
      const now = c.now();
      const delay = now - x.sentAt - (reply.transmitMs - reply.receiveMs);
      const unixMs = reply.transmitMs + (delay > 0 ? delay / 2 : 0);
      x.clock.baseUnixMs = unixMs;
      x.clock.baseMono = now;
      c.emit(SntpEv.TIME, { unixMs: unixMs, delayMs: delay > 0 ? delay : 0, stratum: reply.stratum });
    }
    c.close();
    return;
  } else if (ev === Ev.TIMER) {
    if (x.triesLeft > 0) send = true;
    else {
      x.done = true;
      c.emit(SntpEv.FAILED, 'no reply');
      c.close();
      return;
    }
  }
  if (failed !== null) {
    x.done = true;
    c.emit(SntpEv.FAILED, failed);
  } else if (send) {
    x.nonce.fraction = (x.nonce.fraction + 1) >>> 0; // a fresh nonce per try, so a late reply to an old try is ignored
    x.sentAt = c.now();
    c.send(encodeRequest(x.scratch, x.nonce));
    c.setTimer(x.timeoutMs);
    x.triesLeft--;
  }
}

/**
 * Asks `url` (`udp://host:123`, `sntp://host`, or `host`) for the time and
 * sets `clock`. The handler gets SNTP_TIME or SNTP_FAILED (also when the
 * socket fails: a core ERROR comes after it), then CLOSE.
 * Returns null when the pool has no free connection.
 */
export function sntpSync(mgr: Manager, url: string, clock: SntpClock, handler: ((c: Connection, ev: number, data: any) => void) | null, opts?: SntpOptions): Connection | null {
  const o = opts || {};
  const ep: Endpoint = parseAddress(indexOfText(url, '://') < 0 ? 'sntp://' + url : url, '127.0.0.1', { sntp: 123, udp: 123, ntp: 123 });
  ep.scheme = 'udp';
  const mono = mgr.driver.now();
  const state: Exchange = {
    clock: clock,
    triesLeft: o.tries || 3,
    timeoutMs: o.timeoutMs || 2000,
    nonce: { seconds: Math.floor(mono / 1000) >>> 0, fraction: Math.floor(Math.random() * 4294967295) >>> 0 },
    sentAt: 0,
    scratch: new Uint8Array(SNTP_PACKET_BYTES),
    done: false,
  };
  return mgr.connect(ep, handler, { pool: o.pool, protocol: sntpProtocol, state: state });
}

/**
 * Keeps `clock` synchronized: syncs now, again `everyMs` after each success,
 * and retries a failure (or a full pool) after `retryMs`, doubling each time
 * up to `everyMs`, so a device that boots before its network is up gets the
 * time within seconds of it coming up. `handler` sees every exchange's events.
 */
export function sntpKeep(mgr: Manager, url: string, clock: SntpClock, handler: ((c: Connection, ev: number, data: any) => void) | null, opts?: SntpOptions): void {
  const o = opts || {};
  const every = o.everyMs || 3600000;
  const first = o.retryMs || 10000;
  let wait = first;
  // One function is both the timer's callback (no arguments: sync now) and every exchange's handler.
  const step = function (c?: Connection, ev?: number, data?: any): void {
    let retry = false;
    if (!c) retry = !sntpSync(mgr, url, clock, step, o); // a full pool counts as a failure
    else if (ev === SntpEv.TIME) {
      wait = first;
      mgr.timer(every, step, false);
    } else retry = ev === SntpEv.FAILED;
    if (retry) {
      mgr.timer(wait, step, false);
      wait = wait * 2 < every ? wait * 2 : every;
    }
    if (c && handler) handler(c, ev as number, data);
  };
  if (o.startMs) mgr.timer(o.startMs, step, false);
  else step();
}
