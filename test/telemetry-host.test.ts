/// <reference lib="dom" />
/**
 * `npm start` as a user meets it: the app process with its embedded broker,
 * the dashboard over HTTP, readings over MQTT, and the page in a real
 * browser (Debian's Chromium) charting live WebSocket data.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { freePort, sleep } from './support/wait.js';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let app: ChildProcess;
let httpPort = 0;
let mqttPort = 0;
let output = '';

before(async () => {
  httpPort = await freePort();
  mqttPort = await freePort();
  // What `npm start` runs once it has compiled (checked below), started directly so it cannot recompile under other tests.
  app = spawn(process.execPath, [join(root, 'build', 'examples', 'telemetry', 'host.js')], {
    env: { ...process.env, HTTP_PORT: String(httpPort), MQTT_PORT: String(mqttPort), DEVICE_ID: 'bench1', PERIOD_MS: '250' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  app.stdout!.on('data', (d) => (output += d));
  app.stderr!.on('data', (d) => (output += d));
  const end = Date.now() + 15000;
  while (output.indexOf('Ctrl-C') < 0) {
    if (Date.now() > end || app.exitCode !== null) throw new Error('the app did not start:\n' + output);
    await sleep(50);
  }
});

after(async () => {
  if (app.exitCode === null) {
    const exited = new Promise((r) => app.once('exit', r));
    app.kill('SIGINT');
    await exited;
  }
});



test('npm start runs this app and prints where its dashboard and broker are', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  assert.equal(pkg.scripts.start, 'npm run compile && node build/examples/telemetry/host.js');
  assert.match(output, new RegExp('dashboard  http://127.0.0.1:' + httpPort + '/'));
  assert.match(output, new RegExp('broker     mqtt://127.0.0.1:' + mqttPort));
});

test('the dashboard and the status API answer over HTTP', async () => {
  const page = await fetch('http://127.0.0.1:' + httpPort + '/');
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') || '', /text\/html/);
  assert.match(await page.text(), /ringnet telemetry/);
  const status: any = await (await fetch('http://127.0.0.1:' + httpPort + '/api/status')).json();
  assert.equal(status.deviceId, 'bench1');
  assert.equal(status.mqtt, 'connected');
  assert.equal(typeof status.outbox.queued, 'number');
  assert.ok(status.uptimeMs > 0);
});

test('readings arrive from its broker, and the config topic changes the period', async () => {
  const client = mqtt.connect('mqtt://127.0.0.1:' + mqttPort);
  try {
    const readings: any[] = [];
    client.on('message', (topic, payload) => readings.push({ topic, m: JSON.parse(payload.toString()) }));
    await client.subscribeAsync('ringnet/+/telemetry', { qos: 1 });
    const end = Date.now() + 5000;
    while (readings.length < 2 && Date.now() < end) await sleep(20);
    assert.ok(readings.length >= 2, 'readings arrived');
    assert.equal(readings[0].topic, 'ringnet/bench1/telemetry');
    assert.equal(readings[1].m.seq, readings[0].m.seq + 1);
    assert.ok(Math.abs(readings[0].m.t - Date.now()) < 5000);
    await client.publishAsync('ringnet/bench1/config', JSON.stringify({ periodMs: 700 }), { qos: 1 });
    const until = Date.now() + 5000;
    let period = 0;
    while (period !== 700 && Date.now() < until) {
      period = ((await (await fetch('http://127.0.0.1:' + httpPort + '/api/status')).json()) as any).periodMs;
      await sleep(50);
    }
    assert.equal(period, 700);
  } finally {
    await client.endAsync();
  }
});

test('a config message it cannot apply is logged and shown in the status', async () => {
  const client = mqtt.connect('mqtt://127.0.0.1:' + mqttPort);
  try {
    const before = output.length;
    await client.publishAsync('ringnet/bench1/config', JSON.stringify({ periodMs: 5 }), { qos: 1 });
    const end = Date.now() + 5000;
    while (output.indexOf('refused', before) < 0 && Date.now() < end) await sleep(20);
    assert.match(output.substring(before), /config on ringnet\/bench1\/config refused: periodMs 5 is outside 100 \.\. 3600000 ms/);
    const status: any = await (await fetch('http://127.0.0.1:' + httpPort + '/api/status')).json();
    assert.match(status.lastConfigError, /periodMs 5 is outside/);
    assert.equal(status.periodMs, 700, 'the period set before stays');
  } finally {
    await client.endAsync();
  }
});

test('in Chromium the page charts live readings from the WebSocket', async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 320 } });
    await page.goto('http://127.0.0.1:' + httpPort + '/');
    await page.waitForFunction(() => Number(document.body.dataset.readings || 0) >= 6, null, { timeout: 15000 });
    assert.equal(await page.textContent('#state'), 'live');
    const temp = Number(await page.textContent('#temp'));
    assert.ok(temp > 0 && temp < 60, 'a plausible temperature: ' + temp);
    // The chart has a drawn line: some pixels of the temperature colour.
    const painted = await page.evaluate(() => {
      const c = document.getElementById('ct') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] > 200 && d[i + 1] > 170 && d[i + 2] < 160) n++;
      return n;
    });
    assert.ok(painted > 50, 'the temperature line is drawn: ' + painted + ' pixels');
    const before = Number(await page.evaluate(() => document.body.dataset.readings));
    await page.waitForFunction((n) => Number(document.body.dataset.readings) > n + 2, before, { timeout: 5000 });
    await page.waitForFunction(() => (document.getElementById('status') as HTMLElement).textContent!.indexOf('uptime') >= 0, null, { timeout: 5000 });
    await page.screenshot({ path: process.env.RINGNET_SCREENSHOT || join(root, 'build', 'dashboard.png') });
  } finally {
    await browser.close();
  }
});

test('a device id that cannot be in a topic stops it at once with a message naming the id', async () => {
  for (const id of ['kitchen#1', 'floor/2']) {
    const r = spawnSync(process.execPath, [join(root, 'build', 'examples', 'telemetry', 'host.js')], {
      env: { ...process.env, HTTP_PORT: '0', MQTT_PORT: '0', DEVICE_ID: id },
      encoding: 'utf8',
      timeout: 10000,
    });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp('device id "' + id + '" cannot be used in an MQTT topic'));
    assert.doesNotMatch(r.stdout, /dashboard/, 'nothing claims to be running');
  }
});

test('with its HTTP and MQTT ports taken it says so, takes free ones and prints those, and its dashboard answers there', { timeout: 30000 }, async () => {
  // Something else (not HTTP) holds both ports the user asked for.
  const squatters: net.Server[] = [];
  const taken: number[] = [];
  for (let k = 0; k < 2; k++) {
    const s = net.createServer((sock) => sock.destroy());
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
    squatters.push(s);
    taken.push((s.address() as net.AddressInfo).port);
  }
  const second = spawn(process.execPath, [join(root, 'build', 'examples', 'telemetry', 'host.js')], {
    env: { ...process.env, HTTP_PORT: String(taken[0]), MQTT_PORT: String(taken[1]), DEVICE_ID: 'second', PERIOD_MS: '250' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  second.stdout!.on('data', (d) => (out += d));
  second.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => second.once('exit', (code) => resolve(code)));
  try {
    const end = Date.now() + 15000;
    while (out.indexOf('Ctrl-C') < 0 && second.exitCode === null && Date.now() < end) await sleep(50);
    assert.ok(out.indexOf('Ctrl-C') >= 0, 'it started:\n' + out);
    const http = /dashboard  http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
    const mqttAt = /broker     mqtt:\/\/127\.0\.0\.1:(\d+)/.exec(out);
    assert.ok(http && mqttAt, out);
    assert.notEqual(Number(http[1]), taken[0], 'not the busy HTTP port:\n' + out);
    assert.notEqual(Number(mqttAt[1]), taken[1], 'not the busy MQTT port:\n' + out);
    assert.match(out, new RegExp('port ' + taken[0] + ' is busy.*HTTP_PORT'));
    assert.match(out, new RegExp('port ' + taken[1] + ' is busy.*MQTT_PORT'));
    const page = await fetch('http://127.0.0.1:' + http[1] + '/api/status');
    assert.equal(page.status, 200);
    assert.equal(((await page.json()) as any).deviceId, 'second');
  } finally {
    if (second.exitCode === null) second.kill('SIGINT');
    await exited;
    for (const s of squatters) s.close();
  }
});

test('Ctrl-C stops it cleanly: exit code 0, promptly, both ports free again', { timeout: 10000 }, async () => {
  // The last test in this file (a file's tests run in order).
  const exited = new Promise<number | null>((resolve) => app.once('exit', (code) => resolve(code)));
  const t0 = Date.now();
  app.kill('SIGINT');
  assert.equal(await exited, 0);
  assert.ok(Date.now() - t0 < 3000, 'stopped in ' + (Date.now() - t0) + ' ms');
  for (const port of [httpPort, mqttPort]) {
    await new Promise<void>((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => s.close(() => resolve()));
    });
  }
});
