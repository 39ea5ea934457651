/**
 * Base64 (RFC 4648) over binary strings, for Basic auth and the WebSocket
 * handshake. Written out rather than taken from btoa/atob so the behaviour is
 * the same on every runtime, and malformed input is refused, not guessed at.
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function sextet(c: number): number {
  if (c >= 65 && c <= 90) return c - 65;
  if (c >= 97 && c <= 122) return c - 71;
  if (c >= 48 && c <= 57) return c + 4;
  if (c === 43) return 62;
  if (c === 47) return 63;
  return -1;
}

/** A binary string (or bytes) as base64 with padding. */
export function base64Encode(data: string | Uint8Array): string {
  const n = data.length;
  const at =
    typeof data === 'string'
      ? function (i: number) {
          return data.charCodeAt(i) & 255;
        }
      : function (i: number) {
          return data[i];
        };
  let out = '';
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    out += ALPHABET.charAt(v >> 18) + ALPHABET.charAt((v >> 12) & 63) + ALPHABET.charAt((v >> 6) & 63) + ALPHABET.charAt(v & 63);
  }
  if (n - i === 1) {
    const v = at(i) << 16;
    out += ALPHABET.charAt(v >> 18) + ALPHABET.charAt((v >> 12) & 63) + '==';
  } else if (n - i === 2) {
    const v = (at(i) << 16) | (at(i + 1) << 8);
    out += ALPHABET.charAt(v >> 18) + ALPHABET.charAt((v >> 12) & 63) + ALPHABET.charAt((v >> 6) & 63) + '=';
  }
  return out;
}

/** Padded base64 → binary string, or null when it is not well-formed base64. */
export function base64Decode(s: string): string | null {
  if (s.length % 4 !== 0) return null;
  let out = '';
  for (let i = 0; i < s.length; i += 4) {
    const a = sextet(s.charCodeAt(i));
    const b = sextet(s.charCodeAt(i + 1));
    if (a < 0 || b < 0) return null;
    const last = i + 4 === s.length;
    const c3 = s.charCodeAt(i + 2);
    const c4 = s.charCodeAt(i + 3);
    if (last && c3 === 61) {
      if (c4 !== 61 || b & 15) return null; // "xx==": the unused bits must be zero
      out += String.fromCharCode((a << 2) | (b >> 4));
      break;
    }
    const c = sextet(c3);
    if (c < 0) return null;
    if (last && c4 === 61) {
      if (c & 3) return null;
      out += String.fromCharCode((a << 2) | (b >> 4), ((b & 15) << 4) | (c >> 2));
      break;
    }
    const d = sextet(c4);
    if (d < 0) return null;
    out += String.fromCharCode((a << 2) | (b >> 4), ((b & 15) << 4) | (c >> 2), ((c & 3) << 6) | d);
  }
  return out;
}
