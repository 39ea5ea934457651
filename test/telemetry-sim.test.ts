/**
 * The telemetry app for one simulated hour: SNTP-stamped readings every
 * second, Wi-Fi drops and a broker restart. Every reading must reach the
 * broker; duplicates only where QoS 1 allows, and counted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Manager } from '../src/core/manager.js';
import { SimNetwork } from '../src/drivers/sim.js';
import type { SimHost } from '../src/drivers/sim.js';
import { MqttEv } from '../src/protocols/mqtt/events.js';
import { encodeReply } from '../src/protocols/sntp/codec.js';
import { SntpClock, sntpSync } from '../src/protocols/sntp/client.js';
import { Ev } from '../src/core/events.js';
import { Telemetry, configTopic, telemetryTopic } from '../examples/telemetry/app.js';
import { simulatedSensors } from '../examples/telemetry/sensors.js';
import { SimBroker } from './support/sim-broker.js';
import type { Received } from './support/sim-broker.js';

const EPOCH = Date.UTC(2026, 10, 25, 12);
const MINUTE = 60000;

function ntpServer(host: SimHost, net: SimNetwork): void {
  const mgr = new Manager(host);
  mgr.run();
  mgr.listen('udp://0.0.0.0:123', (c, ev) => {
    if (ev !== Ev.RECV) return;
    const req = new Uint8Array(48);
    c.recv.copyTo(req, 0, 0, 48);
    const originate = {
      seconds: req[40] * 16777216 + ((req[41] << 16) | (req[42] << 8) | req[43]),
      fraction: req[44] * 16777216 + ((req[45] << 16) | (req[46] << 8) | req[47]),
    };
    const t = EPOCH + net.now;
    c.send(encodeReply(new Uint8Array(48), { leap: 0, version: 4, mode: 4, stratum: 2, originate, receiveMs: t, transmitMs: t, kissCode: '' }));
  });
}

test('one simulated hour with Wi-Fi drops and a broker restart loses no reading', () => {
  const net = new SimNetwork({ seed: 2026, latencyMs: 15, jitterMs: 10, chunkMin: 20, chunkMax: 600 });
  ntpServer(net.host('ntp'), net);
  const brokerHost = net.host('broker');
  let brokerMgr = new Manager(brokerHost);
  brokerMgr.run();
  let broker = new SimBroker(brokerMgr, 'tcp://0.0.0.0:1883');
  const arrived: Received[] = [];

  const deviceHost = net.host('device');
  const mgr = new Manager(deviceHost, { pools: { default: { conns: 3, recvBytes: 1024, sendBytes: 1024 } } });
  mgr.run();
  const clock = new SntpClock(mgr);
  sntpSync(mgr, 'ntp', clock, null);
  const app = new Telemetry(mgr, {
    deviceId: 'dev1',
    broker: 'mqtt://broker:1883',
    sensors: simulatedSensors(1),
    wallClock: () => clock.now(),
    periodMs: 1000,
    mqtt: { outboxBytes: 24576, outboxCount: 240, keepalive: 20, reconnectMinMs: 500, reconnectMaxMs: 8000, random: net.random },
  });
  let closes = 0;
  const original = app.client.handler;
  app.client.handler = (m, ev, data) => {
    if (ev === MqttEv.CLOSE) closes++;
    if (original) (original as any)(m, ev, data);
  };

  // Wi-Fi drops of 30 s to 2 minutes, ten times in the hour; the broker restarts once, down for 40 s.
  for (let k = 0; k < 10; k++) {
    const at = (5 + k * 5.5) * MINUTE;
    net.at(at, () => deviceHost.setLink(false));
    net.at(at + 30000 + (k % 4) * 30000, () => deviceHost.setLink(true));
  }
  net.at(31 * MINUTE, () => {
    arrived.push(...broker.received);
    brokerMgr.shutdown(); // the broker process dies: every connection and its sessions go
  });
  net.at(31 * MINUTE + 40000, () => {
    brokerMgr = new Manager(brokerHost);
    brokerMgr.run();
    broker = new SimBroker(brokerMgr, 'tcp://0.0.0.0:1883');
  });
  // Half way through, the config topic slows sampling to 2 s, and later back to 1 s.
  net.at(20 * MINUTE, () => broker.publish(configTopic('dev1'), '{"periodMs":2000}', 1, false));
  net.at(25 * MINUTE, () => broker.publish(configTopic('dev1'), '{"periodMs":1000}', 1, false));

  net.runFor(60 * MINUTE);
  app.pause();
  net.runFor(2 * MINUTE); // let the outbox drain
  arrived.push(...broker.received);

  const readings = arrived.filter((r) => r.topic === telemetryTopic('dev1')).map((r) => ({ r, m: JSON.parse(r.text) }));
  const seqs = new Map<number, number>();
  for (const { m } of readings) seqs.set(m.seq, (seqs.get(m.seq) || 0) + 1);
  const missing: number[] = [];
  for (let s = 1; s <= app.seq; s++) if (!seqs.has(s)) missing.push(s);
  const duplicates = readings.length - seqs.size;
  const dupFlagged = readings.filter(({ r }) => r.dup).length;

  assert.ok(app.seq > 3000, 'about an hour of readings: ' + app.seq);
  assert.deepEqual(missing, [], 'every reading reached the broker');
  assert.equal(app.client.stats().dropped, 0);
  assert.equal(app.client.stats().queued + app.client.stats().inFlight, 0, 'the outbox drained');
  for (const [seq, n] of seqs) if (n > 1) assert.ok(readings.some(({ r, m }) => m.seq === seq && r.dup), 'a duplicate of ' + seq + ' is a DUP resend');
  assert.ok(duplicates <= dupFlagged, 'duplicates only as QoS 1 resends: ' + duplicates + ' duplicates, ' + dupFlagged + ' DUP');
  assert.ok(closes >= 11, 'the drops and the restart were felt: ' + closes + ' closes');
  assert.ok(app.client.stats().reconnects >= 11);

  // SNTP stamped every reading with the server's clock, and the period changed as configured.
  const first = readings.find(({ m }) => m.seq === 1)!.m;
  assert.ok(Math.abs(first.t - (EPOCH + 1000)) < 200, 'SNTP time: ' + (first.t - EPOCH));
  const byTime = readings.map(({ m }) => m).sort((a, b) => a.seq - b.seq);
  const gap = (fromMin: number) => {
    const a = byTime.find((m) => m.t >= EPOCH + fromMin * MINUTE)!;
    const b = byTime.find((m) => m.seq === a.seq + 1)!;
    return Math.round((b.t - a.t) / 1000);
  };
  assert.equal(gap(22), 2, 'sampling every 2 s after the config message');
  assert.equal(gap(27), 1, 'and every second again');
  console.log('# readings ' + app.seq + ', duplicates ' + duplicates + ' (DUP-flagged arrivals ' + dupFlagged + '), reconnects ' + app.client.stats().reconnects + ', outbox high water ' + app.client.stats().highWater + ' B');
});

/** A device and a broker on a fresh simulated network; `log` collects the app's log lines. */
function smallWorld(deviceId: string) {
  const net = new SimNetwork({ seed: 5, latencyMs: 5 });
  const brokerMgr = new Manager(net.host('broker'));
  brokerMgr.run();
  const broker = new SimBroker(brokerMgr, 'tcp://0.0.0.0:1883');
  const host = net.host('device');
  const mgr = new Manager(host);
  mgr.run();
  const log: string[] = [];
  const make = (id: string) =>
    new Telemetry(mgr, {
      deviceId: id,
      broker: 'mqtt://broker:1883',
      sensors: simulatedSensors(1),
      wallClock: () => EPOCH + net.now,
      periodMs: 1000,
      log: (line) => log.push(line),
    });
  return { net, host, broker, mgr, log, make, app: deviceId ? make(deviceId) : null };
}

test('a device id that cannot be in a topic (#, +, /, empty) is refused with a clear error, before anything connects', () => {
  const w = smallWorld('');
  for (const id of ['kitchen#1', 'a+b', '+', '#', 'floor/2', '', 'nul\u0000']) {
    assert.throws(() => w.make(id), /device id "[^"]*" cannot be used in an MQTT topic/, JSON.stringify(id));
  }
  assert.equal(w.mgr.conns.length, 0, 'no connection was opened');
  const ok = w.make('kitchen-1_\u00e9');
  w.net.runFor(5500);
  assert.equal(ok.status().mqtt, 'connected');
  assert.ok(w.broker.received.some((r) => r.topic === 'ringnet/kitchen-1_\u00e9/telemetry'));
});

test('the status counts every reading the broker has not acknowledged, also those the client refused outright', () => {
  const w = smallWorld('dev2');
  const app = w.app!;
  w.net.runFor(5500);
  let s = app.status();
  assert.equal(s.seq, 5);
  assert.equal(s.acked, 5, 'all acknowledged');
  assert.equal(s.unacked, 0);
  // What the client does with a topic it cannot send (as it did with a "#" in the id): -1, nothing queued, nothing dropped.
  const publish = app.client.publish;
  app.client.publish = () => -1;
  w.net.runFor(3000);
  s = app.status();
  assert.equal(s.mqtt, 'connected');
  assert.equal(s.outbox.queued + s.outbox.inFlight + s.outbox.dropped, 0, 'the outbox saw none of them');
  assert.equal(s.unacked, 3, 'yet three readings were never acknowledged, and the status says so');
  app.client.publish = publish;
  // While Wi-Fi is down, the readings wait and count as not acknowledged until they are.
  w.host.setLink(false);
  w.net.runFor(5000);
  assert.ok(app.status().unacked >= 3 + 5, 'waiting: ' + JSON.stringify(app.status()));
  w.host.setLink(true);
  w.net.runFor(20000);
  s = app.status();
  assert.equal(s.unacked, 3, 'only the refused ones remain: ' + JSON.stringify(s));
  assert.equal(s.acked, s.seq - 3);
});

test('a config message that is not JSON, has no periodMs, or is outside 100 ms - 1 h is reported, not silently ignored', () => {
  const w = smallWorld('dev3');
  const app = w.app!;
  w.net.runFor(1500);
  assert.equal(app.status().lastConfigError, '');
  const cases: [string, RegExp][] = [
    ['period=5000', /not JSON/],
    ['{"period":5000}', /no "periodMs" number/],
    ['{"periodMs":"5000"}', /no "periodMs" number/],
    ['{"periodMs":50}', /periodMs 50 is outside 100 \.\. 3600000/],
    ['{"periodMs":7200000}', /periodMs 7200000 is outside 100 \.\. 3600000/],
  ];
  for (const [text, why] of cases) {
    w.broker.publish(configTopic('dev3'), text, 1, false);
    w.net.runFor(200);
    assert.match(app.status().lastConfigError, why, text);
    assert.match(w.log[w.log.length - 1], why, 'logged: ' + text);
    assert.match(w.log[w.log.length - 1], /config/, 'the log line says what it is about');
    assert.equal(app.periodMs, 1000, 'the period is unchanged by ' + text);
  }
  assert.equal(w.log.length, cases.length, 'one log line each');
  w.broker.publish(configTopic('dev3'), '{"periodMs":2000}', 1, false);
  w.net.runFor(200);
  assert.equal(app.periodMs, 2000);
  assert.equal(app.status().lastConfigError, '', 'a config that is applied clears the error');
});
