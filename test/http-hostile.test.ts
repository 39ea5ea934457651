/**
 * Hostile and malformed input sent raw over real sockets to the ringnet HTTP
 * server: request smuggling, oversized declarations, header floods, slowloris,
 * idle peers, pipelining, and a flood of connections against the 503 cap.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { Ev } from '../src/core/events.js';
import { HttpEv } from '../src/protocols/http/events.js';
import { HttpServer } from '../src/protocols/http/server.js';
import type { HttpHandler, HttpRequest } from '../src/protocols/http/server.js';
import { raw, serve, statuses } from './support/http-env.js';
import { sleep, until } from './support/wait.js';
import type { Served } from './support/http-env.js';

const HEADER_TIMEOUT = 300;
const KILOBYTE = 'k'.repeat(1024);
const IDLE_TIMEOUT = 600;
let server: Served;
const seen: string[] = [];
let accepts = 0;

function app(mgr: Served['mgr']): HttpHandler {
  return ((c, ev, data) => {
    if (ev === Ev.ACCEPT) accepts++;
    if (ev === HttpEv.HEADERS) {
      const req = data as HttpRequest;
      seen.push(req.method + ' ' + req.path);
      if (req.path === '/early') req.res.send(401, 'no\n'); // answered before the body
      if (req.path === '/endless') {
        req.res.head(200, { 'Content-Type': 'application/octet-stream' });
        while (req.res.write(KILOBYTE));
      }
    } else if (ev === HttpEv.WRITABLE) {
      const req = data as HttpRequest;
      while (req.res.write(KILOBYTE));
    } else if (ev === HttpEv.MESSAGE) {
      const req = data as HttpRequest;
      if (req.res.started) return;
      if (req.path.substring(0, 6) === '/slow/') {
        const path = req.path;
        mgr.timer(+req.path.substring(6), () => req.res.send(200, 'done ' + path + '\n'), false);
        return;
      }
      req.res.send(200, 'ok ' + req.path + ' ' + req.body.length + '\n');
    }
  }) as HttpHandler;
}

before(async () => {
  server = await serve(app, {
    mgr: { pools: { default: { conns: 32, recvBytes: 4096, sendBytes: 4096 } } },
    limits: { headerBytes: 2048, headerCount: 32, bodyBytes: 65536 },
    headerTimeoutMs: HEADER_TIMEOUT,
    idleTimeoutMs: IDLE_TIMEOUT,
  });
});

after(() => server.stop());


const SMUGGLING: { name: string; request: string; status: number }[] = [
  { name: 'CL + TE', request: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG', status: 400 },
  { name: 'TE + CL', request: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 6\r\n\r\n0\r\n\r\nG', status: 400 },
  { name: 'duplicate CL', request: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n', status: 400 },
  { name: 'conflicting CL', request: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 44\r\n\r\n', status: 400 },
  { name: 'CL list', request: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0, 44\r\n\r\n', status: 400 },
  { name: 'stray CR in a header', request: 'GET / HTTP/1.1\r\nHost: a\r\nX: 1\rTransfer-Encoding: chunked\r\n\r\n', status: 400 },
  { name: 'bare LF line ends', request: 'GET / HTTP/1.1\nHost: a\nContent-Length: 44\n\n', status: 400 },
  { name: 'obs-fold', request: 'GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n Transfer-Encoding: chunked\r\n\r\n', status: 400 },
  { name: 'space before colon', request: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n', status: 400 },
  { name: 'TE not chunked', request: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n', status: 400 },
  { name: 'TE chunked twice', request: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', status: 400 },
  { name: 'TE with a vertical tab', request: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n', status: 400 },
  { name: 'bad chunk size', request: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5x\r\nhello\r\n0\r\n\r\n', status: 400 },
  { name: 'chunk size with a space', request: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n', status: 400 },
  { name: 'chunk longer than declared', request: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n', status: 400 },
  { name: 'chunk size of 17 digits', request: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000000a\r\n', status: 400 },
  { name: 'huge chunk size', request: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n', status: 413 },
  { name: 'NUL in a header', request: 'GET / HTTP/1.1\r\nHost: a\r\nX: \x00\r\n\r\n', status: 400 },
  { name: 'missing Host', request: 'GET / HTTP/1.1\r\n\r\n', status: 400 },
  { name: 'Host with a space', request: 'GET / HTTP/1.1\r\nHost: exa mple\r\n\r\n', status: 400 },
  { name: 'Host with a slash', request: 'GET / HTTP/1.1\r\nHost: a/b\r\n\r\n', status: 400 },
  { name: 'Host with userinfo', request: 'GET / HTTP/1.1\r\nHost: evil@a\r\n\r\n', status: 400 },
  { name: 'empty Host is allowed, a second one is not', request: 'GET / HTTP/1.1\r\nHost:\r\nHost: a\r\n\r\n', status: 400 },
  { name: 'unsupported coding', request: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n', status: 501 },
];

for (const s of SMUGGLING) {
  test('smuggling refused over a socket (' + s.status + ', then closed, nothing behind it served): ' + s.name, async () => {
    const before = seen.length;
    // a second, "smuggled" request follows in the same stream: it must never be served
    const r = await raw(server.port, s.request + 'GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.deepEqual(statuses(r.data), [s.status], r.data);
    assert.ok(r.closed, 'connection closed');
    assert.match(r.data, /Connection: close\r\n/);
    assert.ok(seen.slice(before).indexOf('GET /smuggled') < 0);
  });
}

test('a valid Host is served: a name with a port, an IPv6 literal, and an empty one', async () => {
  for (const host of ['device.local:8080', '[::1]:80', '']) {
    const r = await raw(server.port, 'GET /h HTTP/1.1\r\nHost: ' + host + '\r\nConnection: close\r\n\r\n');
    assert.deepEqual(statuses(r.data), [200], host);
  }
});

test('a declared 1 GB body is refused with 413 at once, before any of it is read', async () => {
  const r = await raw(server.port, ['POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 1073741824\r\n\r\n', 'x'.repeat(1000), 50, 'x'.repeat(1000)]);
  assert.deepEqual(statuses(r.data), [413]);
  assert.ok(r.closed);
  assert.ok(!r.reset, 'answered with FIN, not reset');
  assert.ok(r.ms < 1000, 'answered in ' + r.ms + ' ms');
});

test('10,000 header fields are refused with 431', async () => {
  const r = await raw(server.port, 'GET / HTTP/1.1\r\nHost: a\r\n' + 'X-Flood: 1\r\n'.repeat(10000) + '\r\n');
  assert.deepEqual(statuses(r.data), [431]);
  assert.ok(r.closed);
});

test('one header line over the limit is refused with 431, a long request line with 414', async () => {
  assert.deepEqual(statuses((await raw(server.port, 'GET / HTTP/1.1\r\nHost: a\r\nCookie: ' + 'c'.repeat(5000) + '\r\n\r\n')).data), [431]);
  assert.deepEqual(statuses((await raw(server.port, 'GET /' + 'p'.repeat(5000) + ' HTTP/1.1\r\nHost: a\r\n\r\n')).data), [414]);
});

test('slowloris: a head trickled byte by byte is cut off by the header timeout (408)', async () => {
  const parts: (string | number)[] = [];
  const head = 'GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ' + 'z'.repeat(200);
  for (const ch of head) parts.push(ch, 20);
  const r = await raw(server.port, parts, { timeoutMs: 4000 });
  assert.ok(r.closed, 'closed by the server');
  assert.deepEqual(statuses(r.data), [408]);
  assert.ok(r.ms >= HEADER_TIMEOUT - 50 && r.ms < HEADER_TIMEOUT + 1000, 'closed after ' + r.ms + ' ms');
});

test('idle peers are closed: one that never sends, and one idle after a response', async () => {
  const silent = await raw(server.port, [], { timeoutMs: 4000 });
  assert.ok(silent.closed);
  assert.equal(silent.data, '');
  assert.ok(silent.ms >= IDLE_TIMEOUT - 50, 'after ' + silent.ms + ' ms');
  const after = await raw(server.port, 'GET /a HTTP/1.1\r\nHost: a\r\n\r\n', { timeoutMs: 4000 });
  assert.deepEqual(statuses(after.data), [200]);
  assert.ok(after.closed && after.ms >= IDLE_TIMEOUT - 50);
});

test('a stalled body is cut off by the idle timeout (408)', async () => {
  const r = await raw(server.port, 'POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789', { timeoutMs: 4000 });
  assert.deepEqual(statuses(r.data), [408]);
  assert.ok(r.closed);
});

test('slow read: a peer that stops reading an endless answer is dropped after the idle timeout', async () => {
  const srv = server.listener.protocolState as HttpServer;
  const s = net.connect(server.port, '127.0.0.1');
  await new Promise<void>((resolve) => s.on('connect', () => resolve()));
  s.pause(); // never reads
  s.write('GET /endless HTTP/1.1\r\nHost: a\r\n\r\n');
  await until(() => srv.live >= 1, 2000, 'the connection counted');
  const t0 = Date.now();
  await until(() => srv.live === 0, 10000, 'the stalled connection dropped');
  assert.ok(Date.now() - t0 >= IDLE_TIMEOUT - 100);
  s.destroy();
});

test('pipelining: responses come back in request order, even when the first is slow', async () => {
  const reqs = 'GET /slow/80 HTTP/1.1\r\nHost: a\r\n\r\n' + 'POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello' + 'GET /slow/5 HTTP/1.1\r\nHost: a\r\n\r\n' + 'GET /last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n';
  const r = await raw(server.port, reqs);
  assert.deepEqual(statuses(r.data), [200, 200, 200, 200]);
  const bodies = r.data.split('\r\n\r\n').slice(1).map((b) => b.split('\n')[0]);
  assert.deepEqual(bodies.slice(0, 4), ['done /slow/80', 'ok /p 5', 'done /slow/5', 'ok /last 0']);
  assert.ok(r.closed, 'Connection: close honoured');
});

test('pipelining: the same requests trickled in small pieces give the same answers', async () => {
  const reqs = 'GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n';
  const parts: (string | number)[] = [];
  for (let i = 0; i < reqs.length; i += 7) parts.push(reqs.substring(i, i + 7), 1);
  const r = await raw(server.port, parts);
  const bodies = r.data.split('\r\n\r\n').slice(1).map((b) => b.split('\n')[0]);
  assert.deepEqual(bodies.slice(0, 3), ['ok /1 0', 'ok /2 3', 'ok /3 0']);
});

test('a request answered before its body is read keeps the connection usable', async () => {
  const r = await raw(server.port, 'POST /early HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789GET /after HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  assert.deepEqual(statuses(r.data), [401, 200]);
  assert.match(r.data, /ok \/after 0/);
});

test('the 503 cap: 10× the allowed connections, no crash, served again afterwards', async () => {
  const CONNS = 6; // pool slots; one is kept for answering 503
  const capped = await serve(app, {
    mgr: { pools: { default: { conns: CONNS, recvBytes: 2048, sendBytes: 2048 } } },
    limits: { headerBytes: 1024, headerCount: 16, bodyBytes: 1024 },
    headerTimeoutMs: 1000,
    idleTimeoutMs: 2000,
  });
  try {
    const attempts = CONNS * 10;
    const results = await Promise.all(
      Array.from({ length: attempts }, () => raw(capped.port, 'GET /slow/150 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', { timeoutMs: 5000 })),
    );
    let ok = 0;
    let unavailable = 0;
    let refused = 0;
    for (const r of results) {
      const st = statuses(r.data);
      if (st[0] === 200) ok++;
      else if (st[0] === 503) {
        unavailable++;
        assert.match(r.data, /Retry-After: 1\r\n/);
      } else {
        assert.equal(r.data, '', 'no partial answers');
        refused++;
      }
      assert.ok(r.closed);
    }
    assert.equal(ok + unavailable + refused, attempts);
    console.log('503 cap: ' + attempts + ' connections: ' + ok + ' served, ' + unavailable + ' answered 503, ' + refused + ' refused (pool full)');
    assert.ok(ok >= 1, 'some served: ' + ok);
    assert.ok(unavailable >= 1, 'some answered 503: ' + unavailable);
    const srv = capped.listener.protocolState as HttpServer;
    assert.equal(srv.stats.overflow, unavailable);
    // the pool recovers: every slot comes back, and new requests are served
    await until(() => capped.mgr.freeSlots() === CONNS, 5000, 'free slots');
    assert.equal(srv.live, 0);
    const again = await raw(capped.port, 'GET /fine HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    assert.deepEqual(statuses(again.data), [200]);
  } finally {
    capped.stop();
  }
});

test('a peer that resets mid-request does not disturb the server', async () => {
  for (let i = 0; i < 5; i++) {
    const s = net.connect(server.port, '127.0.0.1');
    await new Promise<void>((resolve) => s.on('connect', () => resolve()));
    s.write('POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\nabc');
    s.resetAndDestroy();
  }
  await sleep(50);
  const r = await raw(server.port, 'GET /still HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  assert.deepEqual(statuses(r.data), [200]);
  assert.ok(accepts > 0);
});
