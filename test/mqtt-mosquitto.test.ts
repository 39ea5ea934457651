/**
 * The MQTT client on Node against real peers: mosquitto (Debian package) as
 * the broker and MQTT.js as the other client. Interop at every QoS, retained,
 * will, unsubscribe, TLS; and faults: broker restart under a 10,000-message
 * QoS 1 stream, connection resets mid QoS 2 flow, process restart from the
 * file store.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { MqttClient as JsClient, IClientOptions } from 'mqtt';
import { Manager } from '../src/core/manager.js';
import { Ring } from '../src/core/ring.js';
import { NodeDriver } from '../src/drivers/node.js';
import { NodeFileStore } from '../src/drivers/node-store.js';
import { outboxStore } from '../src/protocols/mqtt/store.js';
import { decode, mqttConnect, MqttEv, PacketType } from '../src/protocols/mqtt/index.js';
import type { MqttClient, MqttOptions, QoS } from '../src/protocols/mqtt/index.js';
import { utf8Decode } from '../src/protocols/utf8.js';
import { startMosquitto } from '../src/cli/mosquitto.js';
import type { Mosquitto } from '../src/cli/mosquitto.js';
import { startProxy } from './support/proxy.js';
import { sleep, until } from './support/wait.js';

let broker: Mosquitto;
const managers: Manager[] = [];
const jsClients: JsClient[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'ringnet-mqtt-test-'));

before(async () => {
  broker = await startMosquitto({ tls: true });
});

after(async () => {
  for (const c of jsClients) c.end(true);
  for (const m of managers) m.shutdown();
  if (broker) await broker.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

interface Got {
  id: number;
  topic: string;
  payload: Uint8Array;
  text: string;
  qos: number;
  retain: boolean;
  dup: boolean;
}

/** A ringnet client on its own Node manager, recording what it is told. */
function ringnet(url: string, opts: MqttOptions, recvBytes?: number) {
  const mgr = new Manager(new NodeDriver(), { pools: { default: { conns: 2, recvBytes: recvBytes || 16384, sendBytes: 16384 } } });
  managers.push(mgr);
  const rec = {
    mgr,
    msgs: [] as Got[],
    events: [] as number[],
    errors: [] as string[],
    subacks: [] as number[],
    connacks: [] as boolean[],
    m: null as unknown as MqttClient,
  };
  rec.m = mqttConnect(mgr, url, (m, ev, data) => {
    rec.events.push(ev);
    if (ev === MqttEv.MESSAGE) {
      const payload = new Uint8Array(data.payload); // a view into the ring: copy to keep
      rec.msgs.push({ id: data.id, topic: data.topic, payload, text: utf8Decode(payload) || '', qos: data.qos, retain: data.retain, dup: data.dup });
    } else if (ev === MqttEv.ERROR) rec.errors.push(data.message);
    else if (ev === MqttEv.SUBACK) rec.subacks.push(data.qos);
    else if (ev === MqttEv.CONNACK) rec.connacks.push(data.sessionPresent);
  }, opts);
  mgr.run();
  return rec;
}

async function mqttjs(url: string, opts: IClientOptions) {
  const c = mqtt.connect(url, Object.assign({ protocolVersion: 4 as const, reconnectPeriod: 100 }, opts));
  jsClients.push(c);
  const msgs: { topic: string; payload: Buffer; qos: number; retain: boolean }[] = [];
  c.on('message', (topic, payload, packet) => msgs.push({ topic, payload, qos: packet.qos, retain: packet.retain }));
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  return { c, msgs };
}

function stop(rec: ReturnType<typeof ringnet>) {
  rec.m.close();
  rec.mgr.shutdown();
}

test('interop with MQTT.js through mosquitto: publish each way at every QoS, binary payloads intact', async () => {
  const js = await mqttjs(broker.url, { clientId: 'js-1' });
  await js.c.subscribeAsync('r2m/#', { qos: 2 });
  const rn = ringnet(broker.url, { clientId: 'rn-1' });
  rn.m.subscribe('m2r/#', 2);
  await until(() => rn.subacks.length === 1, 5000, 'SUBACK');
  assert.deepEqual(rn.subacks, [2]);
  const binary = Uint8Array.from([0, 255, 1, 254, 0x80, 0x7f]);
  for (const q of [0, 1, 2] as QoS[]) {
    rn.m.publish('r2m/q' + q, binary, q);
    rn.m.publish('r2m/text' + q, 'héllo ' + q, q);
    await js.c.publishAsync('m2r/q' + q, Buffer.from(binary), { qos: q });
    await js.c.publishAsync('m2r/text' + q, 'wörld ' + q, { qos: q });
  }
  await until(() => js.msgs.length === 6 && rn.msgs.length === 6, 5000, 'both directions');
  for (const q of [0, 1, 2]) {
    const a = js.msgs.find((m) => m.topic === 'r2m/q' + q)!;
    assert.deepEqual(Array.from(a.payload), Array.from(binary));
    assert.equal(a.qos, q);
    assert.equal(js.msgs.find((m) => m.topic === 'r2m/text' + q)!.payload.toString(), 'héllo ' + q);
    const b = rn.msgs.find((m) => m.topic === 'm2r/q' + q)!;
    assert.deepEqual(Array.from(b.payload), Array.from(binary));
    assert.equal(b.qos, q);
    assert.equal(rn.msgs.find((m) => m.topic === 'm2r/text' + q)!.text, 'wörld ' + q);
  }
  await until(() => rn.m.stats().inFlight === 0, 2000, 'acknowledgements');
  assert.deepEqual(rn.errors, []);
  stop(rn);
});

test('retained messages both ways', async () => {
  const js = await mqttjs(broker.url, { clientId: 'js-2' });
  await js.c.publishAsync('ret/from-js', 'kept by the broker', { qos: 1, retain: true });
  const pub = ringnet(broker.url, { clientId: 'rn-2p' });
  pub.m.publish('ret/from-rn', 'also kept', 1, true);
  await until(() => pub.events.indexOf(MqttEv.PUBACK) >= 0, 5000, 'PUBACK');
  const rn = ringnet(broker.url, { clientId: 'rn-2' });
  rn.m.subscribe('ret/#', 1);
  await js.c.subscribeAsync('ret/from-rn', { qos: 1 });
  await until(() => rn.msgs.length === 2 && js.msgs.length === 1, 5000, 'retained deliveries');
  assert.ok(rn.msgs.every((m) => m.retain));
  assert.deepEqual(rn.msgs.map((m) => m.text).sort(), ['also kept', 'kept by the broker']);
  assert.equal(js.msgs[0].retain, true);
  assert.equal(js.msgs[0].payload.toString(), 'also kept');
  // Clearing: an empty retained payload removes it.
  pub.m.publish('ret/from-rn', new Uint8Array(0), 1, true);
  await js.c.publishAsync('ret/from-js', '', { qos: 1, retain: true });
  await until(() => pub.m.stats().inFlight + pub.m.stats().queued === 0, 5000, 'clear');
  const late = ringnet(broker.url, { clientId: 'rn-2l' });
  late.m.subscribe('ret/#', 1);
  await until(() => late.subacks.length === 1, 5000, 'SUBACK');
  await sleep(200);
  assert.equal(late.msgs.length, 0);
  stop(pub);
  stop(rn);
  stop(late);
});

test('the will reaches MQTT.js when our client dies, and not after a clean close', async () => {
  const js = await mqttjs(broker.url, { clientId: 'js-3' });
  await js.c.subscribeAsync('will/#', { qos: 1 });
  const rn = ringnet(broker.url, { clientId: 'rn-3', will: { topic: 'will/rn-3', payload: 'rn-3 died', qos: 1, retain: false } });
  await until(() => rn.m.open, 5000, 'open');
  rn.mgr.shutdown(); // the socket goes without DISCONNECT: the device lost power
  await until(() => js.msgs.length === 1, 5000, 'will');
  assert.equal(js.msgs[0].payload.toString(), 'rn-3 died');
  const polite = ringnet(broker.url, { clientId: 'rn-3b', will: { topic: 'will/rn-3b', payload: 'should not come', qos: 1, retain: false } });
  await until(() => polite.m.open, 5000, 'open');
  polite.m.close();
  await sleep(300);
  polite.mgr.shutdown();
  await sleep(200);
  assert.equal(js.msgs.length, 1, 'DISCONNECT drops the will');
});

test('unsubscribe stops deliveries', async () => {
  const js = await mqttjs(broker.url, { clientId: 'js-4' });
  const rn = ringnet(broker.url, { clientId: 'rn-4' });
  rn.m.subscribe('unsub/t', 1);
  await until(() => rn.subacks.length === 1, 5000, 'SUBACK');
  await js.c.publishAsync('unsub/t', 'one', { qos: 1 });
  await until(() => rn.msgs.length === 1, 5000, 'first');
  rn.m.unsubscribe('unsub/t');
  await until(() => rn.events.indexOf(MqttEv.UNSUBACK) >= 0, 5000, 'UNSUBACK');
  await js.c.publishAsync('unsub/t', 'two', { qos: 1 });
  await sleep(300);
  assert.deepEqual(rn.msgs.map((m) => m.text), ['one']);
  stop(rn);
});

test('mqtts:// to mosquitto\'s TLS listener; a certificate we do not trust is refused', async () => {
  const js = await mqttjs(broker.url, { clientId: 'js-5' });
  await js.c.subscribeAsync('tls/out', { qos: 1 });
  const rn = ringnet(broker.tlsUrl, { clientId: 'rn-5', tls: { ca: broker.ca }, outboxCount: 200 });
  rn.m.subscribe('tls/in', 1);
  await until(() => rn.subacks.length === 1, 10000, 'SUBACK over TLS');
  for (let i = 0; i < 100; i++) rn.m.publish('tls/out', 'secret ' + i, 1);
  await js.c.publishAsync('tls/in', 'to the device', { qos: 1 });
  await until(() => js.msgs.length === 100 && rn.msgs.length === 1, 10000, 'messages over TLS');
  assert.deepEqual(js.msgs.map((m) => m.payload.toString()), Array.from({ length: 100 }, (_, i) => 'secret ' + i));
  assert.equal(rn.msgs[0].text, 'to the device');
  stop(rn);
  const untrusting = ringnet(broker.tlsUrl, { clientId: 'rn-5b', reconnectMinMs: 100 });
  await until(() => untrusting.events.indexOf(MqttEv.CLOSE) >= 0, 10000, 'refused TLS');
  assert.equal(untrusting.m.open, false);
  assert.ok(untrusting.errors.length > 0);
  stop(untrusting);
});

test('user name and password: accepted when right; a wrong password is CONNACK 5, reported, and retried', async () => {
  const guarded = await startMosquitto({ users: { sensor: 'pässwörd' } });
  try {
    const ok = ringnet(guarded.url, { clientId: 'rn-auth', username: 'sensor', password: 'pässwörd' });
    await until(() => ok.m.open, 5000, 'open with the right password');
    const wrong = ringnet(guarded.url, { clientId: 'rn-auth-bad', username: 'sensor', password: Uint8Array.from([1, 2, 3]), reconnectMinMs: 100 });
    await until(() => wrong.events.filter((e) => e === MqttEv.CLOSE).length >= 2, 5000, 'refused twice');
    assert.equal(wrong.m.open, false);
    assert.ok(wrong.connacks.length >= 2);
    assert.ok(wrong.errors.some((e) => /return code 5/.test(e)), wrong.errors.join('; '));
    stop(ok);
    stop(wrong);
  } finally {
    await guarded.dispose();
  }
});

test('mosquitto stopped and restarted during a 10,000-message QoS 1 stream: every message arrives, in order', async () => {
  const durable = await startMosquitto({ persistence: true });
  try {
    const sink = await mqttjs(durable.url, { clientId: 'sink', clean: false });
    await sink.c.subscribeAsync('stream', { qos: 1 });
    const rn = ringnet(durable.url, { clientId: 'rn-6', clean: false, reconnectMinMs: 100, reconnectMaxMs: 500, outboxCount: 10000, outboxBytes: 400000, maxInflight: 32 });
    await until(() => rn.m.open, 5000, 'open');
    const N = 10000;
    let next = 0;
    // Publish at the pace the outbox drains, as a sensor loop would: a few hundred at a time.
    const feeder = setInterval(() => {
      for (let k = 0; k < 400 && next < N; k++) assert.ok(rn.m.publish('stream', String(next++), 1) >= 0);
    }, 2);
    try {
      await until(() => sink.msgs.length >= 3000, 20000, '3,000 delivered');
      await durable.stop('SIGTERM');
      await sleep(300);
      await durable.restart();
      await until(() => next === N && rn.m.stats().queued + rn.m.stats().inFlight === 0, 40000, 'outbox drained');
    } finally {
      clearInterval(feeder);
    }
    const seen = new Set<string>();
    await until(() => {
      for (const m of sink.msgs) seen.add(m.payload.toString());
      return seen.size === N;
    }, 20000, 'all 10,000 at the sink');
    const first: number[] = [];
    const once = new Set<string>();
    for (const m of sink.msgs) {
      const t = m.payload.toString();
      if (!once.has(t)) {
        once.add(t);
        first.push(+t);
      }
    }
    for (let i = 1; i < first.length; i++) assert.ok(first[i] > first[i - 1], 'in order at ' + i + ': ' + first[i - 1] + ' then ' + first[i]);
    assert.ok(rn.m.stats().reconnects >= 1);
    assert.equal(rn.m.stats().dropped, 0);
    stop(rn);
    sink.c.end(true);
  } finally {
    await durable.dispose();
  }
});

test('mosquitto killed (SIGKILL) and restarted mid-stream: nothing it had not acknowledged is lost', async () => {
  // A killed broker loses what it acknowledged but had not saved or forwarded; that is the broker's
  // promise, not the client's. The client's: whatever lacks a PUBACK is sent again until one comes, so
  // every message is acknowledged in the end, and a lost one is one the broker acknowledged. Before the
  // kill or after the restart: a restarted mosquitto once acknowledged 49 resent messages right after the
  // restart and never forwarded them, so which side of the restart the PUBACK came does not decide.
  const fragile = await startMosquitto({ persistence: true, extra: ['autosave_interval 1'] });
  try {
    const sink = await mqttjs(fragile.url, { clientId: 'sink-k', clean: false });
    await sink.c.subscribeAsync('stream-k', { qos: 1 });
    await sleep(1200); // the sink's session is in an autosave
    const rn = ringnet(fragile.url, { clientId: 'rn-k', clean: false, reconnectMinMs: 100, reconnectMaxMs: 500, outboxCount: 10000, outboxBytes: 400000, maxInflight: 32 });
    const indexOfId: { [id: number]: number } = {};
    const acked = new Set<number>();
    rn.m.handler = (m, ev, data) => {
      if (ev === MqttEv.PUBACK) acked.add(indexOfId[data.id]);
    };
    await until(() => rn.m.open, 5000, 'open');
    const N = 10000;
    let next = 0;
    const feeder = setInterval(() => {
      for (let k = 0; k < 400 && next < N; k++) {
        const id = rn.m.publish('stream-k', String(next), 1);
        assert.ok(id > 0);
        indexOfId[id] = next++;
      }
    }, 2);
    try {
      await until(() => sink.msgs.length >= 3000, 20000, '3,000 delivered');
      await fragile.stop('SIGKILL');
      await sleep(300);
      await fragile.restart();
      await until(() => next === N && rn.m.stats().queued + rn.m.stats().inFlight === 0, 40000, 'outbox drained');
    } finally {
      clearInterval(feeder);
    }
    await sleep(1000);
    const seen = new Set(sink.msgs.map((m) => +m.payload.toString()));
    const lost: number[] = [];
    for (let i = 0; i < N; i++) if (!seen.has(i)) lost.push(i);
    const unacked: number[] = [];
    for (let i = 0; i < N; i++) if (!acked.has(i)) unacked.push(i);
    if (process.env.MQTT_TEST_DEBUG) console.log('SIGKILL: lost ' + lost.length + ' (each acknowledged by the broker), duplicates ' + (sink.msgs.length - seen.size));
    assert.deepEqual(unacked, [], 'never acknowledged by the broker (the client gave up on them): ' + unacked.slice(0, 10).join());
    assert.ok(seen.size > N / 2, 'most arrived: ' + seen.size);
    const firsts: number[] = [];
    const once = new Set<number>();
    for (const m of sink.msgs) {
      const v = +m.payload.toString();
      if (!once.has(v)) {
        once.add(v);
        firsts.push(v);
      }
    }
    for (let i = 1; i < firsts.length; i++) assert.ok(firsts[i] > firsts[i - 1], 'in order at ' + i);
    assert.ok(rn.m.stats().reconnects >= 1);
    stop(rn);
    sink.c.end(true);
  } finally {
    await fragile.dispose();
  }
});

test('QoS 2 exactly once across connection resets mid-flow, both directions', async () => {
  const proxy = await startProxy(broker.port);
  try {
    // Two MQTT.js clients: one that both floods QoS 2 and subscribes stalls its own deliveries (MQTT.js behaviour, seen without any reset).
    const sink = await mqttjs(broker.url, { clientId: 'js-7' });
    await sink.c.subscribeAsync('x2/up', { qos: 2 });
    const source = await mqttjs(broker.url, { clientId: 'js-7s' });
    // Watch what mosquitto sends the client: mosquitto 2.0.11 sometimes sends a QoS 2 PUBLISH again (DUP, same id)
    // after it already sent that id's PUBREL, on a resumed session. By MQTT that is a new message, and any client
    // (MQTT.js too) delivers it again. Those ids are the only duplicates allowed below.
    const released = new Set<number>();
    const resentAfterRelease = new Set<number>();
    let down = 0;
    let downRing = new Ring(1 << 16);
    proxy.onDown = (conn, chunk) => {
      if (conn !== down) {
        down = conn;
        downRing = new Ring(1 << 16);
      }
      downRing.write(chunk);
      for (let p = decode(downRing, 1 << 16); p && p.type !== 0; p = decode(downRing, 1 << 16)) {
        if (p.type === PacketType.PUBREL) released.add(p.id);
        else if (p.type === PacketType.PUBLISH && p.topic === 'x2/down' && released.has(p.id)) resentAfterRelease.add(p.id);
      }
    };
    const rn = ringnet('mqtt://127.0.0.1:' + proxy.port, { clientId: 'rn-7', clean: false, reconnectMinMs: 50, reconnectMaxMs: 200, outboxCount: 2000, outboxBytes: 60000 });
    rn.m.subscribe('x2/down', 2);
    await until(() => rn.subacks.length >= 1, 5000, 'SUBACK');
    const N = 1000;
    for (let i = 0; i < N; i++) rn.m.publish('x2/up', String(i), 2);
    // The MQTT.js source keeps 10 unfinished: flooding mosquitto 2.0.11 with 1,000 at once made it lose the first
    // few for any subscriber (MQTT.js as the subscriber too), with or without resets.
    let sourced = 0;
    let sourceDone = 0;
    const feed = () => {
      while (sourced < N && sourced - sourceDone < 10) source.c.publish('x2/down', String(sourced++), { qos: 2 }, () => sourceDone++);
      if (sourced < N) setTimeout(feed, 1);
    };
    feed();
    let resets = 0;
    let maxRanges = 0;
    const chaos = setInterval(() => {
      if (rn.m.rxRanges > maxRanges) maxRanges = rn.m.rxRanges;
      if (resets < 15 && proxy.resetAll() > 0) resets++;
    }, 25);
    try {
      await until(() => sink.msgs.length >= N && rn.msgs.length >= N && rn.m.stats().queued + rn.m.stats().inFlight === 0, 60000, 'both flows done');
    } catch (e) {
      const got = new Set(rn.msgs.map((m) => m.text));
      const missing = Array.from({ length: N }, (_, i) => String(i)).filter((t) => !got.has(t));
      throw new Error((e as Error).message + ': sink ' + sink.msgs.length + ', ringnet ' + rn.msgs.length + ' (missing ' + missing.slice(0, 10).join() + ')' + ', ' + JSON.stringify(rn.m.stats()) + ' open ' + rn.m.open + ' sessions ' + rn.connacks.join() + ' errors ' + rn.errors.slice(-3).join('; '));
    } finally {
      clearInterval(chaos);
    }
    await sleep(500);
    if (process.env.MQTT_TEST_DEBUG) console.log('QoS 2: resets ' + resets + ', most QoS 2 id ranges held ' + maxRanges + ', ids mosquitto re-sent after PUBREL ' + resentAfterRelease.size);
    assert.ok(resets >= 3, 'resets: ' + resets);
    assert.deepEqual(sink.msgs.map((m) => m.payload.toString()), Array.from({ length: N }, (_, i) => String(i)), 'ringnet → MQTT.js exactly once, in order');
    const firsts: string[] = [];
    const duplicates: number[] = [];
    for (const m of rn.msgs) {
      if (firsts.indexOf(m.text) < 0) firsts.push(m.text);
      else duplicates.push(m.id);
    }
    assert.deepEqual(firsts, Array.from({ length: N }, (_, i) => String(i)), 'MQTT.js → ringnet: every message, in order');
    const ours = duplicates.filter((id) => !resentAfterRelease.has(id));
    assert.deepEqual(ours, [], 'MQTT.js → ringnet: no duplicate but those mosquitto re-sent after releasing them (' + duplicates.length + ' such)');
    stop(rn);
  } finally {
    await proxy.close();
  }
});

test('a frozen mosquitto (SIGSTOP) is noticed by a client that keeps publishing QoS 0, which reconnects once it thaws', async () => {
  const frozen = await startMosquitto();
  try {
    const rn = ringnet(frozen.url, { clientId: 'rn-9', keepalive: 1, pingTimeoutMs: 1000, reconnectMinMs: 100, reconnectMaxMs: 300 });
    await until(() => rn.m.open, 5000, 'open');
    frozen.freeze(true);
    let n = 0;
    const feeder = setInterval(() => rn.m.publish('into/the/void', String(n++), 0), 50);
    try {
      await until(() => rn.errors.some((e) => /PINGRESP/.test(e)), 15000, 'the silence noticed');
      assert.ok(n > 0, 'it was publishing all along');
      frozen.freeze(false);
      await until(() => rn.m.stats().reconnects >= 1 && rn.m.open, 15000, 'reconnected after the thaw');
    } finally {
      clearInterval(feeder);
      frozen.freeze(false);
    }
    stop(rn);
  } finally {
    await frozen.dispose();
  }
});

test('a message larger than the receive ring on a persistent session is acknowledged and skipped once; what follows it arrives', async () => {
  const rn = ringnet(broker.url, { clientId: 'rn-10', clean: false, reconnectMinMs: 100, reconnectMaxMs: 300 }, 1024);
  const sizes: number[] = [];
  const record = rn.m.handler as (m: MqttClient, ev: number, data: unknown) => void;
  rn.m.handler = (m, ev, data) => {
    if (ev === MqttEv.SKIPPED) sizes.push(data.size as number);
    record(m, ev, data);
  };
  rn.m.subscribe('big/+', 2);
  await until(() => rn.subacks.length >= 1, 5000, 'SUBACK');
  const source = await mqttjs(broker.url, { clientId: 'js-10' });
  for (let q = 0; q < 3; q++) {
    await source.c.publishAsync('big/' + q, Buffer.alloc(5000, 0x41), { qos: q as QoS });
    await source.c.publishAsync('big/' + q, 'after ' + q, { qos: q as QoS });
  }
  await until(() => rn.msgs.length >= 3, 10000, 'the messages behind the big ones');
  await sleep(300);
  assert.deepEqual(rn.msgs.map((m) => m.text), ['after 0', 'after 1', 'after 2']);
  assert.deepEqual(sizes, [5010, 5012, 5012], 'each big one reported once');
  assert.deepEqual(rn.errors, []);
  assert.deepEqual(rn.connacks, [false], 'one connection all along');
  stop(rn);
  source.c.end(true);
});

test('process restart with the outbox in a file: a new manager and client send what the old one had not', async () => {
  const path = join(tmp, 'outbox.log');
  const sink = await mqttjs(broker.url, { clientId: 'js-8' });
  await sink.c.subscribeAsync('persist', { qos: 1 });
  const N = 3000;
  const opts = (store: NodeFileStore): MqttOptions => ({ clientId: 'rn-8', store: outboxStore(store), outboxCount: N, outboxBytes: 100000, maxInflight: 8 });
  const store1 = new NodeFileStore(path);
  const first = ringnet(broker.url, opts(store1));
  await until(() => first.m.open, 5000, 'open');
  for (let i = 0; i < N; i++) first.m.publish('persist', String(i), 1);
  await until(() => sink.msgs.length >= 200, 10000, 'some delivered');
  first.mgr.shutdown(); // the process dies: no DISCONNECT, nothing flushed beyond what the store had
  store1.close();
  const left = first.m.stats().queued + first.m.stats().inFlight;
  assert.ok(left > 1000, 'still to send: ' + left);
  const store2 = new NodeFileStore(path);
  const second = ringnet(broker.url, opts(store2));
  assert.ok(second.m.stats().queued >= left - 8, 'restored ' + second.m.stats().queued + ' of ' + left);
  await until(() => second.m.stats().queued + second.m.stats().inFlight === 0, 20000, 'restored outbox sent');
  const seen = new Set<string>();
  await until(() => {
    for (const m of sink.msgs) seen.add(m.payload.toString());
    return seen.size === N;
  }, 10000, 'every message at the sink');
  stop(second);
  store2.close();
});
