/**
 * UTF-8 without TextEncoder/TextDecoder (Espruino has neither): an
 * incremental validator for WebSocket text (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), and string conversions.
 *
 * Binary strings (one char per byte) are how bytes travel as strings in
 * ringnet; `utf8Binary` turns text into one, `utf8Text` turns bytes back.
 */

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
    // ASCII runs go through in one call each.
    let j = i;
    while (j < to && bytes[j] < 0x80 && j - i < 256) j++;
    if (j > i) {
      out += String.fromCharCode.apply(null, bytes.subarray(i, j) as any);
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
