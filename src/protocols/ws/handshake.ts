/**
 * The opening handshake (RFC 6455 section 4): the key a client sends and the
 * accept value a server proves it understood with.
 */
import { base64Decode, base64Encode } from '../../core/base64.js';
import { bytesText } from '../../core/bytes.js';
import { sha1 } from './sha1.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Sec-WebSocket-Accept for a Sec-WebSocket-Key. */
export function acceptKey(key: string): string {
  return base64Encode(sha1(key + GUID));
}

/** Whether `key` is the base64 of 16 bytes, as a client must send. */
export function validKey(key: string | undefined): boolean {
  if (!key || key.length !== 24) return false;
  const raw = base64Decode(key);
  return raw !== null && raw.length === 16;
}

/** A fresh Sec-WebSocket-Key from 16 random bytes. */
export function newKey(random: (into: Uint8Array) => void): string {
  const b = new Uint8Array(16);
  random(b);
  return base64Encode(bytesText(b, 0, 16));
}

/** The comma-separated subprotocols of a Sec-WebSocket-Protocol value. */
export function protocolList(value: string | undefined): string[] {
  const out: string[] = [];
  if (!value) return out;
  const parts = value.split(',');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i].trim();
    if (p.length) out.push(p);
  }
  return out;
}

/** Fills with Math.random: the fallback for a driver without `randomBytes` (weak; say so where it matters). */
export function weakRandom(into: Uint8Array): void {
  for (let i = 0; i < into.length; i++) into[i] = Math.floor(Math.random() * 256);
}
