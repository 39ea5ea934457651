/**
 * The MQTT client in the simulator against the test broker: whole scenarios
 * (Wi-Fi down for minutes, resets mid-flow, restarts, misbehaving brokers) in
 * milliseconds of real time, deterministic per seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimNetwork } from '../src/drivers/sim.js';
import type { SimOptions } from '../src/drivers/sim.js';
import { Manager } from '../src/core/manager.js';
import { ErrorCode, Ev } from '../src/core/events.js';
import type { Connection } from '../src/core/connection.js';
import { mqttConnect, MqttEv, DropReason, MemoryStore, outboxStore } from '../src/protocols/mqtt/index.js';
import type { MqttClient, MqttOptions, QoS } from '../src/protocols/mqtt/index.js';
import { utf8Decode } from '../src/protocols/utf8.js';
import { SimBroker } from './support/sim-broker.js';
import type { BrokerOptions } from './support/sim-broker.js';

const POOL = { pools: { default: { conns: 4, recvBytes: 1024, sendBytes: 1024 } } };
const BIG_POOL = { pools: { default: { conns: 8, recvBytes: 16384, sendBytes: 16384 } } };

/** MQTT_SIM_SEED shifts every scenario's seed: run the suite under other seeds to look for luck. */
const SEED_SHIFT = Number(process.env.MQTT_SIM_SEED || 0);

function world(seed: number, sim?: SimOptions, brokerOpts?: BrokerOptions) {
  const net = new SimNetwork(Object.assign({ seed: seed + SEED_SHIFT, latencyMs: 20, jitterMs: 5 }, sim || {}));
  const bm = new Manager(net.host('broker'), BIG_POOL);
  const broker = new SimBroker(bm, 'tcp://0.0.0.0:1883', brokerOpts);
  bm.run();
  const dh = net.host('device');
  const dm = new Manager(dh, POOL);
  dm.run();
  const am = new Manager(net.host('app'), BIG_POOL);
  am.run();
  return { net, broker, bm, dh, dm, am };
}

interface Got {
  topic: string;
  text: string;
  qos: number;
  dup: boolean;
  retain: boolean;
}

/** A client that records everything it is told. */
function client(mgr: Manager, opts: MqttOptions, url?: string) {
  const rec = {
    msgs: [] as Got[],
    events: [] as number[],
    errors: [] as { code: number; message: string }[],
    drops: [] as { reason: number; topic: string }[],
    closes: [] as number[],
    acks: [] as number[],
    connacks: [] as { returnCode: number; sessionPresent: boolean }[],
    m: null as unknown as MqttClient,
  };
  rec.m = mqttConnect(mgr, url || 'mqtt://broker:1883', (m, ev, data) => {
    rec.events.push(ev);
    switch (ev) {
      case MqttEv.MESSAGE:
        rec.msgs.push({ topic: data.topic, text: utf8Decode(data.payload) || '', qos: data.qos, dup: data.dup, retain: data.retain });
        break;
      case MqttEv.ERROR:
        rec.errors.push(data);
        break;
      case MqttEv.DROPPED:
        rec.drops.push({ reason: data.reason, topic: data.topic });
        break;
      case MqttEv.CLOSE:
        rec.closes.push(data.reconnectMs);
        break;
      case MqttEv.PUBACK:
        rec.acks.push(data.id);
        break;
      case MqttEv.CONNACK:
        rec.connacks.push(data);
        break;
    }
  }, opts);
  return rec;
}

/** An application on another host that subscribes and records what arrives. */
function subscriber(w: ReturnType<typeof world>, filter: string, qos: QoS, extra?: MqttOptions) {
  const rec = client(w.am, Object.assign({ clientId: 'app', random: w.net.random, keepalive: 0 }, extra || {}));
  rec.m.subscribe(filter, qos);
  w.net.runWhile(() => rec.events.indexOf(MqttEv.SUBACK) >= 0, 5000);
  assert.ok(rec.events.indexOf(MqttEv.SUBACK) >= 0, 'subscribed');
  return rec;
}

function connected(w: ReturnType<typeof world>, rec: ReturnType<typeof client>): void {
  assert.ok(
    w.net.runWhile(() => rec.m.open, 30000),
    'connected',
  );
}

const texts = (msgs: Got[]) => msgs.map((m) => m.text);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => String(from + i));

test('publish and subscribe at QoS 0, 1 and 2 both ways, through 1-byte chunks', () => {
  const w = world(1, { chunkMin: 1, chunkMax: 3 });
  const app = subscriber(w, 'sensors/#', 2);
  const dev = client(w.dm, { clientId: 'dev', random: w.net.random });
  dev.m.subscribe('cmd/+', 2);
  w.net.runWhile(() => dev.events.indexOf(MqttEv.SUBACK) >= 0, 5000);
  for (let q = 0; q < 3; q++) {
    dev.m.publish('sensors/t' + q, 'reading ' + q, q as QoS);
    app.m.publish('cmd/c' + q, 'command ' + q, q as QoS);
  }
  w.net.runWhile(() => app.msgs.length === 3 && dev.msgs.length === 3 && dev.acks.length === 2 && app.acks.length === 2, 10000);
  assert.deepEqual(
    app.msgs.map((m) => [m.topic, m.text, m.qos, m.dup]),
    [
      ['sensors/t0', 'reading 0', 0, false],
      ['sensors/t1', 'reading 1', 1, false],
      ['sensors/t2', 'reading 2', 2, false],
    ],
  );
  assert.deepEqual(
    dev.msgs.map((m) => [m.topic, m.text, m.qos]),
    [
      ['cmd/c0', 'command 0', 0],
      ['cmd/c1', 'command 1', 1],
      ['cmd/c2', 'command 2', 2],
    ],
  );
  w.net.runFor(1000);
  for (const name of ['dev', 'app']) {
    const s = w.broker.sessions[name];
    assert.equal(s.inflight.length, 0, name + ': every QoS 1/2 exchange with the broker completed');
    assert.equal(Object.keys(s.rx).length, 0, name + ': every PUBREL came');
  }
  assert.deepEqual(dev.m.stats(), { queued: 0, inFlight: 0, dropped: 0, reconnects: 0, highWater: dev.m.stats().highWater, bytes: 0, storeErrors: 0, downgraded: 0, skipped: 0 });
  assert.deepEqual(dev.errors, []);
});

test('Wi-Fi down for 10 simulated minutes: every reading within the outbox arrives after reconnect, in order', () => {
  const w = world(2);
  const app = subscriber(w, 'dev/temp', 1);
  const dev = client(w.dm, { clientId: 'dev', random: w.net.random, outboxCount: 700, outboxBytes: 700 * 24 });
  connected(w, dev);
  let n = 0;
  const reading = w.dm.timer(1000, () => dev.m.publish('dev/temp', String(n++), 1), true);
  w.net.runFor(30000);
  w.dh.setLink(false);
  w.net.runFor(600000);
  assert.ok(dev.m.stats().queued >= 599, 'queued while offline: ' + dev.m.stats().queued);
  assert.equal(w.broker.connects, 2, 'no attempts while the link was down');
  w.dh.setLink(true);
  w.net.runFor(30000);
  reading.cancel();
  w.net.runWhile(() => app.msgs.length >= n, 60000);
  const first: string[] = [];
  for (const t of texts(app.msgs)) if (first.indexOf(t) < 0) first.push(t);
  assert.deepEqual(first, range(0, n), 'every reading, first arrivals in order');
  assert.equal(dev.m.stats().dropped, 0);
  assert.equal(dev.m.stats().reconnects, 1);
  assert.ok(dev.m.stats().highWater > 599 * 15, "high water " + dev.m.stats().highWater);
  assert.ok(n > 650);
});

for (const policy of ['drop-oldest', 'refuse-new'] as const) {
  test('Wi-Fi down 10 minutes with an outbox of 100: exactly the counted readings are dropped (' + policy + ')', () => {
    const w = world(3);
    const app = subscriber(w, 'dev/temp', 1);
    const dev = client(w.dm, { clientId: 'dev', random: w.net.random, outboxCount: 100, refuseNew: policy === 'refuse-new' });
    connected(w, dev);
    w.dh.setLink(false);
    w.net.runFor(100);
    let n = 0;
    const reading = w.dm.timer(1000, () => dev.m.publish('dev/temp', String(n++), 1), true);
    w.net.runFor(600000);
    reading.cancel();
    assert.equal(n, 600);
    w.dh.setLink(true);
    w.net.runWhile(() => dev.m.stats().queued === 0 && dev.m.stats().inFlight === 0, 60000);
    w.net.runFor(1000);
    const got = texts(app.msgs);
    assert.equal(dev.m.stats().dropped, 500);
    assert.equal(dev.drops.length, 500, 'one DROPPED event per message');
    assert.ok(dev.drops.every((d) => d.reason === (policy === 'drop-oldest' ? DropReason.OLDEST : DropReason.REFUSED)));
    assert.deepEqual(got, policy === 'drop-oldest' ? range(500, 600) : range(0, 100));
    assert.equal(got.length + dev.drops.length, n, 'delivered + dropped = published');
  });
}

test('QoS 0 publishes made while offline wait in the outbox too', () => {
  const w = world(4);
  const app = subscriber(w, 'q0', 0);
  const dev = client(w.dm, { clientId: 'dev', random: w.net.random });
  for (let i = 0; i < 10; i++) dev.m.publish('q0', String(i), 0); // before the first CONNACK
  w.net.runWhile(() => app.msgs.length === 10, 10000);
  assert.deepEqual(texts(app.msgs), range(0, 10));
});

test('latest-per-topic: after an outage only the newest unsent value of each topic goes out', () => {
  const w = world(5);
  const app = subscriber(w, 'dev/#', 1);
  const dev = client(w.dm, { clientId: 'dev', random: w.net.random, latestPerTopic: true });
  connected(w, dev);
  w.dh.setLink(false);
  w.net.runFor(100);
  for (let i = 0; i < 50; i++) {
    dev.m.publish('dev/temp', 't' + i, 1);
    dev.m.publish('dev/hum', 'h' + i, 1);
  }
  w.dh.setLink(true);
  w.net.runWhile(() => app.msgs.length === 2, 20000);
  w.net.runFor(2000);
  assert.deepEqual(texts(app.msgs), ['t49', 'h49']);
  assert.equal(dev.drops.length, 98);
  assert.ok(dev.drops.every((d) => d.reason === DropReason.REPLACED));
});

test('keepalive: PINGREQ only when a direction goes quiet; a broker that stops answering is left within the deadline, then reconnected', () => {
  const w = world(6, {}, { answerPings: false });
  const dev = client(w.dm, { clientId: 'dev', random: w.net.random, keepalive: 10, pingTimeoutMs: 3000, reconnectMinMs: 1000 });
  connected(w, dev);
  const openAt = w.net.now;
  // Busy both ways: a QoS 1 publish every 2 s and its PUBACK mean no PINGREQ is needed.
  let n = 0;
  const busy = w.dm.timer(2000, () => dev.m.publish('x', String(n++), 1), true);
  w.net.runFor(30000);
  busy.cancel();
  assert.equal(w.broker.pings, 0);
  assert.deepEqual(dev.closes, []);
  const idleFrom = w.net.now;
  w.net.runWhile(() => dev.closes.length > 0, 60000);
  const closedAfter = w.net.now - idleFrom;
  assert.equal(w.broker.pings, 1);
  assert.ok(closedAfter >= 12000 && closedAfter <= 14500, 'closed ' + closedAfter + ' ms after going idle');
  assert.ok(dev.errors.some((e) => e.code === ErrorCode.TIMEOUT && /PINGRESP/.test(e.message)));
  w.net.runWhile(() => dev.m.open, 10000);
  assert.equal(dev.m.stats().reconnects, 1);
  assert.ok(openAt > 0);
});

test('keepalive: a broker gone silent is noticed while the client keeps publishing QoS 0 (sending is no sign the broker is there)', () => {
  const w = world(26);
  const dev = client(w.dm, { clientId: 'dev', random: w.net.random, keepalive: 5, pingTimeoutMs: 2000, reconnectMinMs: 1000 });
  connected(w, dev);
  w.net.runFor(1000);
  w.broker.frozen = true;
  const frozenAt = w.net.now;
  let n = 0;
  const busy = w.dm.timer(500, () => dev.m.publish('x', String(n++), 0), true);
  w.net.runWhile(() => dev.closes.length > 0, 30000);
  const after = w.net.now - frozenAt;
  assert.ok(
    dev.errors.some((e) => e.code === ErrorCode.TIMEOUT && /PINGRESP/.test(e.message)),
    'the silence was noticed, after ' + n + ' publishes into it: ' + JSON.stringify(dev.errors),
  );
  // The broker last spoke (CONNACK) 1 s before it froze: PINGREQ 5 s after that, given up 2 s later.
  assert.ok(after >= 5000 && after <= 6500, 'closed ' + after + ' ms after the broker froze');
  assert.ok(n >= 10, 'publishing went on meanwhile: ' + n);
  w.broker.frozen = false;
  connected(w, dev);
  busy.cancel();
  assert.equal(dev.m.stats().reconnects, 1);
});

test('keepalive: an answering broker keeps an idle client connected with a ping per keepalive period', () => {
  const w = world(7);
  const dev = client(w.dm, { clientId: 'dev', random: w.net.random, keepalive: 5 });
  connected(w, dev);
  w.net.runFor(60000);
  assert.ok(w.broker.pings >= 11 && w.broker.pings <= 12, 'pings: ' + w.broker.pings);
  assert.deepEqual(dev.closes, []);
});

test('CONNACK timeout: a broker that accepts TCP and never answers is left, then retried with backoff', () => {
  const w = world(8, {}, { silent: true });
  const dev = client(w.dm, { clientId: 'dev', random: w.net.random, connackTimeoutMs: 2000, reconnectMinMs: 1000 });
  w.net.runWhile(() => dev.closes.length >= 3, 60000);
  assert.ok(dev.errors.filter((e) => e.code === ErrorCode.TIMEOUT && /CONNACK/.test(e.message)).length >= 3);
  assert.equal(w.broker.connects, 3);
});

test('connect timeout: a SYN that gets no answer is given up after connectTimeoutMs', () => {
  const w = world(9);
  w.net.partition('device', 'broker', true);
  const dev = client(w.dm, { clientId: 'dev', random: w.net.random, connectTimeoutMs: 3000 });
  w.net.runWhile(() => dev.closes.length === 1, 10000);
  assert.ok(w.net.now >= 3000 && w.net.now < 3200, 'gave up at ' + w.net.now);
  assert.ok(dev.errors.some((e) => e.code === ErrorCode.TIMEOUT));
  w.net.partition('device', 'broker', false);
  connected(w, dev);
});

test('reconnect backoff doubles up to the cap with jitter inside each step, and repeats per seed', () => {
  const run = (seed: number) => {
    const net = new SimNetwork({ seed: seed, latencyMs: 10 });
    const dm = new Manager(net.host('device'), POOL);
    dm.run();
    net.host('broker'); // nothing listens: every connect is refused
    const dev = client(dm, { clientId: 'dev', random: net.random, reconnectMinMs: 500, reconnectMaxMs: 16000 });
    net.runWhile(() => dev.closes.length === 9, 1000000);
    return dev.closes;
  };
  const waits = run(11);
  const steps = [500, 1000, 2000, 4000, 8000, 16000, 16000, 16000, 16000];
  waits.forEach((ms, i) => assert.ok(ms >= steps[i] / 2 && ms <= steps[i], 'wait ' + i + ' = ' + ms));
  assert.deepEqual(run(11), waits, 'same seed, same waits');
  assert.notDeepEqual(run(12), waits, 'jitter depends on the random source');
});

test('no connect attempts while the link is down; connected right after it comes back', () => {
  const w = world(10);
  w.dh.setLink(false);
  const dev = client(w.dm, { clientId: 'dev', random: w.net.random, linkCheckMs: 500 });
  w.net.runFor(120000);
  assert.equal(w.broker.connects, 0);
  assert.equal(dev.events.length, 0, 'nothing happened: no failing attempts either');
  const back = w.net.now;
  w.dh.setLink(true);
  connected(w, dev);
  assert.ok(w.net.now - back < 700, 'connected ' + (w.net.now - back) + ' ms after the link came back');
});

/** A fake broker that answers CONNECT with the given bytes (then whatever `more` sends). */
function rawBroker(w: ReturnType<typeof world>, port: number, reply: number[]) {
  w.bm.listen('tcp://0.0.0.0:' + port, (c: Connection, ev: number) => {
    if (ev === Ev.RECV && c.recv.length > 0) {
      c.recv.clear();
      c.send(Uint8Array.from(reply));
    }
  });
}

test('a broker that breaks the protocol gets a PROTOCOL error and a reconnect, never an exception', () => {
  const w = world(12);
  rawBroker(w, 1900, [0x20, 2, 0, 0, 0x36, 3, 0, 1, 0x61]); // CONNACK, then PUBLISH with QoS 3
  const dev = client(w.dm, { clientId: 'dev', random: w.net.random }, 'mqtt://broker:1900');
  w.net.runWhile(() => dev.closes.length === 2, 20000);
  const protocol = dev.errors.filter((e) => e.code === ErrorCode.PROTOCOL);
  assert.equal(protocol.length, 2);
  assert.match(protocol[0].message, /QoS 3/);
  assert.equal(w.dm.stats.handlerErrors, 0);
});

test('a packet over the receive limit that cannot be skipped is refused from its header: TOO_BIG, disconnect, reconnect', () => {
  const w = world(13);
  // CONNACK, then a SUBACK header declaring 100,000 bytes; the body never needs to come.
  rawBroker(w, 1901, [0x20, 2, 0, 0, 0x90, 0xa0, 0x8d, 0x06]);
  const dev = client(w.dm, { clientId: 'dev', random: w.net.random }, 'mqtt://broker:1901');
  w.net.runWhile(() => dev.closes.length === 1, 20000);
  assert.equal(dev.errors[0].code, ErrorCode.TOO_BIG);
  // CONNACK, then a PUBLISH whose topic alone (65,535 bytes) is larger than the receive ring: its identifier can never be read.
  rawBroker(w, 1902, [0x20, 2, 0, 0, 0x32, 0xa0, 0x8d, 0x06, 0xff, 0xff]);
  const dev2 = client(w.dm, { clientId: 'dev2', random: w.net.random }, 'mqtt://broker:1902');
  w.net.runWhile(() => dev2.closes.length === 1, 20000);
  assert.equal(dev2.errors[0].code, ErrorCode.TOO_BIG);
});

test('a message over maxPacket (below the ring) is skipped and reported, not fatal', () => {
  const w = world(28);
  const dev = client(w.dm, { clientId: 'dev', random: w.net.random, maxPacket: 100 });
  const app = subscriber(w, 'x', 0);
  connected(w, dev);
  dev.m.subscribe('big', 0);
  w.net.runWhile(() => dev.events.indexOf(MqttEv.SUBACK) >= 0, 5000);
  app.m.publish('big', 'y'.repeat(200), 0);
  app.m.publish('big', 'small', 0);
  w.net.runWhile(() => dev.msgs.length === 1, 5000);
  assert.deepEqual(texts(dev.msgs), ['small']);
  assert.deepEqual(dev.errors, []);
  assert.equal(dev.events.filter((e) => e === MqttEv.SKIPPED).length, 1);
  assert.equal(dev.m.stats().skipped, 1);
});

test('messages larger than the receive ring on a persistent session are acknowledged, skipped and reported once; what follows them is delivered', () => {
  const w = world(27, { chunkMin: 30, chunkMax: 300 });
  const dev = client(w.dm, { clientId: 'dev', clean: false, random: w.net.random, reconnectMinMs: 200, reconnectMaxMs: 400 });
  const skipped: string[] = [];
  const record = dev.m.handler;
  dev.m.handler = (m, ev, data) => {
    if (ev === MqttEv.SKIPPED) skipped.push([data.topic, data.qos, data.size, data.payload.length].join(' '));
    (record as (m: MqttClient, ev: number, data: unknown) => void)(m, ev, data);
  };
  dev.m.subscribe('cmd', 2);
  w.net.runWhile(() => dev.events.indexOf(MqttEv.SUBACK) >= 0, 5000);
  const app = client(w.am, { clientId: 'app', random: w.net.random });
  connected(w, app);
  const big = 'z'.repeat(3000); // the device's receive ring is 1,024 bytes
  for (let q = 0; q < 3; q++) {
    app.m.publish('cmd', big, q as QoS);
    app.m.publish('cmd', 'c' + q, q as QoS);
  }
  w.net.runWhile(() => dev.msgs.length === 3, 20000);
  w.net.runFor(5000);
  assert.deepEqual(texts(dev.msgs), ['c0', 'c1', 'c2'], 'the messages behind the big ones arrived');
  assert.deepEqual(skipped, ['cmd 0 3008 0', 'cmd 1 3010 0', 'cmd 2 3010 0'], 'each big one reported once, payload unread');
  assert.equal(dev.m.stats().skipped, 3);
  assert.deepEqual(dev.errors, []);
  assert.equal(dev.connacks.length, 1, 'no reconnect: the session was never lost');
  const s = w.broker.sessions['dev'];
  assert.equal(s.inflight.length + s.queue.length, 0, 'the broker has nothing left to redeliver');
});

test('a refused CONNACK is reported with its code and retried with backoff', () => {
  const w = world(14, {}, { refuseCode: 5 });
  const dev = client(w.dm, { clientId: 'dev', random: w.net.random, reconnectMinMs: 1000 });
  w.net.runWhile(() => dev.closes.length === 2, 20000);
  assert.deepEqual(dev.connacks[0], { returnCode: 5, sessionPresent: false });
  assert.ok(dev.errors.some((e) => e.code === ErrorCode.REFUSED));
  assert.equal(dev.m.open, false);
});

test('clean session: subscriptions are renewed after every reconnect', () => {
  const w = world(15);
  const dev = client(w.dm, { clientId: 'dev', random: w.net.random, reconnectMinMs: 200 });
  dev.m.subscribe('cmd', 1);
  connected(w, dev);
  w.net.runWhile(() => dev.events.indexOf(MqttEv.SUBACK) >= 0, 5000);
  const app = client(w.am, { clientId: 'app', random: w.net.random });
  connected(w, app);
  for (let round = 0; round < 3; round++) {
    w.broker.dropClients();
    w.net.runWhile(() => dev.closes.length === round + 1, 5000);
    w.net.runWhile(() => dev.m.open && w.broker.subscribes === round + 2, 10000);
    app.m.publish('cmd', 'c' + round, 1);
    w.net.runWhile(() => dev.msgs.length === round + 1, 5000);
  }
  assert.deepEqual(texts(dev.msgs), ['c0', 'c1', 'c2']);
  assert.equal(dev.connacks.every((c) => !c.sessionPresent), true);
});

test('persistent session: no resubscribe when the broker kept it, and QoS 1 messages sent meanwhile arrive', () => {
  const w = world(16);
  const dev = client(w.dm, { clientId: 'dev', clean: false, random: w.net.random, reconnectMinMs: 200 });
  dev.m.subscribe('cmd', 1);
  w.net.runWhile(() => dev.events.indexOf(MqttEv.SUBACK) >= 0, 5000);
  const app = client(w.am, { clientId: 'app', random: w.net.random });
  connected(w, app);
  w.dh.setLink(false);
  w.net.runFor(5000);
  for (let i = 0; i < 5; i++) app.m.publish('cmd', 'c' + i, 1);
  w.net.runFor(5000);
  w.dh.setLink(true);
  w.net.runWhile(() => dev.msgs.length === 5, 10000);
  assert.deepEqual(texts(dev.msgs), ['c0', 'c1', 'c2', 'c3', 'c4']);
  assert.equal(w.broker.subscribes, 1, 'the broker had the subscription: no SUBSCRIBE again');
  assert.equal(dev.connacks[1].sessionPresent, true);
});

test('QoS 1 under repeated resets: every message arrives at least once, first arrivals in order', () => {
  const w = world(17, { chunkMin: 20, chunkMax: 200 });
  const app = subscriber(w, 'q1', 1, { clean: false });
  const dev = client(w.dm, { clientId: 'dev', clean: false, random: w.net.random, reconnectMinMs: 100, reconnectMaxMs: 400, outboxCount: 1000, outboxBytes: 20000 });
  connected(w, dev);
  for (let i = 0; i < 1000; i++) dev.m.publish('q1', String(i), 1);
  let resets = 0;
  const chaos = w.dm.timer(150, () => {
    if (resets < 20 && dev.m.open) {
      resets++;
      w.dh.resetAll();
    }
  }, true);
  w.net.runWhile(() => dev.m.stats().queued + dev.m.stats().inFlight === 0, 200000);
  chaos.cancel();
  w.net.runFor(3000);
  const first: string[] = [];
  for (const t of texts(app.msgs)) if (first.indexOf(t) < 0) first.push(t);
  assert.deepEqual(first, range(0, 1000));
  assert.ok(resets >= 5, 'resets: ' + resets);
  assert.ok(w.broker.received.some((r) => r.dup), 'some were resent with DUP');
});

test('QoS 2 exactly once across resets mid-flow, in both directions', () => {
  const w = world(18, { chunkMin: 10, chunkMax: 100 });
  const app = subscriber(w, 'up', 2, { clean: false });
  const dev = client(w.dm, { clientId: 'dev', clean: false, random: w.net.random, reconnectMinMs: 100, reconnectMaxMs: 300, outboxCount: 500, outboxBytes: 10000 });
  dev.m.subscribe('down', 2);
  connected(w, dev);
  w.net.runWhile(() => dev.events.indexOf(MqttEv.SUBACK) >= 0, 5000);
  for (let i = 0; i < 300; i++) {
    dev.m.publish('up', String(i), 2);
    app.m.publish('down', String(i), 2);
  }
  let resets = 0;
  const chaos = w.dm.timer(97, () => {
    if (resets < 25 && dev.m.open) {
      resets++;
      w.dh.resetAll();
    }
  }, true);
  w.net.runWhile(() => app.msgs.length >= 300 && dev.msgs.length >= 300 && dev.m.stats().inFlight + dev.m.stats().queued === 0, 300000);
  chaos.cancel();
  w.net.runFor(5000);
  assert.deepEqual(texts(app.msgs), range(0, 300), 'device → app: each exactly once, in order');
  const dm = texts(dev.msgs);
  assert.deepEqual(dm, range(0, 300), 'app → device: each exactly once, in order; got ' + dm.length + ': ' + JSON.stringify(dev.connacks));
  assert.ok(resets >= 10, 'resets: ' + resets);
  assert.ok(w.broker.received.filter((r) => r.clientId === 'dev' && r.dup).length > 0, 'the device resent some PUBLISHes with DUP');
});

test('restart from a persisted outbox: a new manager and client on the same store lose nothing', () => {
  const w = world(19);
  const app = subscriber(w, 'log', 1);
  const store = new MemoryStore();
  const opts = { clientId: 'dev', random: w.net.random, store: outboxStore(store), outboxCount: 400, outboxBytes: 8000 };
  let dev = client(w.dm, opts);
  connected(w, dev);
  for (let i = 0; i < 150; i++) dev.m.publish('log', String(i), 1);
  w.net.runWhile(() => app.msgs.length >= 40, 10000); // some arrive, the rest are in flight or queued
  w.dh.setLink(false);
  for (let i = 150; i < 300; i++) dev.m.publish('log', String(i), 1);
  // Power cut: the manager and the client are gone, only the store is left.
  w.dm.stop();
  const dm2 = new Manager(w.dh, POOL);
  dm2.run();
  dev = client(dm2, opts);
  assert.ok(dev.m.stats().queued > 150, 'restored: ' + dev.m.stats().queued);
  w.dh.setLink(true);
  w.net.runWhile(() => dev.m.stats().queued + dev.m.stats().inFlight === 0, 60000);
  w.net.runFor(2000);
  const first: string[] = [];
  for (const t of texts(app.msgs)) if (first.indexOf(t) < 0) first.push(t);
  assert.deepEqual(first, range(0, 300));
  const logBytes = store.entries.reduce((n, e) => n + e.length, 0);
  assert.ok(logBytes <= 5 * 8000, 'the log stays bounded by compaction: ' + logBytes);
});

test('the will is published when the device vanishes, not when it says DISCONNECT', () => {
  const w = world(20);
  const app = subscriber(w, 'status/#', 1);
  const will = { topic: 'status/dev', payload: 'offline', qos: 1 as QoS, retain: false };
  const dev = client(w.dm, { clientId: 'dev', random: w.net.random, will: will });
  connected(w, dev);
  w.dh.setLink(false);
  w.net.runWhile(() => app.msgs.length === 1, 5000);
  assert.deepEqual(texts(app.msgs), ['offline']);
  w.dh.setLink(true);
  connected(w, dev);
  dev.m.close();
  w.net.runFor(5000);
  assert.equal(app.msgs.length, 1, 'a DISCONNECT drops the will');
  assert.deepEqual(dev.closes.slice(-1), [-1]);
  assert.equal(w.broker.connects, 3, 'no reconnect after close()');
});

test('retained messages and unsubscribe', () => {
  const w = world(21);
  const pub = client(w.am, { clientId: 'pub', random: w.net.random });
  connected(w, pub);
  pub.m.publish('cfg/rate', '5', 1, true);
  w.net.runFor(500);
  const dev = client(w.dm, { clientId: 'dev', random: w.net.random });
  dev.m.subscribe('cfg/#', 1);
  w.net.runWhile(() => dev.msgs.length === 1, 5000);
  assert.deepEqual(dev.msgs[0], { topic: 'cfg/rate', text: '5', qos: 1, dup: false, retain: true });
  pub.m.publish('cfg/rate', '6', 1, true);
  w.net.runWhile(() => dev.msgs.length === 2, 5000);
  assert.equal(dev.msgs[1].retain, false, 'a live message is not flagged retained');
  dev.m.unsubscribe('cfg/#');
  w.net.runWhile(() => dev.events.indexOf(MqttEv.UNSUBACK) >= 0, 5000);
  pub.m.publish('cfg/rate', '7', 1, true);
  w.net.runFor(3000);
  assert.equal(dev.msgs.length, 2);
});

test('invalid topics and filters are refused at the call', () => {
  const w = world(22);
  const dev = client(w.dm, { clientId: 'dev', random: w.net.random });
  assert.equal(dev.m.publish('a/+', 'x'), -1);
  assert.equal(dev.m.publish('', 'x'), -1);
  assert.equal(dev.m.publish('a\u0000', 'x'), -1);
  assert.equal(dev.m.subscribe('a/#/b'), false);
  assert.equal(dev.m.subscribe('a', 3 as QoS), false);
  assert.equal(dev.m.unsubscribe('a+'), false);
  assert.equal(dev.m.stats().dropped, 0);
});

test('a message larger than the send ring is dropped as TOO_BIG, the rest still flows', () => {
  const w = world(23);
  const app = subscriber(w, 'x', 1);
  const dev = client(w.dm, { clientId: 'dev', random: w.net.random, outboxBytes: 8000 });
  connected(w, dev);
  dev.m.publish('x', 'a', 1);
  dev.m.publish('x', 'b'.repeat(2000), 1); // the device's send ring is 1024 bytes
  dev.m.publish('x', 'c', 1);
  w.net.runWhile(() => app.msgs.length === 2, 5000);
  assert.deepEqual(texts(app.msgs), ['a', 'c']);
  assert.deepEqual(dev.drops.map((d) => d.reason), [DropReason.TOO_BIG]);
});

test('a broker that answers QoS 2 with PUBACK (downgrading it, as RabbitMQ does): each completes as QoS 1, counted, and publishing goes on', () => {
  const w = world(25, {}, { downgradeQos2: true });
  const app = subscriber(w, 'up', 2);
  const qos: number[] = [];
  const dev = client(w.dm, { clientId: 'dev', random: w.net.random, maxInflight: 2 });
  dev.m.handler = (m, ev, data) => {
    if (ev === MqttEv.PUBACK) qos.push(data.qos);
  };
  connected(w, dev);
  for (let i = 0; i < 10; i++) dev.m.publish('up', String(i), 2);
  w.net.runWhile(() => dev.m.stats().queued + dev.m.stats().inFlight === 0, 10000);
  w.net.runFor(1000);
  assert.deepEqual(texts(app.msgs), range(0, 10), 'the window did not stall');
  assert.deepEqual(qos, Array(10).fill(1), 'PUBACK events say the broker completed them at QoS 1');
  assert.equal(dev.m.stats().inFlight, 0);
  assert.equal(dev.m.stats().downgraded, 10);
  dev.m.publish('up', 'q1', 1);
  w.net.runWhile(() => qos.length === 11, 5000);
  assert.equal(dev.m.stats().downgraded, 10, 'a QoS 1 publish completed by PUBACK is no downgrade');
});

test('the same seed gives the same event trace', () => {
  const trace = () => {
    const w = world(24, { chunkMin: 1, chunkMax: 50, jitterMs: 30 });
    const app = subscriber(w, '#', 2);
    const dev = client(w.dm, { clientId: 'dev', random: w.net.random, reconnectMinMs: 100 });
    for (let i = 0; i < 50; i++) dev.m.publish('t/' + (i % 3), String(i), (i % 3) as QoS);
    w.net.runFor(700);
    w.dh.resetAll();
    w.net.runFor(20000);
    return JSON.stringify([dev.events, app.msgs, w.net.now]);
  };
  assert.equal(trace(), trace());
});
