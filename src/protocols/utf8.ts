/**
 * UTF-8 by hand: Espruino has no TextEncoder/TextDecoder.
 *
 * Strict in the way MQTT (and WebSocket text) require: well-formed UTF-8 only
 * (no overlong forms, no surrogates, nothing above U+10FFFF) and no U+0000.
 * A JS string with a lone surrogate cannot be encoded and is refused the same way.
 */
import { Ring } from '../core/ring.js';

/**
 * Bytes `s` takes as UTF-8, or -1 when it holds a lone surrogate or U+0000;
 * with `out`, also appends them there (the caller checked first: valid, and
 * room). One function for both, exported under both names: on Espruino each
 * function object costs RAM.
 */
export function utf8Length(s: string, out?: Ring): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      if (c === 0) return -1;
      n += 1;
      if (out) out.writeByte(c);
      continue;
    }
    if (c < 0x800) {
      n += 2;
      if (out) out.writeByte(0xc0 | (c >> 6));
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const lo = s.charCodeAt(i + 1); // NaN past the end
      if (c > 0xdbff || !(lo >= 0xdc00 && lo <= 0xdfff)) return -1;
      i++;
      n += 4;
      if (!out) continue;
      c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
      out.writeByte(0xf0 | (c >> 18));
      out.writeByte(0x80 | ((c >> 12) & 63));
      out.writeByte(0x80 | ((c >> 6) & 63));
    } else {
      n += 3;
      if (!out) continue;
      out.writeByte(0xe0 | (c >> 12));
      out.writeByte(0x80 | ((c >> 6) & 63));
    }
    if (out) out.writeByte(0x80 | (c & 63));
  }
  return n;
}

/** Appends `s` as UTF-8 to `out`. The caller checked `utf8Length(s)` (valid, and room). The same function as utf8Length. */
export const utf8Write: (s: string, out: Ring) => void = utf8Length;

/**
 * Decodes `n` bytes of `buf` from index `at`, wrapping to 0 at index `wrap`
 * (a Ring's storage: pass `ring.bytes`, the absolute start and `ring.capacity`;
 * a plain array: its length). Returns null for ill-formed UTF-8 or U+0000.
 */
export function utf8Read(buf: Uint8Array, at: number, n: number, wrap: number): string | null {
  let s = '';
  let i = at;
  while (n > 0) {
    let c = buf[i];
    if (++i === wrap) i = 0;
    n--;
    if (c < 0x80) {
      if (c === 0) return null;
      s += String.fromCharCode(c);
      continue;
    }
    let more: number;
    let min: number;
    if (c >= 0xc2 && c <= 0xdf) {
      more = 1;
      min = 0x80;
      c &= 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      more = 2;
      min = 0x800;
      c &= 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      more = 3;
      min = 0x10000;
      c &= 0x07;
    } else {
      return null;
    }
    if (more > n) return null;
    n -= more;
    while (more-- > 0) {
      const b = buf[i];
      if (++i === wrap) i = 0;
      if ((b & 0xc0) !== 0x80) return null;
      c = (c << 6) | (b & 63);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return null;
    if (c >= 0x10000) {
      c -= 0x10000;
      s += String.fromCharCode(0xd800 + (c >> 10), 0xdc00 + (c & 1023));
    } else {
      s += String.fromCharCode(c);
    }
  }
  return s;
}

/** `bytes` as text, or null when they are not valid UTF-8 (helper for MQTT payloads). */
export function utf8Decode(bytes: Uint8Array): string | null {
  return utf8Read(bytes, 0, bytes.length, bytes.length);
}

/** `s` as UTF-8 bytes, or null when it holds a lone surrogate or U+0000. */
export function utf8Encode(s: string): Uint8Array | null {
  const n = utf8Length(s);
  if (n < 0) return null;
  const r = new Ring(n);
  utf8Write(s, r);
  return r.bytes;
}
