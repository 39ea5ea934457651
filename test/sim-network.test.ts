/** The simulator itself: determinism, and each fault it offers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from '../src/core/connection.js';
import { ErrorCode, Ev } from '../src/core/events.js';
import { Manager } from '../src/core/manager.js';
import { SimNetwork } from '../src/drivers/sim.js';
import { EV_NAMES, drain } from './support/trace.js';

/** Three clients talk to one echo server over a jittery, chunking network; returns the event trace. */
function scenario(seed: number): string[] {
  const net = new SimNetwork({ seed, latencyMs: 2, jitterMs: 5, chunkMin: 1, chunkMax: 40, windowBytes: 256 });
  const server = new Manager(net.host('server'), { pools: { default: { conns: 4, recvBytes: 64, sendBytes: 64 } } });
  const trace: string[] = [];
  const log = (who: string) => (c: Connection, ev: number, data: any) => {
    if (ev !== Ev.POLL) trace.push(net.now.toFixed(3) + ' ' + who + c.id + ' ' + EV_NAMES[ev] + ' ' + (typeof data === 'number' ? data : ''));
  };
  const l = server.listen('tcp://0.0.0.0:7', (c, ev, data) => {
    log('s')(c, ev, data);
    if (ev === Ev.RECV && c.canSend(c.recv.length)) c.send(drain(c));
  }) as Connection;
  server.run();
  for (let i = 0; i < 3; i++) {
    const m = new Manager(net.host('c' + i), { pools: { default: { conns: 1, recvBytes: 64, sendBytes: 64 } } });
    m.run();
    let sent = 0;
    m.connect('tcp://server:' + l.remote.port, (c, ev, data) => {
      log('c' + i + '-')(c, ev, data);
      if ((ev === Ev.CONNECT || ev === Ev.SEND) && sent < 300 && c.send('0123456789')) sent += 10;
      if (ev === Ev.RECV) c.recv.discard(data);
      if (sent >= 300 && ev === Ev.SEND && c.unsent.length === 0) c.end();
    });
  }
  net.runFor(5000);
  return trace;
}

test('the same seed gives the same event trace; another seed another interleaving', () => {
  const a = scenario(42);
  const b = scenario(42);
  const c = scenario(43);
  assert.ok(a.length > 100, 'a busy trace: ' + a.length);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.equal(a.filter((l) => l.indexOf(' CLOSE') > 0).length, 6, 'every connection closed once on each side');
});

function pair(opts?: ConstructorParameters<typeof SimNetwork>[0]) {
  const net = new SimNetwork(opts || { seed: 1 });
  const sh = net.host('broker');
  const dh = net.host('device');
  const server = new Manager(sh);
  const device = new Manager(dh);
  server.run();
  device.run();
  const events: string[] = [];
  const l = server.listen('tcp://0.0.0.0:1883', (c, ev, data) => {
    if (ev === Ev.RECV) c.send(drain(c));
    if (ev === Ev.ERROR) events.push('server ERROR ' + data.code);
    if (ev === Ev.CLOSE) events.push('server CLOSE');
  }) as Connection;
  return { net, sh, dh, server, device, events, port: l.remote.port };
}

test('link down kills the device streams (UNREACHABLE), fails new connects fast, and comes back', () => {
  const p = pair();
  const seen: string[] = [];
  p.device.onLinkChange = (up) => seen.push('link ' + (up ? 'up' : 'down'));
  let result = -1;
  p.device.connect('tcp://broker:1883', (c, ev, data) => {
    if (ev === Ev.ERROR) seen.push('ERROR ' + data.code);
    if (ev === Ev.CLOSE) seen.push('CLOSE');
  });
  p.net.runFor(50);
  p.dh.setLink(false);
  p.net.runFor(50);
  assert.deepEqual(seen, ['link down', 'ERROR ' + ErrorCode.UNREACHABLE, 'CLOSE'], 'the link news comes first in that poll');
  assert.deepEqual(p.events, ['server ERROR ' + ErrorCode.RESET, 'server CLOSE'], 'the broker hears a reset');
  p.device.connect('tcp://broker:1883', (c, ev, data) => {
    if (ev === Ev.CONNECT) result = data;
  });
  p.net.runFor(1);
  assert.equal(result, ErrorCode.UNREACHABLE, 'connects fail at once while the link is down');
  p.dh.setLink(true);
  let echoed = '';
  p.device.connect('tcp://broker:1883', (c, ev) => {
    if (ev === Ev.CONNECT) c.send('back');
    if (ev === Ev.RECV) echoed += drain(c);
  });
  p.net.runFor(50);
  assert.equal(echoed, 'back');
  assert.equal(seen[seen.length - 1], 'link up');
});

test('a partition stalls traffic until it heals; nothing is lost or reordered', () => {
  const p = pair({ seed: 2, chunkMin: 3, chunkMax: 9 });
  let echoed = '';
  let conn: Connection | null = null;
  p.device.connect('tcp://broker:1883', (c, ev) => {
    if (ev === Ev.CONNECT) conn = c;
    if (ev === Ev.RECV) echoed += drain(c);
  });
  p.net.runFor(20);
  p.net.partition('broker', 'device', true);
  (conn as unknown as Connection).send('during the partition');
  p.net.runFor(10000);
  assert.equal(echoed, '', 'nothing crosses a partition');
  p.net.partition('broker', 'device', false);
  p.net.runFor(100);
  assert.equal(echoed, 'during the partition');
});

test('resetAll: both ends see RESET as ERROR then CLOSE', () => {
  const p = pair();
  const seen: string[] = [];
  p.device.connect('tcp://broker:1883', (c, ev, data) => {
    if (ev === Ev.ERROR) seen.push('ERROR ' + data.code);
    if (ev === Ev.CLOSE) seen.push('CLOSE');
  });
  p.net.runFor(20);
  p.sh.resetAll();
  p.net.runFor(20);
  assert.deepEqual(seen, ['ERROR ' + ErrorCode.RESET, 'CLOSE']);
  assert.deepEqual(p.events, ['server ERROR ' + ErrorCode.RESET, 'server CLOSE']);
});

test('a connect to a host that never answers times out with CONNECT(TIMEOUT)', () => {
  const p = pair();
  p.net.partition('broker', 'device', true);
  const seen: string[] = [];
  p.device.connect('tcp://broker:1883', (c, ev, data) => seen.push(EV_NAMES[ev] + (ev === Ev.CONNECT ? ' ' + data : '')), { timeoutMs: 3000 });
  p.net.runFor(2900);
  assert.deepEqual(seen, []);
  p.net.runFor(200);
  assert.deepEqual(seen, ['CONNECT ' + ErrorCode.TIMEOUT, 'CLOSE']);
});

test('an idle manager sleeps: a connect timeout or an early timer never makes it poll in a loop', () => {
  const p = pair();
  let polls = 0;
  const original = p.device.poll.bind(p.device);
  p.device.poll = () => {
    polls++;
    original();
  };
  p.device.connect('tcp://broker:1883', (c, ev) => {
    if (ev === Ev.CONNECT) c.setTimer(5000);
  }, { timeoutMs: 100 });
  const early = p.device.connect('tcp://broker:1883', () => {}, { timeoutMs: 50 }) as Connection;
  early.setTimer(1); // due before CONNECT: must wait for it, not spin
  p.net.runFor(10000);
  assert.ok(polls < 250, 'about one poll per pollMs while idle, got ' + polls);
});

test('after the peer closes, every byte it sent is still delivered to a slow reader before CLOSE', () => {
  const net = new SimNetwork({ seed: 5, chunkMin: 50, chunkMax: 50, windowBytes: 4096 });
  const server = new Manager(net.host('server'), { pools: { default: { conns: 2, recvBytes: 64, sendBytes: 64 } } });
  const client = new Manager(net.host('client'));
  server.run();
  client.run();
  let got = 0;
  let closedWith = -1;
  const l = server.listen('tcp://0.0.0.0:9', (c, ev) => {
    // A slow consumer on its own clock: 10 bytes every 30 ms, far slower than the peer sends.
    if (ev === Ev.ACCEPT || ev === Ev.TIMER) {
      got += c.recv.discard(10);
      c.setTimer(30);
    }
    if (ev === Ev.CLOSE) closedWith = got + c.recv.length;
  }) as Connection;
  client.connect('tcp://server:' + l.remote.port, (c, ev) => {
    if (ev === Ev.CONNECT) {
      assert.ok(c.send(new Uint8Array(2000)));
      c.end(); // the peer is gone right after sending
    }
  });
  net.runFor(60000);
  assert.equal(closedWith, 2000, 'nothing the peer sent was lost when it closed');
});

test('after the peer closes, a handler that stops consuming a full ring does not keep the connection forever', () => {
  const net = new SimNetwork({ seed: 5 });
  const server = new Manager(net.host('server'), { pools: { default: { conns: 2, recvBytes: 64, sendBytes: 64 } } });
  const client = new Manager(net.host('client'));
  server.run();
  client.run();
  let closed = false;
  const l = server.listen('tcp://0.0.0.0:9', (c, ev) => {
    if (ev === Ev.CLOSE) closed = true; // never consumes
  }) as Connection;
  client.connect('tcp://server:' + l.remote.port, (c, ev) => {
    if (ev === Ev.CONNECT) {
      c.send(new Uint8Array(1000));
      c.end();
    }
  });
  net.runFor(9000);
  assert.ok(!closed, 'it waits a while for the handler');
  net.runFor(2000);
  assert.ok(closed, 'then gives up');
});

test('bandwidth: a stream takes its size over the link rate, plus latency', () => {
  const net = new SimNetwork({ seed: 3, bandwidth: 10, latencyMs: 5, chunkMin: 100, chunkMax: 100, windowBytes: 65536 }); // 10 bytes per ms
  const server = new Manager(net.host('server'), { pools: { default: { conns: 2, recvBytes: 8192, sendBytes: 8192 } } });
  const client = new Manager(net.host('client'), { pools: { default: { conns: 2, recvBytes: 8192, sendBytes: 8192 } } });
  server.run();
  client.run();
  let got = 0;
  let doneAt = -1;
  let sentAt = -1;
  const l = server.listen('tcp://0.0.0.0:9', (c, ev, data) => {
    if (ev === Ev.RECV) {
      got += c.recv.discard(data);
      if (got === 5000) doneAt = net.now;
    }
  }) as Connection;
  client.connect('tcp://server:' + l.remote.port, (c, ev) => {
    if (ev === Ev.CONNECT) {
      sentAt = net.now;
      c.send(new Uint8Array(5000));
    }
  });
  net.runFor(5000);
  assert.equal(got, 5000);
  const took = doneAt - sentAt;
  assert.ok(took >= 500 + 5 && took < 600, '5000 B at 10 B/ms took ' + took + ' ms');
});
