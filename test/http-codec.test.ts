import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Ring } from '../src/core/ring.js';
import { HttpParser } from '../src/protocols/http/codec.js';
import { BodyKind, Step, hasToken, isToken } from '../src/protocols/http/message.js';
import { chunkStart, headerLines, linesValue, statusLine } from '../src/protocols/http/format.js';
import type { HttpLimits } from '../src/protocols/http/message.js';
import { countingRing } from './support/counting-ring.js';
import { everySplit } from './support/every-split.js';
import { bytesOf, feed, summary } from './support/http-feed.js';

const LIMITS: HttpLimits = { headerBytes: 1024, headerCount: 16, bodyBytes: 4096 };

/** Parses at every split point (and byte by byte) and checks every run agrees with the one-piece run. */
function everySplitHttp(input: string, isRequest: boolean, opts?: { finish?: boolean; noBody?: boolean; limits?: HttpLimits; capacity?: number }): string {
  const o = opts || {};
  const bytes = bytesOf(input);
  return everySplit(bytes.length, (cuts) => summary(feed(bytes, cuts, o.limits || LIMITS, isRequest, o)), JSON.stringify(input));
}

/** Keep mode (bodies decoded in place, whole at END) at every split point gives what streaming gives. */
function everySplitKept(input: string): void {
  const bytes = bytesOf(input);
  const streamed = summary(feed(bytes, [], LIMITS, true));
  assert.equal(everySplit(bytes.length, (cuts) => summary(feed(bytes, cuts, LIMITS, true, { keep: true })), 'keep'), streamed);
}

function parseOnce(input: string, isRequest = true, opts?: { finish?: boolean; noBody?: boolean; limits?: HttpLimits; capacity?: number }) {
  return feed(bytesOf(input), [], (opts && opts.limits) || LIMITS, isRequest, opts);
}

// ---------- requests that parse ----------

const GOOD_REQUESTS: { name: string; input: string; check: (s: ReturnType<typeof parseOnce>) => void }[] = [
  {
    name: 'simple GET with query',
    input: 'GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: dev\r\n\r\n',
    check: (s) => {
      assert.equal(s.heads.length, 1);
      const h = s.heads[0];
      assert.equal(h.method, 'GET');
      assert.equal(h.path, '/a/b');
      assert.equal(h.query, 'x=1&y=2');
      assert.equal(h.version, 11);
      assert.equal(h.bodyKind, BodyKind.NONE);
      assert.equal(h.keepAlive, true);
      assert.equal(s.ends, 1);
    },
  },
  {
    name: 'POST with Content-Length body',
    input: 'POST /data HTTP/1.1\r\nHost: dev\r\nContent-Length: 11\r\n\r\nhello world',
    check: (s) => {
      assert.equal(s.heads[0].contentLength, 11);
      assert.equal(s.bodies[0], 'hello world');
      assert.equal(s.ends, 1);
    },
  },
  {
    name: 'chunked with extensions and trailers',
    input: 'POST /c HTTP/1.1\r\nHost: dev\r\nTransfer-Encoding: chunked\r\n\r\n5;name=val\r\nhello\r\n6\r\n world\r\nA\r\n0123456789\r\n0\r\nX-Sum: 1\r\nY: 2\r\n\r\n',
    check: (s) => {
      assert.equal(s.heads[0].bodyKind, BodyKind.CHUNKED);
      assert.equal(s.bodies[0], 'hello world0123456789');
      assert.equal(s.ends, 1);
    },
  },
  {
    name: 'pipelined: GET, POST with length, chunked POST, GET',
    input:
      'GET /1 HTTP/1.1\r\nHost: a\r\n\r\n' +
      'POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc' +
      'POST /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\n' +
      'GET /4 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    check: (s) => {
      assert.deepEqual(
        s.heads.map((h) => h.path),
        ['/1', '/2', '/3', '/4'],
      );
      assert.deepEqual(s.bodies, ['', 'abc', 'de', '']);
      assert.equal(s.ends, 4);
      assert.equal(s.heads[3].keepAlive, false);
    },
  },
  {
    name: 'empty lines before the request line are skipped',
    input: '\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n',
    check: (s) => assert.equal(s.heads[0].path, '/'),
  },
  {
    name: 'HTTP/1.0 keep-alive, no Host needed',
    input: 'GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n',
    check: (s) => {
      assert.equal(s.heads[0].version, 10);
      assert.equal(s.heads[0].keepAlive, true);
    },
  },
  {
    name: 'HTTP/1.0 closes by default',
    input: 'GET / HTTP/1.0\r\n\r\n',
    check: (s) => assert.equal(s.heads[0].keepAlive, false),
  },
  {
    name: 'header names are case-insensitive, values trimmed',
    input: 'PUT /x HTTP/1.1\r\nhOsT:   dev  \r\ncOnTeNt-LeNgTh:\t2\t\r\nX-Empty:\r\nExpect: 100-Continue\r\n\r\nok',
    check: (s) => {
      const h = s.heads[0];
      assert.equal(h.header('HOST'), 'dev');
      assert.equal(h.header('x-empty'), '');
      assert.equal(h.header('content-length'), '2');
      assert.equal(h.header('missing'), undefined);
      assert.equal(h.expectContinue, true);
      assert.equal(s.bodies[0], 'ok');
    },
  },
  {
    name: 'absolute-form target',
    input: 'GET http://dev:8080/p/q?z HTTP/1.1\r\nHost: dev:8080\r\n\r\n',
    check: (s) => {
      assert.equal(s.heads[0].path, '/p/q');
      assert.equal(s.heads[0].query, 'z');
    },
  },
  {
    name: 'Content-Length: 0 is no body',
    input: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n',
    check: (s) => {
      assert.equal(s.heads[0].bodyKind, BodyKind.NONE);
      assert.equal(s.ends, 1);
    },
  },
  {
    name: 'upper-case hex chunk size and leading zeros',
    input: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n00B\r\nhello world\r\n0\r\n\r\n',
    check: (s) => assert.equal(s.bodies[0], 'hello world'),
  },
  {
    name: 'repeated header kept in order, list joined',
    input: 'GET / HTTP/1.1\r\nHost: a\r\nAccept: a/b\r\nAccept: c/d\r\n\r\n',
    check: (s) => {
      assert.equal(s.heads[0].header('accept'), 'a/b');
      assert.equal(s.heads[0].headerList('Accept'), 'a/b, c/d');
    },
  },
  {
    name: 'an empty field line still counts in the joined list',
    input: 'GET / HTTP/1.1\r\nHost: a\r\nX-K:\r\nX-K: v\r\nX-K: \r\n\r\n',
    check: (s) => {
      assert.equal(s.heads[0].header('x-k'), '');
      assert.equal(s.heads[0].headerList('x-k'), ', v, ');
      assert.equal(s.heads[0].headerList('x-none'), '');
    },
  },
  {
    name: 'obs-text in a value is kept',
    input: 'GET / HTTP/1.1\r\nHost: a\r\nX-T: caf\xe9\r\n\r\n',
    check: (s) => assert.equal(s.heads[0].header('x-t'), 'caf\xe9'),
  },
];

for (const v of GOOD_REQUESTS) {
  test('request parses at every split point: ' + v.name, () => {
    everySplitHttp(v.input, true);
    everySplitKept(v.input);
    v.check(parseOnce(v.input));
    assert.equal(parseOnce(v.input).error, 0);
  });
}

test('Host values RFC 9112 3.2 allows parse (uri-host [":" port]: names, IPv4, IP literals, percent-encoding, empty)', () => {
  const hosts = ['a', 'example.com', 'example.com:8080', 'example.com:', 'a_b.c-d~e', "!$&'()*+,;=", '%41bc', '192.0.2.1:80', '[::1]', '[::1]:8080', '[2001:db8::7]', '[v1.fe:x]', ''];
  for (const h of hosts) {
    const input = 'GET / HTTP/1.1\r\nHost: ' + h + '\r\n\r\n';
    const s = parseOnce(input);
    assert.equal(s.error, 0, JSON.stringify(h) + ': ' + s.errorText);
    assert.equal(s.heads[0].header('host'), h);
  }
  everySplitHttp('GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n', true);
  // a response is not checked: Host means nothing there
  assert.equal(parseOnce('HTTP/1.1 200 OK\r\nHost: a b\r\nContent-Length: 0\r\n\r\n', false).error, 0);
});

// ---------- requests refused (smuggling, limits, malformed) ----------

const H = 'POST / HTTP/1.1\r\nHost: a\r\n';
const BAD_REQUESTS: { name: string; input: string; status: number }[] = [
  { name: 'Content-Length with Transfer-Encoding', input: H + 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', status: 400 },
  { name: 'Transfer-Encoding with Content-Length', input: H + 'Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n', status: 400 },
  { name: 'duplicate equal Content-Length', input: H + 'Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello', status: 400 },
  { name: 'conflicting Content-Length', input: H + 'Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!', status: 400 },
  { name: 'Content-Length list', input: H + 'Content-Length: 5, 5\r\n\r\nhello', status: 400 },
  { name: 'signed Content-Length', input: H + 'Content-Length: +5\r\n\r\nhello', status: 400 },
  { name: 'negative Content-Length', input: H + 'Content-Length: -1\r\n\r\n', status: 400 },
  { name: 'hex Content-Length', input: H + 'Content-Length: 0x5\r\n\r\nhello', status: 400 },
  { name: 'empty Content-Length', input: H + 'Content-Length: \r\n\r\n', status: 400 },
  { name: 'Content-Length with inner space', input: H + 'Content-Length: 1 0\r\n\r\n', status: 400 },
  { name: 'chunked twice', input: H + 'Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n', status: 400 },
  { name: 'chunked in two fields', input: H + 'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', status: 400 },
  { name: 'chunked not final', input: H + 'Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n', status: 400 },
  { name: 'only gzip', input: H + 'Transfer-Encoding: gzip\r\n\r\n', status: 400 },
  { name: 'xchunked', input: H + 'Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n', status: 400 },
  { name: 'chunked with a parameter', input: H + 'Transfer-Encoding: chunked;x=1\r\n\r\n0\r\n\r\n', status: 400 },
  { name: 'coding with a bad character', input: H + 'Transfer-Encoding: chu\x0bnked\r\n\r\n', status: 400 },
  { name: 'gzip then chunked (unsupported)', input: H + 'Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n', status: 501 },
  { name: 'Transfer-Encoding in HTTP/1.0', input: 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', status: 400 },
  { name: 'stray CR in a header line', input: 'GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n', status: 400 },
  { name: 'stray CR in the request line', input: 'GET /\r HTTP/1.1\r\nHost: a\r\n\r\n', status: 400 },
  { name: 'stray CR at the end of a value', input: 'GET / HTTP/1.1\r\nHost: a\r\r\n\r\n', status: 400 },
  { name: 'bare LF line ends', input: 'GET / HTTP/1.1\nHost: a\n\n', status: 400 },
  { name: 'bare LF before the empty line', input: 'GET / HTTP/1.1\r\nHost: a\n\r\n', status: 400 },
  { name: 'obs-fold', input: 'GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n  2\r\n\r\n', status: 400 },
  { name: 'obs-fold with tab right after the request line', input: 'GET / HTTP/1.1\r\n\tHost: a\r\n\r\n', status: 400 },
  { name: 'space before colon', input: 'GET / HTTP/1.1\r\nHost : a\r\n\r\n', status: 400 },
  { name: 'Content-Length with space before colon', input: H + 'Content-Length : 5\r\n\r\nhello', status: 400 },
  { name: 'space inside a name', input: 'GET / HTTP/1.1\r\nHost: a\r\nX Y: 1\r\n\r\n', status: 400 },
  { name: 'empty name', input: 'GET / HTTP/1.1\r\nHost: a\r\n: 1\r\n\r\n', status: 400 },
  { name: 'no colon', input: 'GET / HTTP/1.1\r\nHost: a\r\nnocolon\r\n\r\n', status: 400 },
  { name: 'non-token name', input: 'GET / HTTP/1.1\r\nHost: a\r\nX@Y: 1\r\n\r\n', status: 400 },
  { name: 'NUL in a value', input: 'GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n', status: 400 },
  { name: 'DEL in a value', input: 'GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n', status: 400 },
  { name: 'missing Host in HTTP/1.1', input: 'GET / HTTP/1.1\r\nX: 1\r\n\r\n', status: 400 },
  { name: 'two Hosts', input: 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', status: 400 },
  { name: 'Host with a space', input: 'GET / HTTP/1.1\r\nHost: exa mple\r\n\r\n', status: 400 },
  { name: 'Host with a slash', input: 'GET / HTTP/1.1\r\nHost: a/b\r\n\r\n', status: 400 },
  { name: 'Host with userinfo', input: 'GET / HTTP/1.1\r\nHost: user@a\r\n\r\n', status: 400 },
  { name: 'Host with a query', input: 'GET / HTTP/1.1\r\nHost: a?b\r\n\r\n', status: 400 },
  { name: 'Host with a fragment', input: 'GET / HTTP/1.1\r\nHost: a#b\r\n\r\n', status: 400 },
  { name: 'Host with a backslash', input: 'GET / HTTP/1.1\r\nHost: a\\b\r\n\r\n', status: 400 },
  { name: 'Host with a port that is not digits', input: 'GET / HTTP/1.1\r\nHost: a:b\r\n\r\n', status: 400 },
  { name: 'Host with two ports', input: 'GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n', status: 400 },
  { name: 'Host with an unclosed IPv6 literal', input: 'GET / HTTP/1.1\r\nHost: [::1\r\n\r\n', status: 400 },
  { name: 'Host with text after an IPv6 literal', input: 'GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n', status: 400 },
  { name: 'Host with an empty IPv6 literal', input: 'GET / HTTP/1.1\r\nHost: []\r\n\r\n', status: 400 },
  { name: 'Host with a bad percent-encoding', input: 'GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n', status: 400 },
  { name: 'Host with a high byte', input: 'GET / HTTP/1.1\r\nHost: caf\xe9\r\n\r\n', status: 400 },
  { name: 'Host with a tab inside', input: 'GET / HTTP/1.1\r\nHost: a\tb\r\n\r\n', status: 400 },
  { name: 'invalid Host in HTTP/1.0', input: 'GET / HTTP/1.0\r\nHost: exa mple\r\n\r\n', status: 400 },
  { name: 'invalid Host before a valid one', input: 'GET / HTTP/1.1\r\nHost: a/b\r\nHost: a\r\n\r\n', status: 400 },
  { name: 'HTTP/2.0 in text', input: 'GET / HTTP/2.0\r\nHost: a\r\n\r\n', status: 505 },
  { name: 'lower-case version', input: 'GET / http/1.1\r\nHost: a\r\n\r\n', status: 400 },
  { name: 'version with trailing junk', input: 'GET / HTTP/1.1x\r\nHost: a\r\n\r\n', status: 400 },
  { name: 'two spaces in the request line', input: 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n', status: 400 },
  { name: 'missing version', input: 'GET /\r\nHost: a\r\n\r\n', status: 400 },
  { name: 'bad method character', input: 'G(ET / HTTP/1.1\r\nHost: a\r\n\r\n', status: 400 },
  { name: 'control byte in target', input: 'GET /a\x01b HTTP/1.1\r\nHost: a\r\n\r\n', status: 400 },
  { name: 'high byte in target', input: 'GET /caf\xe9 HTTP/1.1\r\nHost: a\r\n\r\n', status: 400 },
  { name: 'bad chunk size', input: H + 'Transfer-Encoding: chunked\r\n\r\nzz\r\n', status: 400 },
  { name: 'negative chunk size', input: H + 'Transfer-Encoding: chunked\r\n\r\n-1\r\n', status: 400 },
  { name: 'space before chunk size', input: H + 'Transfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n', status: 400 },
  { name: 'space after chunk size', input: H + 'Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n', status: 400 },
  { name: 'empty chunk size', input: H + 'Transfer-Encoding: chunked\r\n\r\n\r\nhello\r\n0\r\n\r\n', status: 400 },
  { name: 'chunk size with 17 digits', input: H + 'Transfer-Encoding: chunked\r\n\r\n00000000000000001\r\nx\r\n0\r\n\r\n', status: 400 },
  { name: 'chunk size line ending in bare LF', input: H + 'Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n', status: 400 },
  { name: 'chunk longer than its size', input: H + 'Transfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n0\r\n\r\n', status: 400 },
  { name: 'chunk data without CRLF', input: H + 'Transfer-Encoding: chunked\r\n\r\n5\r\nhello\rX0\r\n\r\n', status: 400 },
  { name: 'bare LF in a chunk extension', input: H + 'Transfer-Encoding: chunked\r\n\r\n5;a\nb\r\nhello\r\n0\r\n\r\n', status: 400 },
  { name: 'folded trailer', input: H + 'Transfer-Encoding: chunked\r\n\r\n0\r\nX: 1\r\n 2\r\n\r\n', status: 400 },
  { name: 'stray CR in trailer', input: H + 'Transfer-Encoding: chunked\r\n\r\n0\r\nX: 1\rY\r\n\r\n', status: 400 },
  { name: 'declared body over the limit (1 GB)', input: H + 'Content-Length: 1073741824\r\n\r\n', status: 413 },
  { name: 'declared body of 20 digits', input: H + 'Content-Length: 99999999999999999999\r\n\r\n', status: 413 },
  { name: 'chunk over the limit', input: H + 'Transfer-Encoding: chunked\r\n\r\n40000000\r\n', status: 413 },
  { name: 'chunks summing over the limit', input: H + 'Transfer-Encoding: chunked\r\n\r\n800\r\n' + 'x'.repeat(0x800) + '\r\n800\r\n' + 'y'.repeat(0x800) + '\r\n1\r\n', status: 413 },
  { name: 'too many header fields', input: 'GET / HTTP/1.1\r\nHost: a\r\n' + 'X: 1\r\n'.repeat(20) + '\r\n', status: 431 },
  { name: 'header fields too large', input: 'GET / HTTP/1.1\r\nHost: a\r\nX: ' + 'v'.repeat(1100) + '\r\n\r\n', status: 431 },
  { name: 'request line too long', input: 'GET /' + 'p'.repeat(1100) + ' HTTP/1.1\r\nHost: a\r\n\r\n', status: 414 },
  { name: 'too many trailer fields', input: H + 'Transfer-Encoding: chunked\r\n\r\n0\r\n' + 'T: 1\r\n'.repeat(20) + '\r\n', status: 431 },
];

for (const v of BAD_REQUESTS) {
  test('request refused at every split point with ' + v.status + ': ' + v.name, () => {
    everySplitHttp(v.input, true);
    const s = parseOnce(v.input);
    assert.equal(s.error, v.status, s.errorText);
    assert.ok(s.errorText.length > 0);
  });
}

test('a declared oversized body is refused before any of it arrives', () => {
  const s = parseOnce(H + 'Content-Length: 1073741824\r\n\r\n');
  assert.equal(s.error, 413);
  assert.equal(s.heads.length, 0);
});

test('10,000 headers are refused (431) while the ring never holds more than the head limit', () => {
  const input = 'GET / HTTP/1.1\r\nHost: a\r\n' + 'A: b\r\n'.repeat(10000) + '\r\n';
  const bytes = bytesOf(input);
  // a ring much smaller than the input: the parser must refuse from the count, not run out of room
  const s = feed(bytes, [100, 200, 300], LIMITS, true, { capacity: 2048 });
  assert.equal(s.error, 431);
  assert.ok(s.maxHeldHead <= LIMITS.headerBytes);
});

test('a head larger than the ring is refused, never stalls', () => {
  const limits = { headerBytes: 100000, headerCount: 10000, bodyBytes: 10 };
  const s = feed(bytesOf('GET / HTTP/1.1\r\nHost: a\r\nX: ' + 'v'.repeat(500) + '\r\n\r\n'), [10], limits, true, { capacity: 256 });
  assert.equal(s.error, 431);
});

test('after an error the parser keeps answering ERROR until reset', () => {
  const ring = new Ring(256);
  const p = new HttpParser(LIMITS, true);
  ring.writeString('GET / HTTP/1.1\nHost: a\n\n');
  assert.equal(p.next(ring), Step.ERROR);
  assert.equal(p.next(ring), Step.ERROR);
  p.reset();
  ring.clear();
  ring.writeString('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  assert.equal(p.next(ring), Step.HEAD);
  assert.equal(p.next(ring), Step.END);
  assert.equal(p.next(ring), Step.MORE);
});

test('keep mode: a chunked body is joined in place; one over the keep limit is 413', () => {
  const input = H + 'Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4;x=y\r\ndefg\r\n0\r\nT: 1\r\n\r\nGET /n HTTP/1.1\r\nHost: a\r\n\r\n';
  const s = feed(bytesOf(input), [], LIMITS, true, { keep: true, keepLimit: 7 });
  assert.deepEqual(s.bodies, ['abcdefg', '']);
  assert.equal(s.ends, 2);
  const over = feed(bytesOf(input), [], LIMITS, true, { keep: true, keepLimit: 6 });
  assert.equal(over.error, 413);
  // a ring only a little larger than the kept body still makes progress through the framing
  const tight = feed(bytesOf(input), [5, 60, 70, 80], LIMITS, true, { keep: true, keepLimit: 7, capacity: 64 });
  assert.deepEqual(tight.bodies, ['abcdefg', '']);
});

test('keep mode: a body in 20,000 one-byte chunks is joined with linear work, and the request behind it still parses', () => {
  // Cutting each chunk's framing out by moving the body kept before it cost the whole body per chunk (200 MB here).
  let body = '';
  let chunks = '';
  for (let i = 0; i < 20000; i++) {
    const ch = String.fromCharCode(97 + (i % 26));
    body += ch;
    chunks += '1\r\n' + ch + '\r\n';
  }
  const input = bytesOf(H + 'Transfer-Encoding: chunked\r\n\r\n' + chunks + '0\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n');
  const limits = { headerBytes: 1024, headerCount: 16, bodyBytes: 20000 };
  const cuts: number[] = [];
  for (let at = 536; at < input.length; at += 536) cuts.push(at);
  for (const [name, pieces] of [['536-byte pieces', cuts], ['one piece', []]] as [string, number[]][]) {
    const counted = countingRing(input.length + 1, 2 * input.length);
    const s = feed(input, pieces, limits, true, { keep: true, ring: counted.ring });
    assert.equal(s.error, 0, name + ': ' + s.errorText);
    assert.deepEqual(s.bodies, [body, ''], name);
    assert.deepEqual(s.heads.map((h) => h.path), ['/', '/next'], name);
    assert.ok(counted.writes() <= body.length, name + ': ' + counted.writes() + ' bytes moved for a body of ' + body.length);
  }
});

test('body bytes stay at the ring front until the next call and are never copied', () => {
  const ring = new Ring(128);
  const p = new HttpParser(LIMITS, true);
  ring.writeString('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nabcdGET');
  assert.equal(p.next(ring), Step.HEAD);
  assert.equal(p.next(ring), Step.DATA);
  assert.equal(p.dataLength, 4);
  assert.equal(ring.toBinaryString(0, 4), 'abcd');
  assert.equal(ring.length, 7);
  assert.equal(p.next(ring), Step.END);
  assert.equal(ring.toBinaryString(), 'GET');
});

// ---------- responses ----------

const GOOD_RESPONSES: { name: string; input: string; finish?: boolean; noBody?: boolean; check: (s: ReturnType<typeof parseOnce>) => void }[] = [
  {
    name: 'length-delimited',
    input: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello',
    check: (s) => {
      assert.equal(s.heads[0].status, 200);
      assert.equal(s.heads[0].reason, 'OK');
      assert.equal(s.bodies[0], 'hello');
    },
  },
  {
    name: 'chunked',
    input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n1;x\r\nd\r\n0\r\n\r\n',
    check: (s) => assert.equal(s.bodies[0], 'abcd'),
  },
  {
    name: 'delimited by close',
    input: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end',
    finish: true,
    check: (s) => {
      assert.equal(s.heads[0].bodyKind, BodyKind.UNTIL_CLOSE);
      assert.equal(s.heads[0].keepAlive, false);
      assert.equal(s.bodies[0], 'until the end');
      assert.equal(s.ends, 1);
    },
  },
  {
    name: 'final coding other than chunked is read until close',
    input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzzz',
    finish: true,
    check: (s) => assert.equal(s.bodies[0], 'zzz'),
  },
  {
    name: '204 and 304 have no body whatever they declare',
    input: 'HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 3\r\n\r\n',
    check: (s) => {
      assert.deepEqual(
        s.heads.map((h) => h.status),
        [204, 304],
      );
      assert.deepEqual(s.bodies, ['', '']);
    },
  },
  {
    name: 'HEAD: no body follows a Content-Length',
    input: 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n',
    noBody: true,
    check: (s) => {
      assert.equal(s.ends, 1);
      assert.equal(s.heads[0].contentLength, 1000);
    },
  },
  {
    name: 'interim 100 then final',
    input: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok',
    check: (s) => {
      assert.deepEqual(
        s.heads.map((h) => h.status),
        [100, 201],
      );
      assert.equal(s.bodies[1], 'ok');
    },
  },
  {
    name: 'status without reason phrase',
    input: 'HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n',
    check: (s) => {
      assert.equal(s.heads[0].status, 200);
      assert.equal(s.heads[0].reason, '');
    },
  },
  {
    name: 'HTTP/1.0 response',
    input: 'HTTP/1.0 404 Not Found\r\nContent-Length: 1\r\n\r\nx',
    check: (s) => {
      assert.equal(s.heads[0].version, 10);
      assert.equal(s.heads[0].keepAlive, false);
    },
  },
];

for (const v of GOOD_RESPONSES) {
  test('response parses at every split point: ' + v.name, () => {
    everySplitHttp(v.input, false, { finish: v.finish, noBody: v.noBody });
    const s = parseOnce(v.input, false, { finish: v.finish, noBody: v.noBody });
    assert.equal(s.error, 0, s.errorText);
    v.check(s);
  });
}

const BAD_RESPONSES: { name: string; input: string; status: number; finish?: boolean }[] = [
  { name: 'both framings', input: 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', status: 400 },
  { name: 'status of two digits', input: 'HTTP/1.1 20 OK\r\n\r\n', status: 400 },
  { name: 'status with letters', input: 'HTTP/1.1 2x0 OK\r\n\r\n', status: 400 },
  { name: 'no space after status', input: 'HTTP/1.1 200OK\r\n\r\n', status: 400 },
  { name: 'not HTTP', input: 'SSH-2.0-OpenSSH\r\n\r\n', status: 400 },
  { name: 'cut short inside a length body', input: 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc', status: 400, finish: true },
  { name: 'cut short inside a chunked body', input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab', status: 400, finish: true },
  { name: 'cut short inside the head', input: 'HTTP/1.1 200 OK\r\nContent-Le', status: 400, finish: true },
];

for (const v of BAD_RESPONSES) {
  test('response refused at every split point: ' + v.name, () => {
    everySplitHttp(v.input, false, { finish: v.finish });
    assert.equal(parseOnce(v.input, false, { finish: v.finish }).error, v.status);
  });
}

// ---------- writing helpers ----------

test('headerLines writes objects and refuses header injection', () => {
  assert.equal(headerLines({ 'Content-Type': 'text/plain', 'X-N': 5 }), 'Content-Type: text/plain\r\nX-N: 5\r\n');
  assert.equal(headerLines('A: b\r\n'), 'A: b\r\n');
  assert.throws(() => headerLines({ 'X-Evil': 'a\r\nSet-Cookie: x' }));
  assert.throws(() => headerLines({ 'X-Evil': 'a\nb' }));
  assert.throws(() => headerLines({ 'Bad Name': 'x' }));
  assert.throws(() => headerLines('A: b'));
  assert.equal(linesValue('A: b\r\nContent-Length:  12 \r\n', 'content-length'), '12');
  assert.equal(statusLine(404), 'HTTP/1.1 404 Not Found\r\n');
  assert.equal(chunkStart(255), 'ff\r\n');
  assert.ok(isToken('X-Custom_1.2'));
  assert.ok(!isToken('a b'));
  assert.ok(hasToken('Keep-Alive, Upgrade', 'upgrade'));
  assert.ok(!hasToken('keep-alive-ish', 'keep-alive'));
});

// ---------- properties ----------

const tokenChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&\'*+-.^_`|~'.split(''));
const token = fc.string({ unit: tokenChar, minLength: 1, maxLength: 12 });
const valueChar = fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c));
const fieldValue = fc.string({ unit: valueChar, maxLength: 30 }).map((v) => v.trim());
const pathChar = fc.constantFrom(...'abcxyz0123/-._~%?=&'.split(''));
const body = fc.uint8Array({ maxLength: 300 });

interface GenRequest {
  method: string;
  path: string;
  headers: [string, string][];
  body: Uint8Array;
  chunked: boolean;
  chunkSizes: number[];
}

const genRequest = fc.record({
  method: token,
  path: fc.string({ unit: pathChar, maxLength: 20 }).map((p) => '/' + p),
  headers: fc.array(fc.tuple(token, fieldValue), { maxLength: 6 }).map((hs) =>
    hs.filter(([n]) => ['host', 'content-length', 'transfer-encoding', 'connection', 'expect'].indexOf(n.toLowerCase()) < 0),
  ),
  body: body,
  chunked: fc.boolean(),
  chunkSizes: fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }),
});

function serialize(r: GenRequest): string {
  let s = r.method + ' ' + r.path + ' HTTP/1.1\r\nHost: h\r\n';
  for (const [n, v] of r.headers) s += n + ': ' + v + '\r\n';
  const b = Array.from(r.body, (x) => String.fromCharCode(x)).join('');
  if (r.chunked) {
    s += 'Transfer-Encoding: chunked\r\n\r\n';
    let at = 0;
    let k = 0;
    while (at < b.length) {
      const n = Math.min(r.chunkSizes[k++ % r.chunkSizes.length], b.length - at);
      s += n.toString(16) + '\r\n' + b.substring(at, at + n) + '\r\n';
      at += n;
    }
    s += '0\r\n\r\n';
  } else {
    s += 'Content-Length: ' + b.length + '\r\n\r\n' + b;
  }
  return s;
}

test('property: generated requests (length or chunked) parse back exactly, whatever the pieces', () => {
  fc.assert(
    fc.property(fc.array(genRequest, { minLength: 1, maxLength: 3 }), fc.array(fc.nat(), { maxLength: 6 }), (reqs, rawCuts) => {
      const input = reqs.map(serialize).join('');
      const bytes = bytesOf(input);
      const cuts = Array.from(new Set(rawCuts.map((c) => (bytes.length > 1 ? 1 + (c % (bytes.length - 1)) : 0)))).filter((c) => c > 0).sort((a, b) => a - b);
      const limits = { headerBytes: 4096, headerCount: 16, bodyBytes: 4096 };
      const s = feed(bytes, cuts, limits, true, { capacity: 700 });
      assert.equal(s.error, 0, s.errorText);
      assert.equal(summary(feed(bytes, cuts, limits, true, { capacity: 700, keep: true })), summary(s));
      assert.equal(s.heads.length, reqs.length);
      assert.equal(s.ends, reqs.length);
      reqs.forEach((r, i) => {
        const h = s.heads[i];
        assert.equal(h.method, r.method);
        assert.equal(h.target, r.path);
        assert.equal(s.bodies[i], Array.from(r.body, (x) => String.fromCharCode(x)).join(''));
        for (const [n, v] of r.headers) assert.notEqual(h.header(n), undefined, n + ' = ' + v);
      });
    }),
    { numRuns: 300 },
  );
});

test('property: a small ring never stalls and never holds more head than the limit', () => {
  fc.assert(
    fc.property(fc.array(genRequest, { minLength: 1, maxLength: 2 }), fc.integer({ min: 1, max: 17 }), (reqs, step) => {
      const input = reqs.map(serialize).join('');
      const bytes = bytesOf(input);
      const cuts: number[] = [];
      for (let k = step; k < bytes.length; k += step) cuts.push(k);
      const limits = { headerBytes: 300, headerCount: 16, bodyBytes: 4096 };
      const s = feed(bytes, cuts, limits, true, { capacity: 320 });
      assert.ok(s.maxHeldHead <= limits.headerBytes);
      if (s.error) assert.equal(s.error, 431); // only a head over 300 bytes may fail
      else assert.equal(s.ends, reqs.length);
    }),
    { numRuns: 200 },
  );
});

// ---------- fuzz ----------

test('fuzz: random and mutated bytes never throw, never stall, never hold past the limit', () => {
  const seeds = GOOD_REQUESTS.map((v) => v.input).concat(BAD_REQUESTS.map((v) => v.input));
  const limits = { headerBytes: 512, headerCount: 16, bodyBytes: 2048 };
  const allowed = [400, 413, 414, 431, 501, 505];
  let random = 12345;
  const rnd = (n: number): number => {
    random = (random * 1103515245 + 12345) >>> 0;
    return random % n;
  };
  for (let round = 0; round < 4000; round++) {
    let bytes: Uint8Array;
    if (round % 4 === 0) {
      bytes = new Uint8Array(1 + rnd(600));
      for (let i = 0; i < bytes.length; i++) bytes[i] = rnd(4) === 0 ? [13, 10, 58, 32][rnd(4)] : rnd(256);
    } else {
      const src = bytesOf(seeds[rnd(seeds.length)]);
      const arr = Array.from(src);
      const edits = 1 + rnd(4);
      for (let e = 0; e < edits; e++) {
        const at = rnd(arr.length + 1);
        const kind = rnd(3);
        const b = rnd(3) === 0 ? [13, 10, 58, 32, 48, 59][rnd(6)] : rnd(256);
        if (kind === 0) arr.splice(at, 0, b);
        else if (kind === 1) arr.splice(at, 1);
        else arr[at % arr.length] = b;
      }
      bytes = Uint8Array.from(arr);
    }
    const cuts: number[] = [];
    for (let k = 1 + rnd(40); k < bytes.length; k += 1 + rnd(40)) cuts.push(k);
    for (const isRequest of [true, false]) {
      const keep = rnd(2) === 0;
      const s = feed(bytes, cuts, limits, isRequest, { capacity: 600, finish: rnd(2) === 0, keep: keep, keepLimit: 400 });
      assert.ok(s.maxHeldHead <= limits.headerBytes, 'held ' + s.maxHeldHead);
      if (s.error) assert.ok(allowed.indexOf(s.error) >= 0, 'status ' + s.error);
      for (const b of s.bodies) assert.ok(b.length <= limits.bodyBytes);
    }
  }
});
