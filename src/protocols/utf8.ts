/**
 * UTF-8 by hand, the one module for it: Espruino has no TextEncoder/TextDecoder.
 *
 * Strict entry points refuse what is not well-formed (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF):
 *  - utf8Length / utf8Write / utf8Read / utf8Encode / utf8Decode, for MQTT,
 *    which also refuses U+0000, and a JS string with a lone surrogate;
 *  - Utf8Validator, incremental, for WebSocket text (U+0000 is allowed there).
 * Lenient entry points never fail, for HTTP bodies and text a user hands over:
 *  - utf8Binary (text to a binary string, a lone surrogate as U+FFFD) and
 *    utf8Text (bytes to text, a malformed sequence as U+FFFD).
 *
 * Binary strings (one char per byte) are how bytes travel as strings in ringnet.
 */
import { bytesText } from '../core/bytes.js';
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

/* Incremental strict check (WebSocket text). */

/**
 * Checks UTF-8 that arrives in pieces (fragments of one message may split a
 * character). `ok` turns false at the first bad byte and stays false.
 */
export class Utf8Validator {
  ok = true;
  /** Continuation bytes still expected, and the allowed range of the next one. */
  private need = 0;
  private lo = 0x80;
  private hi = 0xbf;

  reset(): void {
    this.ok = true;
    this.need = 0;
    this.lo = 0x80;
    this.hi = 0xbf;
  }

  /** Feeds `bytes[from, to)`; returns `ok`. */
  push(bytes: Uint8Array, from: number, to: number): boolean {
    if (!this.ok) return false;
    let need = this.need;
    let lo = this.lo;
    let hi = this.hi;
    for (let i = from; i < to; i++) {
      const b = bytes[i];
      if (need === 0) {
        if (b < 0x80) continue;
        lo = 0x80;
        hi = 0xbf;
        if (b >= 0xc2 && b <= 0xdf) need = 1;
        else if (b >= 0xe0 && b <= 0xef) {
          need = 2;
          if (b === 0xe0) lo = 0xa0; // overlong
          else if (b === 0xed) hi = 0x9f; // surrogates
        } else if (b >= 0xf0 && b <= 0xf4) {
          need = 3;
          if (b === 0xf0) lo = 0x90; // overlong
          else if (b === 0xf4) hi = 0x8f; // above U+10FFFF
        } else {
          this.ok = false;
          return false;
        }
      } else {
        if (b < lo || b > hi) {
          this.ok = false;
          return false;
        }
        need--;
        lo = 0x80;
        hi = 0xbf;
      }
    }
    this.need = need;
    this.lo = lo;
    this.hi = hi;
    return true;
  }

  /** True when everything fed so far is valid and no character is cut off. */
  complete(): boolean {
    return this.ok && this.need === 0;
  }
}

/* Lenient conversions: they never fail. */

/** Text → UTF-8 bytes as a binary string. ASCII comes back unchanged (and unallocated). */
export function utf8Binary(s: string): string {
  let i = 0;
  while (i < s.length && s.charCodeAt(i) < 0x80) i++;
  if (i === s.length) return s;
  let out = s.substring(0, i);
  for (; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out += s.charAt(i);
    } else if (c < 0x800) {
      out += String.fromCharCode(0xc0 | (c >> 6), 0x80 | (c & 63));
    } else {
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          out += String.fromCharCode(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
          continue;
        }
      }
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // a lone surrogate cannot be encoded
      out += String.fromCharCode(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
  }
  return out;
}

/** UTF-8 `bytes[from, to)` → text; a malformed sequence becomes U+FFFD. */
export function utf8Text(bytes: Uint8Array, from: number, to: number): string {
  let out = '';
  let i = from;
  while (i < to) {
    // An ASCII run is its own binary string.
    let j = i;
    while (j < to && bytes[j] < 0x80) j++;
    if (j > i) {
      out += bytesText(bytes, i, j);
      i = j;
      continue;
    }
    const b = bytes[i];
    let need = 0;
    let c = 0;
    let min = 0;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      c = b & 31;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      c = b & 15;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      c = b & 7;
      min = 0x10000;
    }
    let k = 1;
    if (need > 0) {
      while (k <= need && i + k < to && (bytes[i + k] & 0xc0) === 0x80) {
        c = (c << 6) | (bytes[i + k] & 63);
        k++;
      }
    }
    if (need === 0 || k <= need || c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
      out += '\ufffd';
      i += k > 1 && need > 0 && k <= need ? k : 1;
      continue;
    }
    i += k;
    if (c >= 0x10000) {
      c -= 0x10000;
      out += String.fromCharCode(0xd800 + (c >> 10), 0xdc00 + (c & 1023));
    } else {
      out += String.fromCharCode(c);
    }
  }
  return out;
}
