import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { Ring } from '../src/core/ring.js';
import { base64Decode, base64Encode } from '../src/core/base64.js';
import { READER_SLACK, WsOp, WsReader, WsStep, maskInPlace, validCloseCode, writeFrameHeader } from '../src/protocols/ws/codec.js';
import { acceptKey, validKey } from '../src/protocols/ws/handshake.js';
import { sha1 } from '../src/protocols/ws/sha1.js';
import { countingRing } from './support/counting-ring.js';
import { everySplit, feedPieces } from './support/every-split.js';

const latin1 = (b: Uint8Array | Buffer) => Buffer.from(b).toString('latin1');

// ---------- SHA-1, base64, handshake ----------

test('sha1 matches node:crypto (known vectors and random inputs of every padding length)', () => {
  assert.equal(Buffer.from(sha1('abc'), 'latin1').toString('hex'), 'a9993e364706816aba3e25717850c26c9cd0d89d');
  assert.equal(Buffer.from(sha1(''), 'latin1').toString('hex'), 'da39a3ee5e6b4b0d3255bfef95601890afd80709');
  for (let n = 0; n < 200; n++) {
    const s = Buffer.alloc(n, 0).map((_, i) => (i * 37 + n) & 255);
    assert.equal(Buffer.from(sha1(latin1(s)), 'latin1').toString('hex'), createHash('sha1').update(s).digest('hex'), 'length ' + n);
  }
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
      assert.equal(Buffer.from(sha1(latin1(b)), 'latin1').toString('hex'), createHash('sha1').update(b).digest('hex'));
    }),
  );
});

test('base64 matches Buffer, and malformed input is refused', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
      const enc = base64Encode(latin1(b));
      assert.equal(enc, Buffer.from(b).toString('base64'));
      assert.equal(base64Encode(b), enc);
      assert.equal(base64Decode(enc), latin1(b));
    }),
  );
  for (const bad of ['abc', 'ab=c', 'a===', '!!!!', 'QQ=A', 'QR==', 'QUJ=', 'QUI=x===']) assert.equal(base64Decode(bad), null, bad);
});

test('the RFC 6455 handshake example: key → accept', () => {
  assert.equal(acceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  assert.ok(validKey('dGhlIHNhbXBsZSBub25jZQ=='));
  assert.ok(!validKey('dGhlIHNhbXBsZSBub25jZQ'));
  assert.ok(!validKey('dGhlIHNhbXBsZSBub25jZXh4eA=='));
  assert.ok(!validKey(undefined));
});

// ---------- frames ----------

interface Frame {
  op: number;
  fin?: boolean;
  payload: Uint8Array | string;
  mask?: boolean;
  rsv?: number;
}

function frameBytes(f: Frame): Buffer {
  const p = typeof f.payload === 'string' ? Buffer.from(f.payload, 'latin1') : Buffer.from(f.payload);
  const key = f.mask ? Uint8Array.from([0x37, 0xfa, 0x21, 0x3d]) : null;
  const h = new Uint8Array(14);
  const n = writeFrameHeader(h, f.op, f.fin !== false, p.length, key);
  if (f.rsv) h[0] |= f.rsv;
  const body = Buffer.from(p);
  if (key) maskInPlace(body, body.length, 0, body.length, key);
  return Buffer.concat([Buffer.from(h.subarray(0, n)), body]);
}

interface WsFeedOptions {
  max: number;
  masked: boolean;
  capacity?: number;
  /** The reader's bound on fragments per message (default: the reader's own). */
  fragments?: number;
  /** The ring to feed through (default: a new one of `capacity`). */
  ring?: Ring;
}

/** Feeds bytes in pieces to a reader; records a compact trace of what it reports. */
function feedWs(input: Uint8Array, cuts: number[], opts: WsFeedOptions): string[] {
  const ring = opts.ring || new Ring(opts.capacity || opts.max + READER_SLACK);
  const r = new WsReader(opts.max, opts.masked, opts.fragments);
  const out: string[] = [];
  const drain = (): boolean => {
    for (;;) {
      const st = r.next(ring);
      switch (st) {
        case WsStep.MORE:
          return true;
        case WsStep.MESSAGE: {
          const v = r.messageView(ring);
          assert.equal(v.length, r.messageLength);
          assert.ok(v.length <= opts.max);
          out.push((r.binary ? 'bin:' : 'text:') + Buffer.from(v).toString('hex'));
          break;
        }
        case WsStep.PING:
          out.push('ping:' + Buffer.from(r.control.subarray(0, r.controlLength)).toString('hex'));
          break;
        case WsStep.PONG:
          out.push('pong:' + Buffer.from(r.control.subarray(0, r.controlLength)).toString('hex'));
          break;
        case WsStep.CLOSE:
          out.push('close:' + r.closeCode + ':' + r.closeReason);
          return false;
        default:
          out.push('error:' + r.errorCode);
          return false;
      }
    }
  };
  feedPieces(ring, input, cuts, drain);
  return out;
}

function everySplitWs(input: Buffer, opts: WsFeedOptions): string[] {
  return everySplit(input.length, (cuts) => feedWs(input, cuts, opts));
}

const hex = (s: string) => Buffer.from(s, 'latin1').toString('hex');

test('RFC 6455 5.7 examples parse at every split point', () => {
  // a single-frame unmasked text message, as a client receives it
  assert.deepEqual(everySplitWs(Buffer.from([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]), { max: 100, masked: false }), ['text:' + hex('Hello')]);
  // a single-frame masked text message, as a server receives it
  assert.deepEqual(everySplitWs(Buffer.from([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]), { max: 100, masked: true }), ['text:' + hex('Hello')]);
  // a fragmented unmasked text message
  assert.deepEqual(everySplitWs(Buffer.from([0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f]), { max: 100, masked: false }), ['text:' + hex('Hello')]);
  // unmasked ping and pong
  assert.deepEqual(everySplitWs(Buffer.from([0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x8a, 0x00]), { max: 100, masked: false }), ['ping:' + hex('Hello'), 'pong:']);
  // 256 bytes binary with a 16-bit length
  const b256 = Buffer.alloc(256, 0xab);
  assert.deepEqual(everySplitWs(Buffer.concat([Buffer.from([0x82, 0x7e, 0x01, 0x00]), b256]), { max: 300, masked: false }), ['bin:' + b256.toString('hex')]);
});

test('fragments with control frames between them are joined in the ring, at every split point', () => {
  const input = Buffer.concat([
    frameBytes({ op: WsOp.TEXT, fin: false, payload: 'Hel', mask: true }),
    frameBytes({ op: WsOp.PING, payload: 'p1', mask: true }),
    frameBytes({ op: WsOp.CONTINUATION, fin: false, payload: '', mask: true }),
    frameBytes({ op: WsOp.PONG, payload: '', mask: true }),
    frameBytes({ op: WsOp.CONTINUATION, fin: false, payload: 'lo, ', mask: true }),
    frameBytes({ op: WsOp.PING, payload: 'x'.repeat(125), mask: true }),
    frameBytes({ op: WsOp.CONTINUATION, payload: 'w\xc3\xb6rld', mask: true }),
    frameBytes({ op: WsOp.BINARY, payload: Uint8Array.from([0, 1, 2, 255]), mask: true }),
    frameBytes({ op: WsOp.TEXT, payload: '', mask: true }),
    frameBytes({ op: WsOp.CLOSE, payload: '\x03\xe8bye', mask: true }),
  ]);
  assert.deepEqual(everySplitWs(input, { max: 64, masked: true }), [
    'ping:' + hex('p1'),
    'pong:',
    'ping:' + hex('x'.repeat(125)),
    'text:' + hex('Hello, w\xc3\xb6rld'),
    'bin:000102ff',
    'text:',
    'close:1000:bye',
  ]);
});

test('a message that wraps around the ring comes out contiguous', () => {
  // capacity just over what the reader needs, so the second message wraps the storage end
  const msg = Buffer.alloc(100, 0x5a);
  const input = Buffer.concat([frameBytes({ op: WsOp.BINARY, payload: msg }), frameBytes({ op: WsOp.BINARY, fin: false, payload: msg.subarray(0, 40) }), frameBytes({ op: WsOp.CONTINUATION, payload: msg.subarray(40) })]);
  const out = feedWs(input, [30, 90, 140, 170], { max: 100, masked: false, capacity: 100 + READER_SLACK });
  assert.deepEqual(out, ['bin:' + msg.toString('hex'), 'bin:' + msg.toString('hex')]);
});

test('a 64-bit length frame (70,000 bytes)', () => {
  const big = Buffer.alloc(70000);
  for (let i = 0; i < big.length; i++) big[i] = i & 255;
  const out = feedWs(frameBytes({ op: WsOp.BINARY, payload: big, mask: true }), [5, 9, 10, 60000], { max: 70000, masked: true });
  assert.deepEqual(out, ['bin:' + big.toString('hex')]);
});

test('reassembly work is linear: a 60 KB first fragment, then 3,000 empty continuations and 3,000 pings, moves each byte about once', () => {
  // Cutting each header out by moving the payload held before it cost 60 KB of moves per frame (180 MB here).
  const big = Buffer.alloc(60000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 255;
  const frames = [frameBytes({ op: WsOp.BINARY, fin: false, payload: big, mask: true })];
  const expect: string[] = [];
  for (let i = 0; i < 3000; i++) {
    frames.push(frameBytes({ op: WsOp.CONTINUATION, fin: false, payload: '', mask: true }));
    frames.push(frameBytes({ op: WsOp.PING, payload: 'p', mask: true }));
    expect.push('ping:' + hex('p'));
  }
  frames.push(frameBytes({ op: WsOp.CONTINUATION, payload: 'end', mask: true }));
  expect.push('bin:' + Buffer.concat([big, Buffer.from('end')]).toString('hex'));
  const input = Buffer.concat(frames);
  const cuts: number[] = [];
  for (let at = 536; at < input.length; at += 536) cuts.push(at); // an ESP32's network chunks
  // budget: unmasking every payload byte once, plus moving each at most once more
  const counted = countingRing(65536 + READER_SLACK, 2 * input.length);
  assert.deepEqual(feedWs(input, cuts, { max: 65536, masked: true, fragments: 3002, ring: counted.ring }), expect);
  assert.ok(counted.writes() >= big.length, 'the payload was unmasked in place');
  assert.ok(counted.writes() <= 2 * input.length, counted.writes() + ' bytes moved for ' + input.length + ' in');
  // the same input in one piece (all of it in the ring at once) is as cheap
  const whole = countingRing(input.length + 1, 2 * input.length);
  assert.deepEqual(feedWs(input, [], { max: 65536, masked: true, fragments: 3002, ring: whole.ring }), expect);
});

test('fragments per message are bounded (counting empty ones, not control frames): one more is 1008, at every split point', () => {
  const frag = (op: number, fin: boolean, payload: string) => frameBytes({ op, fin, payload, mask: true });
  const three = Buffer.concat([frag(WsOp.TEXT, false, 'a'), frag(WsOp.PING, true, ''), frag(WsOp.CONTINUATION, false, ''), frag(WsOp.CONTINUATION, true, 'b')]);
  assert.deepEqual(everySplitWs(three, { max: 100, masked: true, fragments: 3 }), ['ping:', 'text:' + hex('ab')]);
  const four = Buffer.concat([frag(WsOp.TEXT, false, 'a'), frag(WsOp.CONTINUATION, false, ''), frag(WsOp.CONTINUATION, false, ''), frag(WsOp.CONTINUATION, true, 'b')]);
  assert.deepEqual(everySplitWs(four, { max: 100, masked: true, fragments: 3 }), ['error:1008']);
  // the count starts again with each message
  assert.deepEqual(everySplitWs(Buffer.concat([three, three]), { max: 100, masked: true, fragments: 3 }), ['ping:', 'text:' + hex('ab'), 'ping:', 'text:' + hex('ab')]);
  // the default bound
  const MAX_FRAGMENTS = new WsReader(100, true).maxFragments;
  assert.ok(MAX_FRAGMENTS > 1 && MAX_FRAGMENTS < Infinity, 'a default bound');
  const many = [frag(WsOp.BINARY, false, 'x')];
  for (let i = 1; i < MAX_FRAGMENTS; i++) many.push(frag(WsOp.CONTINUATION, i === MAX_FRAGMENTS - 1, ''));
  assert.deepEqual(feedWs(Buffer.concat(many), [], { max: 100, masked: true }), ['bin:' + hex('x')]);
  many[many.length - 1] = frag(WsOp.CONTINUATION, false, '');
  many.push(frag(WsOp.CONTINUATION, true, ''));
  assert.deepEqual(feedWs(Buffer.concat(many), [], { max: 100, masked: true }), ['error:1008']);
});

const ERRORS: { name: string; input: Buffer; masked: boolean; code: number }[] = [
  { name: 'reserved bit', input: frameBytes({ op: WsOp.TEXT, payload: 'a', rsv: 0x40 }), masked: false, code: 1002 },
  { name: 'unknown data opcode', input: frameBytes({ op: 3, payload: 'a' }), masked: false, code: 1002 },
  { name: 'unknown control opcode', input: frameBytes({ op: 11, payload: '' }), masked: false, code: 1002 },
  { name: 'fragmented ping', input: frameBytes({ op: WsOp.PING, fin: false, payload: 'a' }), masked: false, code: 1002 },
  { name: 'control frame over 125 bytes', input: Buffer.concat([Buffer.from([0x89, 0x7e, 0x00, 0x7e]), Buffer.alloc(126)]), masked: false, code: 1002 },
  { name: 'unmasked frame to a server', input: frameBytes({ op: WsOp.TEXT, payload: 'a' }), masked: true, code: 1002 },
  { name: 'masked frame to a client', input: frameBytes({ op: WsOp.TEXT, payload: 'a', mask: true }), masked: false, code: 1002 },
  { name: 'continuation without a message', input: frameBytes({ op: WsOp.CONTINUATION, payload: 'a' }), masked: false, code: 1002 },
  {
    name: 'new message inside a fragmented one',
    input: Buffer.concat([frameBytes({ op: WsOp.TEXT, fin: false, payload: 'a' }), frameBytes({ op: WsOp.BINARY, payload: 'b' })]),
    masked: false,
    code: 1002,
  },
  { name: 'length with the top bit set', input: Buffer.from([0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1]), masked: false, code: 1002 },
  { name: 'declared length over the limit (1009 before any payload)', input: Buffer.from([0x82, 0x7f, 0, 0, 0, 0, 0x40, 0, 0, 0]), masked: false, code: 1009 },
  { name: 'declared 16-bit length over the limit', input: Buffer.from([0x82, 0x7e, 0x01, 0x00]), masked: false, code: 1009 },
  {
    name: 'fragments summing over the limit',
    input: Buffer.concat([frameBytes({ op: WsOp.BINARY, fin: false, payload: Buffer.alloc(60) }), frameBytes({ op: WsOp.CONTINUATION, payload: Buffer.alloc(60) })]),
    masked: false,
    code: 1009,
  },
  { name: 'invalid UTF-8 in text', input: frameBytes({ op: WsOp.TEXT, payload: 'ab\xff' }), masked: false, code: 1007 },
  { name: 'overlong UTF-8', input: frameBytes({ op: WsOp.TEXT, payload: '\xc0\xaf' }), masked: false, code: 1007 },
  { name: 'UTF-8 surrogate', input: frameBytes({ op: WsOp.TEXT, payload: '\xed\xa0\x80' }), masked: false, code: 1007 },
  {
    name: 'text ending inside a character',
    input: Buffer.concat([frameBytes({ op: WsOp.TEXT, fin: false, payload: 'a\xe2\x82' }), frameBytes({ op: WsOp.CONTINUATION, payload: '' })]),
    masked: false,
    code: 1007,
  },
  { name: 'close of one byte', input: frameBytes({ op: WsOp.CLOSE, payload: '\x03' }), masked: false, code: 1002 },
  { name: 'close code 1005 on the wire', input: frameBytes({ op: WsOp.CLOSE, payload: '\x03\xed' }), masked: false, code: 1002 },
  { name: 'close code 999', input: frameBytes({ op: WsOp.CLOSE, payload: '\x03\xe7' }), masked: false, code: 1002 },
  { name: 'close code 2000', input: frameBytes({ op: WsOp.CLOSE, payload: '\x07\xd0' }), masked: false, code: 1002 },
  { name: 'close reason not UTF-8', input: frameBytes({ op: WsOp.CLOSE, payload: '\x03\xe8\xff' }), masked: false, code: 1007 },
];

for (const e of ERRORS) {
  test('refused at every split point with ' + e.code + ': ' + e.name, () => {
    const out = everySplitWs(e.input, { max: 100, masked: e.masked });
    assert.equal(out[out.length - 1], 'error:' + e.code);
  });
}

test('UTF-8 split across fragments is accepted; a bad sequence fails before the message ends', () => {
  const euro = '\xe2\x82\xac';
  const ok = Buffer.concat([frameBytes({ op: WsOp.TEXT, fin: false, payload: 'a' + euro.substring(0, 1) }), frameBytes({ op: WsOp.CONTINUATION, fin: false, payload: euro.substring(1, 2) }), frameBytes({ op: WsOp.CONTINUATION, payload: euro.substring(2) + 'b' })]);
  assert.deepEqual(everySplitWs(ok, { max: 100, masked: false }), ['text:' + hex('a' + euro + 'b')]);
  // fail fast: the bad byte is in the first fragment, the message never finishes
  const early = frameBytes({ op: WsOp.TEXT, fin: false, payload: 'ab\xfe' });
  assert.deepEqual(feedWs(early, [], { max: 100, masked: false }), ['error:1007']);
});

test('close codes allowed on the wire', () => {
  for (const c of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999]) assert.ok(validCloseCode(c), String(c));
  for (const c of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000]) assert.ok(!validCloseCode(c), String(c));
});

// ---------- properties and fuzz ----------

const genMessage = fc.record({
  binary: fc.boolean(),
  text: fc.string({ unit: 'grapheme', maxLength: 30 }),
  bytes: fc.uint8Array({ maxLength: 60 }),
  fragments: fc.array(fc.nat(), { maxLength: 3 }),
  pings: fc.array(fc.uint8Array({ maxLength: 10 }), { maxLength: 2 }),
});

test('property: random messages, fragmented at random with pings between, parse back exactly', () => {
  fc.assert(
    fc.property(fc.array(genMessage, { minLength: 1, maxLength: 5 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 8 }), (msgs, masked, rawCuts) => {
      const frames: Buffer[] = [];
      const expect: string[] = [];
      for (const m of msgs) {
        const payload = m.binary ? Buffer.from(m.bytes) : Buffer.from(m.text, 'utf8');
        const cuts = Array.from(new Set(m.fragments.map((f) => (payload.length ? f % payload.length : 0)))).sort((a, b) => a - b);
        const pieces: Buffer[] = [];
        let at = 0;
        for (const c of cuts) {
          pieces.push(payload.subarray(at, c));
          at = c;
        }
        pieces.push(payload.subarray(at));
        pieces.forEach((p, i) => {
          frames.push(frameBytes({ op: i === 0 ? (m.binary ? WsOp.BINARY : WsOp.TEXT) : WsOp.CONTINUATION, fin: i === pieces.length - 1, payload: p, mask: masked }));
          if (i < m.pings.length && i < pieces.length - 1) {
            frames.push(frameBytes({ op: WsOp.PING, payload: m.pings[i], mask: masked }));
            expect.push('ping:' + Buffer.from(m.pings[i]).toString('hex'));
          }
        });
        expect.push((m.binary ? 'bin:' : 'text:') + payload.toString('hex'));
      }
      const input = Buffer.concat(frames);
      const cuts = Array.from(new Set(rawCuts.map((c) => (input.length > 1 ? 1 + (c % (input.length - 1)) : 0))))
        .filter((c) => c > 0)
        .sort((a, b) => a - b);
      assert.deepEqual(feedWs(input, cuts, { max: 200, masked }), expect);
    }),
    { numRuns: 400 },
  );
});

test('fuzz: random and mutated frames never throw, never stall, never deliver past the limit', () => {
  const seeds = ERRORS.map((e) => e.input).concat([
    Buffer.concat([frameBytes({ op: WsOp.TEXT, fin: false, payload: 'Hel' }), frameBytes({ op: WsOp.PING, payload: 'p' }), frameBytes({ op: WsOp.CONTINUATION, payload: 'lo' })]),
    frameBytes({ op: WsOp.BINARY, payload: Buffer.alloc(90, 1) }),
    frameBytes({ op: WsOp.CLOSE, payload: '\x03\xe8ok' }),
  ]);
  let seed = 99;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  for (let round = 0; round < 4000; round++) {
    let arr: number[];
    if (round % 3 === 0) {
      arr = Array.from({ length: 1 + rnd(300) }, () => rnd(256));
    } else {
      arr = Array.from(seeds[rnd(seeds.length)]);
      for (let e = 0; e < 1 + rnd(3); e++) {
        const at = rnd(arr.length + 1);
        const k = rnd(3);
        if (k === 0) arr.splice(at, 0, rnd(256));
        else if (k === 1) arr.splice(at, 1);
        else arr[at % arr.length] = rnd(256);
      }
    }
    const input = Uint8Array.from(arr);
    const cuts: number[] = [];
    for (let k = 1 + rnd(20); k < input.length; k += 1 + rnd(20)) cuts.push(k);
    for (const masked of [false, true]) {
      const out = feedWs(input, cuts, { max: 100, masked });
      for (const o of out) if (o.startsWith('error:')) assert.ok(['error:1002', 'error:1007', 'error:1009'].indexOf(o) >= 0, o);
    }
  }
});
