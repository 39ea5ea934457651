/**
 * Home Assistant MQTT discovery from the telemetry app, against a real
 * mosquitto: what a fresh subscriber (as Home Assistant is when it starts)
 * gets retained under homeassistant/, that each config points at a field the
 * readings really have, that the configs come back after the broker lost
 * them, that they never push a queued reading out of an ESP8266-sized
 * outbox, and that `discovery: false` publishes none.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import esp8266 from '../boards/esp8266.js';
import { startMosquitto } from '../src/cli/mosquitto.js';
import type { Mosquitto } from '../src/cli/mosquitto.js';
import { Manager } from '../src/core/manager.js';
import { NodeDriver } from '../src/drivers/node.js';
import { Telemetry, telemetryTopic } from '../examples/telemetry/app.js';
import { simulatedSensors } from '../examples/telemetry/sensors.js';
import { until } from './support/wait.js';

let broker: Mosquitto;
const running: { app: Telemetry; mgr: Manager }[] = [];

before(async () => {
  broker = await startMosquitto(); // no persistence: a restart loses every retained message
});

after(async () => {
  for (const r of running) {
    r.app.stop();
    r.mgr.shutdown();
  }
  if (broker) await broker.dispose();
});

/** The telemetry app on the Node driver with an ESP8266's pools and outbox, as the board runs it. */
function startApp(deviceId: string, discovery?: boolean, periodMs?: number): Telemetry {
  const mgr = new Manager(new NodeDriver(), { pools: esp8266.pools, pollMs: 10 });
  const app = new Telemetry(mgr, {
    deviceId,
    broker: broker.url,
    sensors: simulatedSensors(7),
    wallClock: () => Date.now(),
    periodMs: periodMs || 100,
    discovery,
    mqtt: { pool: 'mqtt', outboxBytes: esp8266.mqtt.outboxBytes, outboxCount: esp8266.mqtt.outboxCount, maxInflight: esp8266.mqtt.inflight, reconnectMinMs: 100, reconnectMaxMs: 400 },
  });
  mgr.run();
  running.push({ app, mgr });
  return app;
}

/**
 * Counts the configs the app publishes, and the readings it had taken at the
 * last one: once a later reading is acknowledged, the broker (which handles
 * one client's packets in order) has retained them.
 */
function watch(app: Telemetry): { configs: number; seqAt: number } {
  const seen = { configs: 0, seqAt: 0 };
  const client = app.client;
  const publish = client.publish;
  client.publish = function (topic, payload, qos, retain) {
    if (topic.indexOf('homeassistant/') === 0) {
      seen.configs++;
      seen.seqAt = app.seq;
    }
    return publish.call(client, topic, payload, qos, retain);
  };
  return seen;
}

/** Until `n` configs were published and the broker has them. */
function retained(app: Telemetry, seen: { configs: number; seqAt: number }, n: number): Promise<void> {
  return until(() => seen.configs >= n && app.acked > seen.seqAt, 15000, n + ' configs published and at the broker');
}

interface Got {
  topic: string;
  text: string;
  retain: boolean;
}

/**
 * A new MQTT.js client subscribed to `homeassistant/#`, then to the device's
 * readings. The broker sends what it retained for the first filter before it
 * answers the second, so once a reading has come every retained config has.
 */
async function freshSubscriber(deviceId: string): Promise<{ configs: Got[]; reading: any }> {
  const client = mqtt.connect(broker.url, { clean: true });
  const configs: Got[] = [];
  let reading: any = null;
  client.on('message', (topic, payload, packet) => {
    if (topic.indexOf('homeassistant/') === 0) {
      if (topic.indexOf('/' + deviceId + '_') > 0) configs.push({ topic, text: payload.toString(), retain: packet.retain });
    } else if (!reading) reading = JSON.parse(payload.toString());
  });
  try {
    await client.subscribeAsync('homeassistant/#', { qos: 0 });
    await client.subscribeAsync(telemetryTopic(deviceId), { qos: 0 });
    await until(() => reading !== null, 10000, 'a reading from ' + deviceId);
  } finally {
    await client.endAsync();
  }
  return { configs, reading };
}

/** The sensor fields of a reading: all but its id, sequence number and time stamp. */
function fields(reading: any): string[] {
  return Object.keys(reading)
    .filter((k) => k !== 'id' && k !== 'seq' && k !== 't')
    .sort();
}

function checkConfigs(deviceId: string, got: { configs: Got[]; reading: any }): void {
  const want = fields(got.reading);
  assert.deepEqual(want, ['analog', 'freeMem', 'temp'], 'the reading: ' + JSON.stringify(got.reading));
  assert.deepEqual(
    got.configs.map((c) => c.topic).sort(),
    want.map((f) => 'homeassistant/sensor/' + deviceId + '_' + f + '/config'),
    'one config per field',
  );
  for (const c of got.configs) {
    assert.equal(c.retain, true, c.topic + ' is retained');
    const cfg = JSON.parse(c.text);
    const field = /^homeassistant\/sensor\/[^/]+_([a-zA-Z]+)\/config$/.exec(c.topic)![1];
    assert.equal(cfg.name, field);
    assert.equal(cfg.unique_id, deviceId + '_' + field);
    assert.equal(cfg.state_topic, telemetryTopic(deviceId));
    assert.equal(cfg.state_class, 'measurement');
    assert.deepEqual(cfg.device, { identifiers: [deviceId], name: deviceId });
    // The template Home Assistant applies to each reading must find a number in it.
    const path = /^\{\{ value_json\.(\w+) \}\}$/.exec(cfg.value_template);
    assert.ok(path, cfg.value_template);
    assert.equal(typeof got.reading[path[1]], 'number', cfg.value_template + ' on ' + JSON.stringify(got.reading));
    if (field === 'temp') {
      assert.equal(cfg.device_class, 'temperature');
      assert.equal(cfg.unit_of_measurement, '\u00b0C');
    } else {
      assert.equal(cfg.device_class, undefined, field + ' has no Home Assistant device class');
    }
  }
}

test('a fresh subscriber gets one retained config per sensor field, each pointing at the readings', async () => {
  const app = startApp('kitchen');
  await retained(app, watch(app), 3);
  checkConfigs('kitchen', await freshSubscriber('kitchen'));
});

test('after a broker restart that lost them, the configs are retained again', async () => {
  const app = startApp('hall');
  const seen = watch(app);
  await retained(app, seen, 3);
  checkConfigs('hall', await freshSubscriber('hall'));
  await broker.stop();
  await broker.restart();
  await retained(app, seen, 6);
  checkConfigs('hall', await freshSubscriber('hall'));
});

test('readings queued while the broker was down are not pushed out of an ESP8266 outbox by the configs', async () => {
  await broker.stop();
  const app = startApp('garage', true, 300);
  const seen = watch(app);
  // Readings of about 110 bytes wait in the 1,024-byte outbox: the three configs (about 280 bytes each) do not fit
  // beside three of them, and eight readings (2.4 s offline) would fill it by themselves.
  await until(() => app.seq >= 3, 10000, 'readings queued offline');
  await broker.restart();
  await retained(app, seen, 3);
  assert.equal(app.client.stats().dropped, 0, 'no reading was dropped');
  assert.ok(seen.seqAt >= 3, 'the configs went out after the queued readings');
  checkConfigs('garage', await freshSubscriber('garage'));
});

test('with discovery: false nothing is published under homeassistant/', async () => {
  const app = startApp('quiet', false);
  const seen = watch(app);
  await until(() => app.acked >= 2, 10000, 'readings acknowledged');
  assert.equal(seen.configs, 0);
  const got = await freshSubscriber('quiet');
  assert.deepEqual(got.configs, []);
  assert.deepEqual(fields(got.reading), ['analog', 'freeMem', 'temp']);
});
