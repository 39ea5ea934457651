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

function readU32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) >>> 0) + ((b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]);
}

function writeU32(b: Uint8Array, at: number, v: number): void {
  b[at] = (v / 16777216) & 255;
  b[at + 1] = (v >>> 16) & 255;
  b[at + 2] = (v >>> 8) & 255;
  b[at + 3] = v & 255;
}

/** Seconds with the top bit clear belong to the era that starts in 2036 (RFC 4330 §3). */
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
 */
export function encodeRequest(out: Uint8Array, nonce: NtpTimestamp): Uint8Array {
  for (let i = 0; i < SNTP_PACKET_BYTES; i++) out[i] = 0;
  out[0] = (4 << 3) | 3;
  writeU32(out, 40, nonce.seconds);
  writeU32(out, 44, nonce.fraction);
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

/** Decodes a reply; returns a string saying what is wrong when it is not a usable server reply. */
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
  const transmit = { seconds: readU32(b, 40), fraction: readU32(b, 44) };
  if (stratum !== 0) {
    if (leap === 3) return 'server clock not synchronized';
    if (stratum > 15) return 'bad stratum ' + stratum;
    if (transmit.seconds === 0 && transmit.fraction === 0) return 'empty transmit time';
  }
  return {
    leap: leap,
    version: version,
    mode: mode,
    stratum: stratum,
    originate: { seconds: readU32(b, 24), fraction: readU32(b, 28) },
    receiveMs: ntpToUnixMs({ seconds: readU32(b, 32), fraction: readU32(b, 36) }),
    transmitMs: ntpToUnixMs(transmit),
    kissCode: kiss,
  };
}
