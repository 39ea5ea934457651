/**
 * SHA-1 (FIPS 180-4) of a binary string, for the WebSocket handshake
 * (Sec-WebSocket-Accept) only: SHA-1 is not used here for anything that
 * needs collision resistance. Plain 32-bit arithmetic (`| 0`, `>>> 0`, no
 * Math.imul), so it runs unchanged on Espruino.
 */

/** The 20-byte digest of `msg` (one byte per char), as a binary string. */
export function sha1(msg: string): string {
  const len = msg.length;
  // message + 0x80 + zero padding + 64-bit length, in 32-bit big-endian words
  const words = ((len + 8) >> 6) * 16 + 16;
  const w = new Array<number>(words);
  for (let i = 0; i < words; i++) w[i] = 0;
  for (let i = 0; i < len; i++) w[i >> 2] |= (msg.charCodeAt(i) & 255) << (24 - (i & 3) * 8);
  w[len >> 2] |= 0x80 << (24 - (len & 3) * 8);
  w[words - 1] = (len * 8) | 0;
  w[words - 2] = Math.floor(len / 0x20000000); // high bits of the bit length
  let h0 = 0x67452301;
  let h1 = 0xefcdab89 | 0;
  let h2 = 0x98badcfe | 0;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0 | 0;
  const x = new Array<number>(80);
  for (let block = 0; block < words; block += 16) {
    for (let t = 0; t < 16; t++) x[t] = w[block + t];
    for (let t = 16; t < 80; t++) {
      const v = x[t - 3] ^ x[t - 8] ^ x[t - 14] ^ x[t - 16];
      x[t] = (v << 1) | (v >>> 31);
    }
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    for (let t = 0; t < 80; t++) {
      let f: number;
      let k: number;
      if (t < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (t < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (t < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc | 0;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6 | 0;
      }
      const temp = (((a << 5) | (a >>> 27)) + f + e + k + x[t]) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = temp;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  let out = '';
  const hs = [h0, h1, h2, h3, h4];
  for (let i = 0; i < 5; i++) {
    const h = hs[i];
    out += String.fromCharCode((h >>> 24) & 255, (h >>> 16) & 255, (h >>> 8) & 255, h & 255);
  }
  return out;
}
