/**
 * The ringnet HTTP client against real servers (node:http, node:https, raw
 * sockets for what node:http will not send), and against the ringnet server
 * in the simulator with the wire cut into 1–3 byte pieces.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Manager } from '../src/core/manager.js';
import type { Connection } from '../src/core/connection.js';
import { ErrorCode, Ev } from '../src/core/events.js';
import { NodeDriver } from '../src/drivers/node.js';
import { SimNetwork } from '../src/drivers/sim.js';
import { httpRequest } from '../src/protocols/http/client.js';
import type { HttpClientResponse, HttpRequestOptions } from '../src/protocols/http/client.js';
import { HttpEv } from '../src/protocols/http/events.js';
import { httpListen } from '../src/protocols/http/server.js';
import type { HttpRequest } from '../src/protocols/http/server.js';
import { makeCert } from './support/http-env.js';
import { until } from './support/wait.js';
import type { Cert } from './support/http-env.js';

interface Fetched {
  events: string[];
  status: number;
  headers: { [k: string]: string };
  body: Buffer;
  /** The largest RESPONSE_BODY piece: bounded by the receive ring. */
  largestPiece: number;
  error: { code: number; message: string } | null;
  connectResult: number;
  closed: boolean;
  conns: number;
}

/** Runs one httpRequest and collects what the handler sees until CLOSE. */
function fetchWith(mgr: Manager, url: string, opts?: HttpRequestOptions): Promise<Fetched> {
  return new Promise((resolve) => {
    const f: Fetched = { events: [], status: 0, headers: {}, body: Buffer.alloc(0), largestPiece: 0, error: null, connectResult: -1, closed: false, conns: 0 };
    const pieces: Buffer[] = [];
    const seen = new Set<number>();
    const c = httpRequest(
      mgr,
      url,
      (conn, ev, data) => {
        if (!seen.has(conn.id)) {
          seen.add(conn.id);
          f.conns++;
        }
        switch (ev) {
          case Ev.CONNECT:
            f.events.push('CONNECT');
            f.connectResult = data;
            break;
          case HttpEv.RESPONSE: {
            f.events.push('RESPONSE');
            const r = data as HttpClientResponse;
            f.status = r.status;
            for (let i = 0; i < r.names.length; i++) f.headers[r.names[i]] = r.values[i];
            break;
          }
          case HttpEv.RESPONSE_BODY: {
            const chunk = (data as HttpClientResponse).chunk;
            if (f.events[f.events.length - 1] !== 'BODY') f.events.push('BODY');
            pieces.push(Buffer.from(chunk));
            if (chunk.length > f.largestPiece) f.largestPiece = chunk.length;
            break;
          }
          case HttpEv.RESPONSE_END:
            f.events.push('END');
            break;
          case Ev.ERROR:
            f.events.push('ERROR');
            f.error = data;
            break;
          case Ev.CLOSE:
            f.events.push('CLOSE');
            f.closed = true;
            f.body = Buffer.concat(pieces);
            resolve(f);
            break;
        }
      },
      opts,
    );
    assert.ok(c);
  });
}

let mgr: Manager;
let nodeServer: http.Server;
let base: string;
const received: { method: string; url: string; body: Buffer; headers: http.IncomingHttpHeaders }[] = [];
const big = Buffer.alloc(1024 * 1024);
for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 10)) & 255;

before(async () => {
  // small rings: nothing is ever collected beyond them
  mgr = new Manager(new NodeDriver(), { pools: { default: { conns: 8, recvBytes: 2048, sendBytes: 2048 } } });
  mgr.run();
  nodeServer = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      received.push({ method: req.method || '', url: req.url || '', body: Buffer.concat(parts), headers: req.headers });
      const u = req.url || '/';
      if (u === '/length') {
        res.setHeader('X-Test', 'Value');
        res.end('exactly this');
      } else if (u === '/chunked') {
        res.write('one,');
        setTimeout(() => {
          res.write('two,');
          res.end('three');
        }, 10);
      } else if (u === '/big') {
        res.setHeader('Content-Type', 'application/octet-stream');
        res.setHeader('Content-Length', big.length);
        res.end(big);
      } else if (u === '/echo') {
        res.end(createHash('sha256').update(Buffer.concat(parts)).digest('hex') + ' ' + Buffer.concat(parts).length);
      } else if (u === '/redirect') {
        res.statusCode = 302;
        res.setHeader('Location', '/hop');
        res.end('moved');
      } else if (u === '/hop') {
        res.statusCode = 307;
        res.setHeader('Location', base + '/final');
        res.end();
      } else if (u === '/see-other') {
        res.statusCode = 303;
        res.setHeader('Location', 'final');
        res.end();
      } else if (u === '/loop') {
        res.statusCode = 302;
        res.setHeader('Location', '/loop');
        res.end();
      } else if (u === '/final') {
        res.end('final ' + req.method + ' ' + Buffer.concat(parts).length);
      } else if (u === '/silent') {
        // never answers
      } else {
        res.statusCode = 404;
        res.end('no');
      }
    });
  });
  await new Promise<void>((resolve) => nodeServer.listen(0, '127.0.0.1', resolve));
  base = 'http://127.0.0.1:' + (nodeServer.address() as AddressInfo).port;
});

after(() => {
  mgr.shutdown();
  nodeServer.closeAllConnections();
  nodeServer.close();
});

test('node:http: a length-delimited response, headers case-insensitive, then CLOSE', async () => {
  const f = await fetchWith(mgr, base + '/length', { headers: { 'X-Asked': 'yes' } });
  assert.deepEqual(f.events, ['CONNECT', 'RESPONSE', 'BODY', 'END', 'CLOSE']);
  assert.equal(f.status, 200);
  assert.equal(f.headers['x-test'], 'Value');
  assert.equal(f.body.toString(), 'exactly this');
  const r = received[received.length - 1];
  assert.equal(r.headers['x-asked'], 'yes');
  assert.equal(r.headers.host, base.substring(7));
});

test('node:http: a chunked response is decoded', async () => {
  const f = await fetchWith(mgr, base + '/chunked');
  assert.equal(f.body.toString(), 'one,two,three');
  assert.equal(f.events[f.events.length - 2], 'END');
});

test('node:http: 1 MB streams through a 2 KB receive ring, never collected', async () => {
  const f = await fetchWith(mgr, base + '/big');
  assert.ok(f.body.equals(big));
  assert.ok(f.largestPiece <= 2048, 'largest piece ' + f.largestPiece);
});

test('node:http: a request body larger than the send ring goes out whole (string and bytes)', async () => {
  const body = Buffer.alloc(100 * 1024, 7);
  const bytes = await fetchWith(mgr, base + '/echo', { method: 'POST', body: new Uint8Array(body), headers: { 'Content-Type': 'application/octet-stream' } });
  assert.equal(bytes.body.toString(), createHash('sha256').update(body).digest('hex') + ' ' + body.length);
  const text = 'reading=' + 'x'.repeat(5000);
  const str = await fetchWith(mgr, base + '/echo', { method: 'PUT', body: text });
  assert.equal(str.body.toString(), createHash('sha256').update(text).digest('hex') + ' ' + text.length);
});

test('node:http: HEAD has no body whatever the length says', async () => {
  const f = await fetchWith(mgr, base + '/big', { method: 'HEAD' });
  assert.deepEqual(f.events, ['CONNECT', 'RESPONSE', 'END', 'CLOSE']);
  assert.equal(f.headers['content-length'], String(big.length));
});

test('redirects are not followed by default', async () => {
  const f = await fetchWith(mgr, base + '/redirect');
  assert.equal(f.status, 302);
  assert.equal(f.headers.location, '/hop');
  assert.equal(f.body.toString(), 'moved');
});

test('redirects are followed when allowed: 302 then 307 keep the method, 303 becomes GET, a limit stops loops', async () => {
  const f = await fetchWith(mgr, base + '/redirect', { maxRedirects: 3, method: 'PUT', body: 'abc' });
  assert.equal(f.status, 200);
  assert.equal(f.body.toString(), 'final PUT 3');
  assert.equal(f.conns, 3);
  assert.deepEqual(f.events, ['CONNECT', 'CONNECT', 'CONNECT', 'RESPONSE', 'BODY', 'END', 'CLOSE']);
  const other = await fetchWith(mgr, base + '/see-other', { maxRedirects: 1, method: 'POST', body: 'abc' });
  assert.equal(other.body.toString(), 'final GET 0');
  const loop = await fetchWith(mgr, base + '/loop', { maxRedirects: 2 });
  assert.equal(loop.status, 302);
  assert.equal(loop.conns, 3);
});

test('a server that never answers: ERROR(TIMEOUT) then CLOSE', async () => {
  const t0 = Date.now();
  const f = await fetchWith(mgr, base + '/silent', { timeoutMs: 300 });
  assert.deepEqual(f.events, ['CONNECT', 'ERROR', 'CLOSE']);
  assert.equal(f.error!.code, ErrorCode.TIMEOUT);
  assert.ok(Date.now() - t0 >= 290);
});

test('nothing listening: CONNECT(REFUSED) then CLOSE', async () => {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const f = await fetchWith(mgr, 'http://127.0.0.1:' + port + '/');
  assert.deepEqual(f.events, ['CONNECT', 'CLOSE']);
  assert.equal(f.connectResult, ErrorCode.REFUSED);
});

/** A one-shot raw server that writes `reply` to the first connection, then optionally closes. */
async function rawServer(reply: string, close: boolean): Promise<{ url: string; stop(): void }> {
  const srv = net.createServer((s) => {
    s.once('data', () => {
      s.write(Buffer.from(reply, 'latin1'));
      if (close) s.end();
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    url: 'http://127.0.0.1:' + (srv.address() as AddressInfo).port + '/',
    stop: () => srv.close(),
  };
}

test('a body delimited by the server closing ends with RESPONSE_END', async () => {
  const s = await rawServer('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the close', true);
  try {
    const f = await fetchWith(mgr, s.url);
    assert.deepEqual(f.events, ['CONNECT', 'RESPONSE', 'BODY', 'END', 'CLOSE']);
    assert.equal(f.body.toString(), 'until the close');
  } finally {
    s.stop();
  }
});

test('a response cut short, or malformed, is ERROR(PROTOCOL) then CLOSE', async () => {
  const cut = await rawServer('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this', true);
  const bad = await rawServer('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd', false);
  try {
    const f = await fetchWith(mgr, cut.url);
    assert.deepEqual(f.events, ['CONNECT', 'RESPONSE', 'BODY', 'ERROR', 'CLOSE']);
    assert.equal(f.error!.code, ErrorCode.PROTOCOL);
    const g = await fetchWith(mgr, bad.url);
    assert.deepEqual(g.events, ['CONNECT', 'ERROR', 'CLOSE']);
    assert.equal(g.error!.code, ErrorCode.PROTOCOL);
  } finally {
    cut.stop();
    bad.stop();
  }
});

test('https against node:https with a certificate made by openssl; an unknown CA is refused', async () => {
  let cert: Cert | null = null;
  let srv: https.Server | null = null;
  try {
    cert = await makeCert();
    srv = https.createServer({ cert: cert.cert, key: cert.key }, (req, res) => res.end('secure ' + req.url));
    await new Promise<void>((resolve) => srv!.listen(0, '127.0.0.1', resolve));
    const url = 'https://127.0.0.1:' + (srv.address() as AddressInfo).port + '/x';
    const ok = await fetchWith(mgr, url, { tls: { ca: cert.cert } });
    assert.equal(ok.body.toString(), 'secure /x');
    const refused = await fetchWith(mgr, url);
    assert.equal(refused.events[refused.events.length - 1], 'CLOSE');
    assert.ok(refused.status === 0, 'no response over an unverified connection');
  } finally {
    if (srv) {
      srv.closeAllConnections();
      srv.close();
    }
    if (cert) cert.remove();
  }
});

test('simulator: ringnet client and server over a wire cut into 1–3 byte pieces', async () => {
  const net1 = new SimNetwork({ seed: 7, latencyMs: 2, chunkMin: 1, chunkMax: 3 });
  const srvHost = net1.host('device');
  const cliHost = net1.host('laptop');
  const server = new Manager(srvHost, { pools: { default: { conns: 4, recvBytes: 512, sendBytes: 512 } } });
  const client = new Manager(cliHost, { pools: { default: { conns: 4, recvBytes: 256, sendBytes: 256 } } });
  const l = httpListen(server, 'http://0.0.0.0:80', (c, ev, data) => {
    if (ev === HttpEv.HEADERS) {
      const req = data as HttpRequest;
      if (req.path === '/upload') req.stream();
    }
    if (ev === HttpEv.BODY) (data as any).n = ((data as any).n || 0) + (data as HttpRequest).chunk.length;
    if (ev === HttpEv.END) (data as HttpRequest).res.send(200, 'got ' + (data as any).n);
    if (ev === HttpEv.MESSAGE) {
      const req = data as HttpRequest;
      const res = req.res;
      res.head(200, { 'Content-Type': 'text/plain' });
      for (let i = 0; i < 3; i++) res.write('part ' + i + ' of ' + req.path + ';');
      res.end();
    }
  }) as Connection;
  assert.ok(l);
  server.run();
  client.run();
  const results: Fetched[] = [];
  void fetchWith(client, 'http://device/sensors?x=1').then((f) => results.push(f));
  void fetchWith(client, 'http://device/upload', { method: 'POST', body: 'y'.repeat(3000) }).then((f) => results.push(f));
  net1.runWhile(() => results.length === 2, 60000);
  await until(() => results.length === 2, 1000);
  const byBody = results.map((r) => r.body.toString()).sort();
  assert.deepEqual(byBody, ['got 3000', 'part 0 of /sensors;part 1 of /sensors;part 2 of /sensors;']);
  for (const r of results) assert.equal(r.error, null);
  server.shutdown();
  client.shutdown();
});
