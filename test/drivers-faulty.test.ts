/** The fault wrapper over the real Node driver: link drops, latency, resets. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from '../src/core/connection.js';
import { ErrorCode, Ev } from '../src/core/events.js';
import { Manager } from '../src/core/manager.js';
import type { Driver } from '../src/core/driver.js';
import { FaultyDriver } from '../src/drivers/faulty.js';
import { NodeDriver } from '../src/drivers/node.js';
import { until } from './support/wait.js';
import { drain } from './support/trace.js';


function echoServer(): { mgr: Manager; port: () => number } {
  const mgr = new Manager(new NodeDriver());
  const l = mgr.listen('tcp://127.0.0.1:0', (c, ev) => {
    if (ev === Ev.RECV) c.send(drain(c));
  }) as Connection;
  mgr.run();
  return { mgr, port: () => l.remote.port };
}

test('link down kills streams with UNREACHABLE and fails connects fast; up again works', async () => {
  const server = echoServer();
  const faulty = new FaultyDriver(new NodeDriver());
  const device = new Manager(faulty);
  device.run();
  try {
    await until(() => server.port() > 0, 5000, 'bound');
    const url = 'tcp://127.0.0.1:' + server.port();
    const seen: string[] = [];
    const links: boolean[] = [];
    device.onLinkChange = (up) => links.push(up);
    device.connect(url, (c, ev, data) => {
      if (ev === Ev.CONNECT) seen.push('CONNECT ' + data);
      if (ev === Ev.ERROR) seen.push('ERROR ' + data.code);
      if (ev === Ev.CLOSE) seen.push('CLOSE');
    });
    await until(() => seen.length === 1, 5000, 'connect');
    faulty.setLink(false);
    await until(() => seen.length === 3, 5000, 'close');
    assert.deepEqual(seen, ['CONNECT 0', 'ERROR ' + ErrorCode.UNREACHABLE, 'CLOSE']);
    let result = -1;
    device.connect(url, (c, ev, data) => {
      if (ev === Ev.CONNECT) result = data;
    });
    await until(() => result >= 0, 5000, 'fast failure');
    assert.equal(result, ErrorCode.UNREACHABLE);
    faulty.setLink(true);
    let echoed = '';
    device.connect(url, (c, ev) => {
      if (ev === Ev.CONNECT) c.send('back online');
      if (ev === Ev.RECV) echoed += drain(c);
    });
    await until(() => echoed === 'back online', 5000, 'echo after the link returned');
    assert.deepEqual(links, [false, true]);
  } finally {
    device.shutdown();
    server.mgr.shutdown();
  }
});

/** Milliseconds from sending "ping" to the echo arriving, through a FaultyDriver set up by `configure`. */
async function echoDelay(configure: (d: FaultyDriver) => void): Promise<number> {
  const server = echoServer();
  const faulty = new FaultyDriver(new NodeDriver());
  configure(faulty);
  const device = new Manager(faulty);
  device.run();
  try {
    await until(() => server.port() > 0, 5000, 'bound');
    let sentAt = 0;
    let gotAt = 0;
    device.connect('tcp://127.0.0.1:' + server.port(), (c, ev) => {
      if (ev === Ev.CONNECT) {
        sentAt = c.now();
        c.send('ping');
      }
      if (ev === Ev.RECV) {
        gotAt = c.now();
        drain(c);
      }
    });
    await until(() => gotAt > 0, 5000, 'the echo');
    return gotAt - sentAt;
  } finally {
    device.shutdown();
    server.mgr.shutdown();
  }
}

test('latency holds inbound bytes back at least that long', async () => {
  const took = await echoDelay((d) => (d.latencyMs = 120));
  assert.ok(took >= 119, 'held back: ' + took + ' ms');
});

test('loss: a lost inbound segment arrives a retransmission timeout late', async () => {
  const took = await echoDelay((d) => {
    d.lossRate = 1; // every segment
    d.retransmitMs = 150;
  });
  assert.ok(took >= 149, 'retransmitted: ' + took + ' ms');
});

test('resetAll ends every stream with RESET', async () => {
  const server = echoServer();
  const faulty = new FaultyDriver(new NodeDriver());
  const device = new Manager(faulty);
  device.run();
  try {
    await until(() => server.port() > 0, 5000, 'bound');
    const codes: number[] = [];
    let open = 0;
    for (let i = 0; i < 3; i++) {
      device.connect('tcp://127.0.0.1:' + server.port(), (c, ev, data) => {
        if (ev === Ev.CONNECT) open++;
        if (ev === Ev.ERROR) codes.push(data.code);
      });
    }
    await until(() => open === 3, 5000, 'three connections');
    faulty.resetAll();
    await until(() => codes.length === 3, 5000, 'three resets');
    assert.deepEqual(codes, [ErrorCode.RESET, ErrorCode.RESET, ErrorCode.RESET]);
  } finally {
    device.shutdown();
    server.mgr.shutdown();
  }
});

test('randomBytes comes from the wrapped driver (its own random is for the faults)', () => {
  const inner = new NodeDriver();
  let asked = 0;
  const original = inner.randomBytes.bind(inner);
  inner.randomBytes = (into: Uint8Array) => {
    asked++;
    original(into);
  };
  const d = new FaultyDriver(inner);
  d.random = () => 0; // the loss source: must not be what fills the bytes
  const a = new Uint8Array(32);
  assert.ok(d.randomBytes, 'present: the wrapped driver has one');
  d.randomBytes(a);
  assert.equal(asked, 1);
  assert.ok(a.some((b) => b !== 0), 'filled');
  const none = new FaultyDriver({ name: 'bare', hasTls: false } as unknown as Driver); // all the constructor reads
  assert.equal(none.randomBytes, undefined, 'absent when the wrapped driver has none: protocols then use their fallback');
});
