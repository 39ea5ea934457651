/**
 * SNTP (RFC 4330) packets: a 48-byte client request and the server's reply.
 * Pure: bytes in, values out. Times are NTP timestamps split in two 32-bit
 * halves so nothing needs 64-bit integers.
 */

export const SNTP_PACKET_BYTES = 48;
/** Seconds from 1900 (NTP's epoch) to 1970 (Unix's). */
const NTP_TO_UNIX_SECONDS = 2208988800;
const TWO_32 = 4294967296;

export interface NtpTimestamp {
  seconds: number;
  fraction: number;
}

export interface SntpReply {
  leap: number;
  version: number;
  mode: number;
  stratum: number;
  /** Echo of the request's transmit timestamp: must match what was sent. */
  originate: NtpTimestamp;
  /** When the server received the request, Unix ms. */
  receiveMs: number;
  /** When the server sent the reply, Unix ms. */
  transmitMs: number;
  /** Four ASCII characters for a kiss-o'-death (stratum 0), else ''. */
  kissCode: string;
}

/** For encodeReply only (test servers; not on the device). */
function writeU32(b: Uint8Array, at: number, v: number): void {
  b[at] = (v / 16777216) & 255;
  b[at + 1] = (v >>> 16) & 255;
  b[at + 2] = (v >>> 8) & 255;
  b[at + 3] = v & 255;
}

/** Seconds with the top bit clear belong to the era that starts in 2036 (RFC 4330 §3). decodeReply has this folded in. */
export function ntpToUnixMs(t: NtpTimestamp): number {
  const seconds = t.seconds < 0x80000000 ? t.seconds + TWO_32 : t.seconds;
  return (seconds - NTP_TO_UNIX_SECONDS) * 1000 + (t.fraction / TWO_32) * 1000;
}

export function unixMsToNtp(ms: number): NtpTimestamp {
  const seconds = Math.floor(ms / 1000);
  return { seconds: (seconds + NTP_TO_UNIX_SECONDS) % TWO_32, fraction: Math.floor(((ms - seconds * 1000) / 1000) * TWO_32) };
}

/**
 * A client request (version 4, mode 3). `nonce` goes in the transmit
 * timestamp; the server echoes it as `originate`, which ties reply to request.
 * (The big-endian writes are inline, not a helper: on Espruino each function
 * object costs RAM, and this is the only part of the encoder on the device.)
 */
export function encodeRequest(out: Uint8Array, nonce: NtpTimestamp): Uint8Array {
  for (let i = 0; i < SNTP_PACKET_BYTES; i++) out[i] = 0;
  out[0] = (4 << 3) | 3;
  for (let k = 0; k < 4; k++) {
    out[43 - k] = (nonce.seconds >>> (8 * k)) & 255;
    out[47 - k] = (nonce.fraction >>> (8 * k)) & 255;
  }
  return out;
}

/** A server reply (mode 4); used by tests' servers and by the codec's own round-trip checks. */
export function encodeReply(out: Uint8Array, r: SntpReply): Uint8Array {
  for (let i = 0; i < SNTP_PACKET_BYTES; i++) out[i] = 0;
  out[0] = ((r.leap & 3) << 6) | ((r.version & 7) << 3) | (r.mode & 7);
  out[1] = r.stratum & 255;
  for (let i = 0; i < 4 && i < r.kissCode.length; i++) out[12 + i] = r.kissCode.charCodeAt(i);
  writeU32(out, 24, r.originate.seconds);
  writeU32(out, 28, r.originate.fraction);
  const rx = unixMsToNtp(r.receiveMs);
  writeU32(out, 32, rx.seconds);
  writeU32(out, 36, rx.fraction);
  const tx = unixMsToNtp(r.transmitMs);
  writeU32(out, 40, tx.seconds);
  writeU32(out, 44, tx.fraction);
  return out;
}

/**
 * Decodes a reply; returns a string saying what is wrong when it is not a
 * usable server reply. One function on purpose (the device carries it): the
 * 32-bit reads and ntpToUnixMs's conversion are folded in.
 */
export function decodeReply(b: Uint8Array, length: number): SntpReply | string {
  if (length < SNTP_PACKET_BYTES) return 'short SNTP packet: ' + length + ' bytes';
  const mode = b[0] & 7;
  const version = (b[0] >> 3) & 7;
  const leap = b[0] >> 6;
  if (mode !== 4 && mode !== 5) return 'not a server reply (mode ' + mode + ')';
  if (version < 1 || version > 4) return 'unknown NTP version ' + version;
  const stratum = b[1];
  let kiss = '';
  if (stratum === 0) for (let i = 12; i < 16; i++) kiss += String.fromCharCode(b[i]);
  // The 32-bit words from byte 24: originate seconds and fraction, receive, transmit.
  const w: number[] = [];
  for (let at = 24; at < SNTP_PACKET_BYTES; at += 4) w.push(((b[at] << 24) >>> 0) + ((b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]));
  if (stratum !== 0) {
    if (leap === 3) return 'server clock not synchronized';
    if (stratum > 15) return 'bad stratum ' + stratum;
    if (w[4] === 0 && w[5] === 0) return 'empty transmit time';
  }
  // Receive and transmit as Unix ms, converted as ntpToUnixMs does (era 1 for seconds with the top bit clear).
  const ms = [0, 0];
  for (let k = 0; k < 2; k++) {
    const seconds = w[2 + 2 * k] < 0x80000000 ? w[2 + 2 * k] + TWO_32 : w[2 + 2 * k];
    ms[k] = (seconds - NTP_TO_UNIX_SECONDS) * 1000 + (w[3 + 2 * k] / TWO_32) * 1000;
  }
  return {
    leap: leap,
    version: version,
    mode: mode,
    stratum: stratum,
    originate: { seconds: w[0], fraction: w[1] },
    receiveMs: ms[0],
    transmitMs: ms[1],
    kissCode: kiss,
  };
}
