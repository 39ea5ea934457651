/** The one UTF-8 module: its strict entry points (MQTT, WebSocket text) and its lenient ones (HTTP, user text). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bytesText } from '../src/core/bytes.js';
import { Utf8Validator, utf8Binary, utf8Decode, utf8Encode, utf8Read, utf8Text } from '../src/protocols/utf8.js';

/** Random bytes weighted toward lead bytes and the edges of continuation ranges. */
const bytes = fc.array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 0xc2, 0xe0, 0xed, 0xf0, 0xf4, 0x80, 0xbf, 0xa0, 0x9f, 0x90, 0x8f)), { maxLength: 20 });

test('Utf8Validator agrees with a fatal TextDecoder on random bytes, whole and split', () => {
  const strict = new TextDecoder('utf-8', { fatal: true });
  const isValid = (b: Uint8Array) => {
    try {
      strict.decode(b);
      return true;
    } catch {
      return false;
    }
  };
  fc.assert(
    fc.property(bytes, fc.nat(), (arr, cut) => {
      const b = Uint8Array.from(arr);
      const v = new Utf8Validator();
      v.push(b, 0, b.length);
      assert.equal(v.complete(), isValid(b), Buffer.from(b).toString('hex'));
      const k = b.length ? cut % (b.length + 1) : 0;
      const w = new Utf8Validator();
      w.push(b, 0, k);
      w.push(b, k, b.length);
      assert.equal(w.complete(), isValid(b));
    }),
    { numRuns: 3000 },
  );
});

test('utf8Binary / utf8Text round-trip any text (surrogate pairs included)', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (s) => {
      const enc = utf8Binary(s);
      assert.equal(enc, Buffer.from(s, 'utf8').toString('latin1'));
      const b = Buffer.from(enc, 'latin1');
      assert.equal(utf8Text(b, 0, b.length), s);
    }),
  );
  assert.equal(utf8Binary('ascii only'), 'ascii only');
  const bad = Uint8Array.from([0x61, 0xc3, 0x62, 0xed, 0xa0, 0x80, 0x63]);
  assert.equal(utf8Text(bad, 0, bad.length).indexOf('\ufffd') >= 0, true);
});

test('strict and lenient decoding agree: utf8Decode accepts exactly what the validator does without U+0000, and then reads as utf8Text', () => {
  fc.assert(
    fc.property(bytes, (arr) => {
      const b = Uint8Array.from(arr);
      const v = new Utf8Validator();
      v.push(b, 0, b.length);
      const strict = utf8Decode(b);
      const hex = Buffer.from(b).toString('hex');
      assert.equal(strict !== null, v.complete() && arr.indexOf(0) < 0, hex);
      const lenient = utf8Text(b, 0, b.length);
      if (strict !== null) assert.equal(lenient, strict, hex);
      else if (v.complete()) assert.equal(lenient.indexOf('\u0000') >= 0, true, hex);
      else assert.equal(lenient.indexOf('\ufffd') >= 0, true, hex);
    }),
    { numRuns: 3000 },
  );
});

test('utf8Read decodes across the wrap of ring storage as it does in one run', () => {
  fc.assert(
    fc.property(bytes, fc.nat(), (arr, shift) => {
      const n = arr.length;
      const cap = n + 3;
      const start = shift % cap;
      const storage = new Uint8Array(cap);
      for (let i = 0; i < n; i++) storage[(start + i) % cap] = arr[i];
      assert.equal(utf8Read(storage, start, n, cap), utf8Decode(Uint8Array.from(arr)));
    }),
    { numRuns: 2000 },
  );
});

test('strict and lenient encoding agree on text MQTT accepts; a lone surrogate is refused by one and U+FFFD in the other', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), (s) => {
      const strict = utf8Encode(s);
      if (s.indexOf('\u0000') >= 0) assert.equal(strict, null);
      else assert.equal(strict && bytesText(strict, 0, strict.length), utf8Binary(s));
    }),
  );
  for (const lone of ['a\ud800', '\udc00b', 'x\ud83dy']) {
    assert.equal(utf8Encode(lone), null, JSON.stringify(lone));
    assert.equal(utf8Binary(lone).indexOf('\xef\xbf\xbd') >= 0, true, JSON.stringify(lone));
  }
});
