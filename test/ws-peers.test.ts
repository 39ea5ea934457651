/**
 * ringnet WebSockets against the `ws` package, both ways: `ws` clients
 * against the ringnet server (wsUpgrade from an HTTP handler), and the ringnet
 * client (wsConnect) against a `ws` server. Text, binary, fragmentation both
 * ways, close codes, ping/pong and the pong deadline, 1009 and 1007,
 * backpressure, subprotocols, masking, and TLS (wss).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as https from 'node:https';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { Manager } from '../src/core/manager.js';
import type { Connection } from '../src/core/connection.js';
import { ErrorCode, Ev } from '../src/core/events.js';
import { NodeDriver } from '../src/drivers/node.js';
import { HttpEv } from '../src/protocols/http/events.js';
import type { HttpHandler, HttpRequest } from '../src/protocols/http/server.js';
import { wsConnect } from '../src/protocols/ws/client.js';
import type { WsClientOptions } from '../src/protocols/ws/client.js';
import { WsEv } from '../src/protocols/ws/websocket.js';
import type { WebSocket as RingSocket, WsCloseInfo, WsMessage } from '../src/protocols/ws/websocket.js';
import { wsUpgrade } from '../src/protocols/ws/server.js';
import { MAX_FRAGMENTS } from '../src/protocols/ws/codec.js';
import { makeCert, raw, serve, statuses } from './support/http-env.js';
import { sleep, until } from './support/wait.js';
import type { Cert, Served } from './support/http-env.js';

// ---------- the ringnet server ----------

const serverClosed: WsCloseInfo[] = [];
let serverPongs = 0;
let opened = 0;

function echoApp(mgr: Manager, extra?: { maxMessage?: number; pingIntervalMs?: number; pongTimeoutMs?: number }): HttpHandler {
  return ((c, ev, data) => {
    if (ev === HttpEv.HEADERS) {
      const req = data as HttpRequest;
      if (req.path === '/ws' || req.path === '/ws-ping') {
        const o = req.path === '/ws-ping' ? { pingIntervalMs: 100, pongTimeoutMs: 150 } : {};
        wsUpgrade(req, (c2, ev2, d2) => {
          if (ev2 === WsEv.OPEN) opened++;
          else if (ev2 === WsEv.MESSAGE) onMessage(mgr, d2 as WsMessage);
          else if (ev2 === WsEv.PONG) serverPongs++;
          else if (ev2 === WsEv.CLOSED) serverClosed.push(d2 as WsCloseInfo);
        }, { protocols: ['telemetry'], fragmentBytes: 1000, maxMessage: 8192, ...extra, ...o });
      }
    } else if (ev === HttpEv.MESSAGE) {
      const req = data as HttpRequest;
      if (!req.res.started) req.res.send(404, 'no\n');
    }
  }) as HttpHandler;
}

function onMessage(mgr: Manager, m: WsMessage): void {
  const ws = m.ws;
  if (!m.binary) {
    const t = m.text();
    if (t.startsWith('cmd:close:')) {
      const [, , code, reason] = t.split(':');
      ws.close(+code, reason);
      return;
    }
    if (t === 'cmd:ping') {
      ws.ping('srv');
      return;
    }
    if (t.startsWith('cmd:big:')) {
      const n = +t.substring(8);
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = (i * 7) & 255;
      assert.ok(ws.send(b));
      return;
    }
    if (t === 'cmd:protocol') {
      ws.send('protocol=' + ws.protocol);
      return;
    }
  }
  if (!ws.send(m.data, m.binary)) m.deferUntilWritable(); // echo, with backpressure
}

let server: Served;

before(async () => {
  server = await serve((mgr) => echoApp(mgr), { mgr: { pools: { default: { conns: 16, recvBytes: 16384, sendBytes: 8192 } } } });
});

after(() => server.stop());

function open(url: string, opts?: WebSocket.ClientOptions, protocols?: string[]): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols || [], opts);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; binary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data: Buffer, binary: boolean) => resolve({ data, binary })));
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
}

const wsUrl = () => 'ws://127.0.0.1:' + server.port + '/ws';

test('ws client → ringnet server: text (unicode) and binary echo', async () => {
  const ws = await open(wsUrl());
  try {
    ws.send('grüße, 温度 21.5 °C 🌡');
    const t = await nextMessage(ws);
    assert.equal(t.binary, false);
    assert.equal(t.data.toString('utf8'), 'grüße, 温度 21.5 °C 🌡');
    const all = Buffer.alloc(256);
    for (let i = 0; i < 256; i++) all[i] = i;
    ws.send(all);
    const b = await nextMessage(ws);
    assert.equal(b.binary, true);
    assert.ok(b.data.equals(all));
  } finally {
    ws.close();
  }
});

test('ws client → ringnet server: fragments from the client are joined; a long reply goes out in fragments', async () => {
  const ws = await open(wsUrl());
  try {
    ws.send('frag', { fin: false });
    ws.send('men', { fin: false });
    ws.ping('between');
    ws.send('ted', { fin: true });
    assert.equal((await nextMessage(ws)).data.toString(), 'fragmented');
    // 50 KB from the server: 1000-byte fragments through an 8 KB send ring, resumed on SEND
    ws.send('cmd:big:50000');
    const big = await nextMessage(ws);
    assert.equal(big.data.length, 50000);
    for (let i = 0; i < 50000; i += 997) assert.equal(big.data[i], (i * 7) & 255);
  } finally {
    ws.close();
  }
});

test('ws client → ringnet server: a message in more fragments than the bound (128 by default, empty ones too) is closed with 1008', async () => {
  const ws = await open(wsUrl());
  // exactly the bound: joined and echoed
  ws.send('a', { fin: false });
  for (let i = 2; i < MAX_FRAGMENTS; i++) ws.send('', { fin: false });
  ws.send('b', { fin: true });
  assert.equal((await nextMessage(ws)).data.toString(), 'ab');
  // one more, pings between them not counted
  const c = closed(ws);
  const before = serverClosed.length;
  ws.send('a', { fin: false });
  for (let i = 1; i < MAX_FRAGMENTS; i++) {
    ws.send('', { fin: false });
    if (i % 16 === 0) ws.ping();
  }
  ws.send('b', { fin: true });
  const got = await Promise.race([c, nextMessage(ws).then((m) => ({ code: 0, reason: 'echoed ' + m.data.length + ' bytes' }))]);
  assert.equal(got.code, 1008, got.reason);
  assert.match(got.reason, /more than 128 fragments/);
  await until(() => serverClosed.length > before, 2000, 'the server reports the close');
  assert.equal(serverClosed[serverClosed.length - 1].code, 1008);
  assert.equal(serverClosed[serverClosed.length - 1].remote, false);
});

test('ws client → ringnet server: an 8 KB message is echoed from the receive ring in fragments, nothing copied', async () => {
  const ws = await open(wsUrl());
  try {
    const big = Buffer.alloc(8000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 3) & 255;
    const got: Buffer[] = [];
    ws.on('message', (d: Buffer) => got.push(d));
    for (let k = 0; k < 5; k++) ws.send(big);
    await until(() => got.length === 5, 5000, 'five echoes');
    for (const g of got) assert.ok(g.equals(big));
  } finally {
    ws.close();
  }
});

test('ws client → ringnet server: close handshake with codes, both directions', async () => {
  const a = await open(wsUrl());
  const aClosed = closed(a);
  const before = serverClosed.length;
  a.close(4001, 'client bye');
  assert.deepEqual(await aClosed, { code: 4001, reason: 'client bye' });
  await until(() => serverClosed.length > before);
  assert.deepEqual(serverClosed[serverClosed.length - 1], { code: 4001, reason: 'client bye', remote: true });

  const b = await open(wsUrl());
  const bClosed = closed(b);
  b.send('cmd:close:4002:server bye');
  assert.deepEqual(await bClosed, { code: 4002, reason: 'server bye' });
  await until(() => serverClosed.length > before + 1);
  assert.deepEqual(serverClosed[serverClosed.length - 1], { code: 4002, reason: 'server bye', remote: false });
});

test('ws client → ringnet server: ping is answered; the server pings and sees the pong', async () => {
  const ws = await open(wsUrl());
  try {
    const pong = new Promise<Buffer>((resolve) => ws.once('pong', resolve));
    ws.ping('are you there');
    assert.equal((await pong).toString(), 'are you there');
    const before = serverPongs;
    const ping = new Promise<Buffer>((resolve) => ws.once('ping', resolve));
    ws.send('cmd:ping');
    assert.equal((await ping).toString(), 'srv');
    await until(() => serverPongs > before);
  } finally {
    ws.close();
  }
});

test('ws client → ringnet server: a peer that never answers pings is dropped at the pong deadline', async () => {
  const ws = await open('ws://127.0.0.1:' + server.port + '/ws-ping', { autoPong: false });
  const before = serverClosed.length;
  const t0 = Date.now();
  const c = await closed(ws);
  assert.equal(c.code, 1006); // no close frame: the connection was dropped
  await until(() => serverClosed.length > before);
  const info = serverClosed[serverClosed.length - 1];
  assert.equal(info.code, 1006);
  assert.match(info.reason, /no pong/);
  assert.ok(Date.now() - t0 >= 200, 'after a ping interval and a pong timeout');
});

test('ws client → ringnet server: a message over the limit is refused with 1009 from its declared length', async () => {
  const ws = await open(wsUrl());
  const c = closed(ws);
  ws.send(Buffer.alloc(20000, 1));
  assert.equal((await c).code, 1009);
});

test('ws client → ringnet server: invalid UTF-8 in a text message is refused with 1007', async () => {
  const ws = await open(wsUrl());
  const c = closed(ws);
  ws.send(Buffer.from([0x61, 0xff, 0x62]), { binary: false });
  assert.equal((await c).code, 1007);
});

test('ws client → ringnet server: subprotocol chosen from what the client offers', async () => {
  const ws = await open(wsUrl(), {}, ['chat', 'telemetry']);
  try {
    assert.equal(ws.protocol, 'telemetry');
    ws.send('cmd:protocol');
    assert.equal((await nextMessage(ws)).data.toString(), 'protocol=telemetry');
  } finally {
    ws.close();
  }
});

test('ws client → ringnet server: backpressure — a paused reader stalls the echo, nothing is lost or reordered', async () => {
  const ws = await open(wsUrl());
  try {
    const got: number[] = [];
    ws.on('message', (d: Buffer) => got.push(d.readUInt32BE(0)));
    (ws as any)._socket.pause(); // stop reading: the server's send ring fills, then its receive ring
    const N = 3000;
    for (let i = 0; i < N; i++) {
      const b = Buffer.alloc(200);
      b.writeUInt32BE(i, 0);
      ws.send(b);
    }
    await sleep(200);
    const during = got.length;
    (ws as any)._socket.resume();
    await until(() => got.length === N, 10000, 'all echoes');
    assert.ok(during < N, 'the echo waited for the reader');
    for (let i = 0; i < N; i++) assert.equal(got[i], i);
  } finally {
    ws.close();
  }
});

test('handshake errors: wrong version is 426, a bad key is 400, a plain request is just HTTP', async () => {
  const v = await raw(server.port, 'GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n', {
    done: (d) => d.indexOf('\r\n\r\n') > 0,
  });
  assert.deepEqual(statuses(v.data), [426]);
  assert.match(v.data, /Sec-WebSocket-Version: 13\r\n/);
  const k = await raw(server.port, 'GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n', {
    done: (d) => d.indexOf('\r\n\r\n') > 0,
  });
  assert.deepEqual(statuses(k.data), [400]);
  const plain = await raw(server.port, 'GET /ws HTTP/1.1\r\nHost: a\r\n\r\n', { done: (d) => d.indexOf('\r\n\r\n') > 0 });
  assert.deepEqual(statuses(plain.data), [400]);
});

test('handshake errors: a request with two Sec-WebSocket-Key fields is 400 (RFC 6455 11.3.1), never 101', async () => {
  const head = 'GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n';
  const key = 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
  const other = 'Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==\r\n';
  for (const keys of [key + key, key + other, 'Sec-WebSocket-Key:\r\n' + key, key + 'Sec-WebSocket-Key: \r\n']) {
    const r = await raw(server.port, head + keys + '\r\n', { done: (d) => d.indexOf('\r\n\r\n') > 0 });
    assert.deepEqual(statuses(r.data), [400], JSON.stringify(keys) + ' → ' + r.data);
  }
  // one key is still fine
  const ok = await raw(server.port, head + key + '\r\n', { done: (d) => d.indexOf('\r\n\r\n') > 0 });
  assert.deepEqual(statuses(ok.data), [101]);
});

// ---------- the ringnet client against a ws server ----------

interface ClientLog {
  c: Connection | null;
  ws: RingSocket | null;
  events: string[];
  messages: { binary: boolean; data: Buffer }[];
  closed: WsCloseInfo | null;
  error: { code: number; message: string } | null;
  done: boolean;
  pongs: number;
}

function connect(mgr: Manager, url: string, opts?: WsClientOptions, onMsg?: (m: WsMessage, log: ClientLog) => void): ClientLog {
  const log: ClientLog = { c: null, ws: null, events: [], messages: [], closed: null, error: null, done: false, pongs: 0 };
  log.c = wsConnect(
    mgr,
    url,
    (c, ev, data) => {
      switch (ev) {
        case Ev.CONNECT:
          log.events.push('CONNECT');
          break;
        case WsEv.OPEN:
          log.events.push('OPEN');
          log.ws = data as RingSocket;
          break;
        case WsEv.MESSAGE: {
          const m = data as WsMessage;
          log.messages.push({ binary: m.binary, data: Buffer.from(m.data) });
          if (onMsg) onMsg(m, log);
          break;
        }
        case WsEv.PONG:
          log.pongs++;
          break;
        case WsEv.CLOSED:
          log.events.push('CLOSED');
          log.closed = data as WsCloseInfo;
          break;
        case Ev.ERROR:
          log.events.push('ERROR');
          log.error = data as { code: number; message: string };
          break;
        case Ev.CLOSE:
          log.events.push('CLOSE');
          log.done = true;
          break;
      }
    },
    opts,
  );
  return log;
}

let mgr: Manager;
let wss: WebSocketServer;
let wssPort = 0;
const wssClosed: { code: number; reason: string }[] = [];
let wssPongs = 0;

before(async () => {
  mgr = new Manager(new NodeDriver(), { pools: { default: { conns: 8, recvBytes: 8192, sendBytes: 4096 } } });
  mgr.run();
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (p) => (p.has('telemetry') ? 'telemetry' : false) });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  wssPort = (wss.address() as AddressInfo).port;
  wss.on('connection', (sock, req) => {
    sock.on('pong', () => wssPongs++);
    sock.on('close', (code: number, reason: Buffer) => wssClosed.push({ code, reason: reason.toString() }));
    sock.on('message', (data: Buffer, binary: boolean) => {
      const t = binary ? '' : data.toString();
      if (t === 'frag-me') {
        sock.send('one ', { fin: false });
        sock.ping('mid');
        sock.send('two ', { fin: false });
        sock.send('three', { fin: true });
      } else if (t.startsWith('close:')) {
        sock.close(+t.split(':')[1], 'ws bye');
      } else if (t === 'ping-me') {
        sock.ping('from ws');
      } else if (t.startsWith('big:')) {
        sock.send(Buffer.alloc(+t.substring(4), 3));
      } else if (t === 'url') {
        sock.send(req.url + ' ' + req.headers['x-device']);
      } else {
        sock.send(data, { binary }); // echo
      }
    });
  });
});

after(async () => {
  mgr.shutdown();
  for (const c of wss.clients) c.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
});

const wsServerUrl = (path = '/') => 'ws://127.0.0.1:' + wssPort + path;

test('ringnet client → ws server: handshake, text and binary echo, subprotocol, extra headers', async () => {
  const log = connect(mgr, wsServerUrl('/dev?id=3'), { protocols: ['telemetry'], headers: { 'X-Device': 'esp32' } });
  await until(() => log.ws !== null, 3000, 'OPEN');
  assert.deepEqual(log.events, ['CONNECT', 'OPEN']);
  assert.equal(log.ws!.protocol, 'telemetry');
  log.ws!.send('héllo ✓');
  log.ws!.send(Uint8Array.from([0, 1, 2, 254, 255]));
  log.ws!.send('url');
  await until(() => log.messages.length === 3);
  assert.equal(log.messages[0].binary, false);
  assert.equal(log.messages[0].data.toString('utf8'), 'héllo ✓');
  assert.deepEqual([...log.messages[1].data], [0, 1, 2, 254, 255]);
  assert.equal(log.messages[2].data.toString(), '/dev?id=3 esp32');
  log.ws!.close();
  await until(() => log.done);
});

test('ringnet client → ws server: fragments both ways, with a ping between fragments', async () => {
  const log = connect(mgr, wsServerUrl(), { fragmentBytes: 100 });
  await until(() => log.ws !== null);
  const text = 'ringnet-'.repeat(150); // 1200 bytes: 12 fragments of 100
  assert.ok(log.ws!.send(text));
  log.ws!.send('frag-me');
  await until(() => log.messages.length === 2);
  assert.equal(log.messages[0].data.toString(), text);
  assert.equal(log.messages[1].data.toString(), 'one two three');
  log.ws!.close();
  await until(() => log.done);
});

test('ringnet client → ws server: pings both ways', async () => {
  const log = connect(mgr, wsServerUrl());
  await until(() => log.ws !== null);
  const before = wssPongs;
  log.ws!.send('ping-me'); // ws pings, the ringnet client answers
  await until(() => wssPongs > before, 3000, 'pong at the ws server');
  assert.ok(log.ws!.ping('rn'));
  await until(() => log.pongs === 1, 3000, 'pong at the ringnet client');
  log.ws!.close();
  await until(() => log.done);
});

test('ringnet client → ws server: close codes both ways', async () => {
  const a = connect(mgr, wsServerUrl());
  await until(() => a.ws !== null);
  const before = wssClosed.length;
  a.ws!.close(4003, 'rn bye');
  await until(() => a.done && wssClosed.length > before);
  assert.deepEqual(wssClosed[wssClosed.length - 1], { code: 4003, reason: 'rn bye' });
  assert.deepEqual(a.closed, { code: 4003, reason: 'rn bye', remote: false });
  assert.deepEqual(a.events, ['CONNECT', 'OPEN', 'CLOSED', 'CLOSE']);

  const b = connect(mgr, wsServerUrl());
  await until(() => b.ws !== null);
  b.ws!.send('close:4004');
  await until(() => b.done);
  assert.deepEqual(b.closed, { code: 4004, reason: 'ws bye', remote: true });
});

test('ringnet client → ws server: a message over the client limit is refused with 1009', async () => {
  const log = connect(mgr, wsServerUrl(), { maxMessage: 1000 });
  await until(() => log.ws !== null);
  const before = wssClosed.length;
  log.ws!.send('big:5000');
  await until(() => log.done && wssClosed.length > before);
  assert.equal(log.closed!.code, 1009);
  assert.equal(wssClosed[wssClosed.length - 1].code, 1009);
});

test('ringnet client: a refused handshake is ERROR(PROTOCOL) then CLOSE', async () => {
  const plain = await serve(() => ((c, ev, data) => {
    if (ev === HttpEv.MESSAGE) (data as HttpRequest).res.send(404, 'not here');
  }) as HttpHandler);
  try {
    const log = connect(mgr, 'ws://127.0.0.1:' + plain.port + '/');
    await until(() => log.done);
    assert.deepEqual(log.events, ['CONNECT', 'ERROR', 'CLOSE']);
    assert.equal(log.error!.code, ErrorCode.PROTOCOL);
    assert.match(log.error!.message, /404/);
  } finally {
    plain.stop();
  }
});

test('ringnet client: every frame is masked with a fresh key from the random source', async () => {
  // a minimal server that completes the handshake and records the raw frames
  const frames: Buffer[] = [];
  const srv = net.createServer((s) => {
    let buf = Buffer.alloc(0);
    let upgraded = false;
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const key = /Sec-WebSocket-Key: (.*)\r\n/i.exec(buf.toString('latin1'))![1];
        const accept = acceptFor(key);
        s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ' + accept + '\r\n\r\n');
        buf = buf.subarray(end + 4);
        upgraded = true;
      }
      while (buf.length >= 2) {
        const len = buf[1] & 127; // small frames only in this test
        if (buf.length < 6 + len) break;
        frames.push(buf.subarray(0, 6 + len));
        buf = buf.subarray(6 + len);
      }
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  try {
    const port = (srv.address() as AddressInfo).port;
    const log = connect(mgr, 'ws://127.0.0.1:' + port + '/');
    await until(() => log.ws !== null);
    for (let i = 0; i < 20; i++) log.ws!.send('same text');
    await until(() => frames.length === 20);
    const keys = new Set<string>();
    for (const f of frames) {
      assert.equal(f[1] & 0x80, 0x80, 'MASK bit set');
      keys.add(f.subarray(2, 6).toString('hex'));
      const payload = Buffer.from(f.subarray(6));
      for (let i = 0; i < payload.length; i++) payload[i] ^= f[2 + (i & 3)];
      assert.equal(payload.toString(), 'same text');
    }
    assert.equal(keys.size, 20, 'a new key for every frame');
    // an injected source is the one used
    frames.length = 0;
    let calls = 0;
    const fixed = connect(mgr, 'ws://127.0.0.1:' + port + '/', {
      random: (into) => {
        calls++;
        into.fill(0x11);
      },
    });
    await until(() => fixed.ws !== null);
    fixed.ws!.send('x');
    await until(() => frames.length === 1);
    assert.equal(frames[0].subarray(2, 6).toString('hex'), '11111111');
    assert.ok(calls >= 2, 'the handshake key and the masking keys came from it');
    log.c!.close();
    fixed.c!.close();
  } finally {
    srv.close();
  }
});

test('ringnet client: a 101 with a second Sec-WebSocket-Accept (or Sec-WebSocket-Protocol) field is refused', async () => {
  let extra = '';
  const srv = net.createServer((s) => {
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (buf.indexOf('\r\n\r\n') < 0) return;
      const key = /Sec-WebSocket-Key: (.*)\r\n/i.exec(buf)![1];
      s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ' + acceptFor(key) + '\r\n' + extra + '\r\n');
    });
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  try {
    const url = 'ws://127.0.0.1:' + (srv.address() as AddressInfo).port + '/';
    for (const e of ['Sec-WebSocket-Accept: x3JJHMbDL1EzLkh9GBhXDw==\r\n', 'Sec-WebSocket-Protocol: telemetry\r\nSec-WebSocket-Protocol: chat\r\n']) {
      extra = e;
      const log = connect(mgr, url, { protocols: ['telemetry', 'chat'] });
      await until(() => log.done);
      assert.deepEqual(log.events, ['CONNECT', 'ERROR', 'CLOSE'], e);
      assert.equal(log.error!.code, ErrorCode.PROTOCOL);
    }
    // the same answer without the second field opens
    extra = 'Sec-WebSocket-Protocol: chat\r\n';
    const log = connect(mgr, url, { protocols: ['telemetry', 'chat'] });
    await until(() => log.ws !== null);
    assert.equal(log.ws!.protocol, 'chat');
    log.c!.close();
  } finally {
    srv.close();
  }
});

/** Sec-WebSocket-Accept computed with node:crypto, independently of the SHA-1 under test. */
function acceptFor(key: string): string {
  return createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
}

test('wss: the ringnet client against a ws server over https, and a ws client against the ringnet wss server', async () => {
  let cert: Cert | null = null;
  let httpsServer: https.Server | null = null;
  let secureWss: WebSocketServer | null = null;
  let tlsServed: Served | null = null;
  try {
    cert = await makeCert();
    httpsServer = https.createServer({ cert: cert.cert, key: cert.key });
    secureWss = new WebSocketServer({ server: httpsServer });
    secureWss.on('connection', (s) => s.on('message', (d: Buffer, binary: boolean) => s.send(d, { binary })));
    await new Promise<void>((resolve) => httpsServer!.listen(0, '127.0.0.1', resolve));
    const port = (httpsServer.address() as AddressInfo).port;
    const log = connect(mgr, 'wss://127.0.0.1:' + port + '/', { tls: { ca: cert.cert } });
    await until(() => log.ws !== null, 5000, 'wss OPEN');
    log.ws!.send('over tls');
    await until(() => log.messages.length === 1);
    assert.equal(log.messages[0].data.toString(), 'over tls');
    log.ws!.close();
    await until(() => log.done);

    tlsServed = await serve((m) => echoApp(m), { scheme: 'https', tls: { cert: cert.cert, key: cert.key }, mgr: { pools: { default: { conns: 4, recvBytes: 16384, sendBytes: 8192 } } } });
    const client = await open('wss://127.0.0.1:' + tlsServed.port + '/ws', { ca: cert.cert });
    client.send('secure echo');
    assert.equal((await nextMessage(client)).data.toString(), 'secure echo');
    client.close();
  } finally {
    if (tlsServed) tlsServed.stop();
    if (secureWss) for (const c of secureWss.clients) c.terminate();
    if (httpsServer) {
      httpsServer.closeAllConnections();
      httpsServer.close();
    }
    if (cert) cert.remove();
  }
});

test('server bookkeeping: upgraded connections no longer count as HTTP connections', async () => {
  const ws = await open(wsUrl());
  await until(() => opened > 0);
  const srv = server.listener.protocolState as { live: number };
  assert.equal(srv.live, 0);
  ws.close();
});
