/**
 * The telemetry bundles: they build for every board through the Espruino
 * gate (device-bundles builds every app), keep their rings and outbox small,
 * and the ESP8266 one boots in the Espruino-shaped sandbox and answers its
 * status API. (The sandbox does not count variables, and the build refuses
 * telemetry for a plain ESP8266 by its RAM estimate, so these build for a
 * larger target; see the README.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appBundle, roomFor, sandboxFor } from './support/device-build.js';

/** All the RAM an ESP8266 build gives JavaScript: about 1,600 JsVars of 12–16 bytes (ESPRUINO.md). */
const ESP8266_JS_BYTES = 1600 * 14;

test('the esp8266 telemetry bundle keeps its rings and outbox within a third of the board\'s RAM', async () => {
  const r = await appBundle('esp8266', 'telemetry', roomFor('esp8266', 'telemetry'));
  assert.ok(r.budget.protocols.some((p) => p.name === 'mqtt' && p.what === 'outbox'), 'the outbox is counted');
  assert.ok(r.budget.total <= ESP8266_JS_BYTES / 3, 'rings + outbox ' + r.budget.total + ' B of ' + ESP8266_JS_BYTES + ' B');
});

test('the esp8266 telemetry bundle leaves the clock to the firmware\'s SNTP (Wifi.setSNTP), and --set sntp=ringnet brings ringnet\'s client back', async () => {
  const r = await appBundle('esp8266', 'telemetry', { ...roomFor('esp8266', 'telemetry'), http: 0, id: 'sandbox3', ntp: 'time.example', period: 200 });
  assert.ok(!r.modules.some((m) => m === 'src/drivers/espruino-udp.ts'), 'no datagram driver');
  assert.ok(!r.budget.pools.some((p) => p.name === 'udp'), 'no udp pool');
  const sb = sandboxFor('esp8266', r.code, { wifi: true });
  sb.runFor(2000);
  assert.deepEqual(sb.sntpServers, ['time.example'], 'the firmware is asked once, for the server --set ntp names');
  assert.deepEqual(sb.errors, []);
  const own = await appBundle('esp8266', 'telemetry', { ...roomFor('esp8266', 'telemetry'), http: 0, sntp: 'ringnet' });
  assert.ok(own.budget.pools.some((p) => p.name === 'udp'), 'sntp=ringnet: its socket\'s pool');
  assert.ok(own.ram.functions > r.ram.functions, own.ram.functions + ' functions with ringnet\'s SNTP, ' + r.ram.functions + ' without');
});

test('the esp8266 telemetry bundle boots in the sandbox and serves /api/status', async () => {
  const r = await appBundle('esp8266', 'telemetry', { ...roomFor('esp8266', 'telemetry'), http: 80, id: 'sandbox1', period: 200 });
  const sb = sandboxFor('esp8266', r.code);
  sb.runFor(1000);
  const peer = sb.connect(80);
  assert.ok(peer, 'the dashboard listens on port 80');
  peer.write(new TextEncoder().encode('GET /api/status HTTP/1.1\r\nHost: device\r\n\r\n'));
  assert.ok(sb.runUntil(() => Buffer.from(peer.received()).toString().indexOf('}') > 0, 5000), 'a response came');
  const text = Buffer.from(peer.received()).toString();
  assert.match(text, /^HTTP\/1\.1 200/);
  const status = JSON.parse(text.substring(text.indexOf('\r\n\r\n') + 4));
  assert.equal(status.deviceId, 'sandbox1');
  assert.ok(status.seq >= 3, 'it is sampling: ' + status.seq);
  assert.equal(status.mqtt, 'offline', 'no broker in the sandbox: the readings wait in the outbox');
  assert.ok(status.outbox.queued > 0);
  assert.deepEqual(sb.errors, []);
});

test('when the firmware\'s SNTP sets the board\'s clock, the manager\'s clock does not jump with it: timers keep their period, uptime stays true', async () => {
  const r = await appBundle('esp8266', 'telemetry', { ...roomFor('esp8266', 'telemetry'), http: 80, id: 'sandbox4', period: 200 });
  const sb = sandboxFor('esp8266', r.code, { wifi: true });
  sb.runFor(2000); // an ESP8266 boots with its clock at 1970
  sb.setWallClock(Date.UTC(2026, 11, 7)); // the firmware's first answer
  sb.runFor(3000);
  const peer = sb.connect(80);
  assert.ok(peer);
  peer.write(new TextEncoder().encode('GET /api/status HTTP/1.1\r\nHost: device\r\n\r\n'));
  assert.ok(sb.runUntil(() => Buffer.from(peer.received()).toString().indexOf('}') > 0, 5000), 'a response came');
  const text = Buffer.from(peer.received()).toString();
  const status = JSON.parse(text.substring(text.indexOf('\r\n\r\n') + 4));
  assert.ok(status.uptimeMs >= 4500 && status.uptimeMs <= 5600, 'uptime ' + status.uptimeMs + ' ms after 5 s');
  // One reading per 200 ms from the first, none extra when the clock moved by 57 years (no timer fired early).
  assert.ok(status.seq >= 24 && status.seq <= 26, status.seq + ' readings in 5 s');
  assert.deepEqual(sb.errors, []);
});

test('the esp8266 telemetry bundle with ringnet\'s SNTP client retries a failed sync within seconds, not an hour later', async () => {
  const r = await appBundle('esp8266', 'telemetry', { ...roomFor('esp8266', 'telemetry'), http: 0, id: 'sandbox2', ntp: '127.0.0.1', sntp: 'ringnet' });
  const sb = sandboxFor('esp8266', r.code);
  const ntp = sb.udpPeer(123); // takes the requests and answers none: a server that is not there yet
  sb.runFor(60000);
  // Each sync is 3 tries of 2 s; then 10 s, 20 s … between syncs: 0–6 s, 16–22 s, 42–48 s.
  assert.equal(ntp.messages.length, 9, 'three syncs of three requests in the first minute: ' + ntp.messages.length);
  assert.deepEqual(sb.errors, []);
});
