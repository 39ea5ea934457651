/**
 * `ringnet sim`: a fleet of telemetry devices against a real mosquitto that
 * restarts, with Wi-Fi drops and resets; the report must account for every
 * reading. Small here (the 2,000-device run is a measurement, not a test).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runFleet } from '../src/cli/fleet.js';
import { formatReport, parseSimArgs } from '../src/cli/sim.js';
import { fleetApp } from '../examples/telemetry/fleet.js';
import { freePort, sleep } from './support/wait.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('the command line is parsed into fleet options, and bad options are refused', () => {
  const { app, options } = parseSimArgs(['examples/telemetry', '--devices', '50', '--broker', 'mqtt://127.0.0.1:1883', '--duration', '60', '--wifi-drops', '30:5:0.1', '--board', 'esp8266', '--loss', '0.02']);
  assert.equal(options.lossRate, 0.02);
  assert.equal(app, 'examples/telemetry');
  assert.equal(options.devices, 50);
  assert.equal(options.broker, 'mqtt://127.0.0.1:1883');
  assert.deepEqual(options.wifiDrops, { everyS: 30, forS: 5, fraction: 0.1 });
  assert.equal(options.pools.default.recvBytes, 1024);
  assert.throws(() => parseSimArgs(['examples/telemetry', '--wifi-drops', '30:5']), /EVERY_S:FOR_S:FRACTION/);
  assert.throws(() => parseSimArgs(['examples/telemetry', '--devices', 'many']), /--devices needs a number/);
  assert.throws(() => parseSimArgs(['--devices', '3']), /usage/);
});

test('a fault timed past the end of the run, or one that cannot happen, is refused with what to change', () => {
  assert.throws(() => parseSimArgs(['examples/telemetry', '--broker-restart', '45']), /--broker-restart 45 .*--duration 30.*no restart would happen/);
  assert.throws(() => parseSimArgs(['examples/telemetry', '--duration', '40', '--broker-restart', '40']), /--broker-restart 40/);
  assert.equal(parseSimArgs(['examples/telemetry', '--duration', '120', '--broker-restart', '45']).options.brokerRestartS, 45);
  assert.equal(parseSimArgs(['examples/telemetry', '--broker-restart', '45', '--duration', '120']).options.brokerRestartS, 45, 'in either order');
  assert.throws(() => parseSimArgs(['examples/telemetry', '--broker', 'mqtt://127.0.0.1:1883', '--broker-restart', '10']), /--broker-restart .*a broker this command starts/);
  assert.throws(() => parseSimArgs(['examples/telemetry', '--wifi-drops', '30:5:0.1']), /--wifi-drops every 30 s .*--duration 30/);
  assert.throws(() => parseSimArgs(['examples/telemetry', '--wifi-drops', '0:5:0.1']), /--wifi-drops/);
});

test('every `ringnet sim` example in the README parses, and its faults happen within its duration', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const lines = readme.split('\n').filter((l) => l.indexOf('npx ringnet sim ') === 0);
  assert.ok(lines.length >= 2, 'the README shows the command');
  for (const l of lines) {
    const { options } = parseSimArgs(l.substring('npx ringnet sim '.length).trim().split(/\s+/));
    if (options.brokerRestartS) assert.ok(options.brokerRestartS < options.durationS, l + ': restarts every ' + options.brokerRestartS + ' s in a ' + options.durationS + ' s run');
    if (options.wifiDrops) assert.ok(options.wifiDrops.everyS < options.durationS, l);
  }
});

test('against a broker that is not there, ringnet sim says so at once and keeps saying it while it retries', { timeout: 20000 }, async () => {
  const port = await freePort(); // nothing listens there
  const child = spawn(process.execPath, [join(root, 'bin', 'ringnet.js'), 'sim', 'examples/telemetry', '--devices', '2', '--duration', '2', '--broker', 'mqtt://127.0.0.1:' + port], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise((r) => child.once('exit', r));
  try {
    const end = Date.now() + 10000; // a repeated error is printed every 5 s
    while (Date.now() < end && (out.match(/refused/g) || []).length < 2) await sleep(50);
    assert.match(out, new RegExp('mqtt://127\\.0\\.0\\.1:' + port + '.*refused'), 'names the broker and the error:\n' + out);
    assert.ok((out.match(/refused/g) || []).length >= 2, 'and goes on reporting each try:\n' + out);
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  }
});

test('runFleet gives up on a broker it cannot reach, with the broker and the last error in the message', { timeout: 15000 }, async () => {
  const port = await freePort();
  const logged: string[] = [];
  await assert.rejects(
    runFleet(fleetApp, {
      devices: 1,
      broker: 'mqtt://127.0.0.1:' + port,
      durationS: 1,
      periodMs: 1000,
      rampPerS: 10,
      drainS: 1,
      pools: { default: { conns: 2, recvBytes: 2048, sendBytes: 2048 } },
      outboxBytes: 8192,
      outboxCount: 128,
      seed: 1,
      brokerWaitS: 2,
      log: (l) => logged.push(l),
    }),
    new RegExp('no MQTT broker at mqtt://127\\.0\\.0\\.1:' + port + ' after 2 s.*refused'),
  );
  assert.ok(logged.length >= 1 && logged[0].indexOf('refused') > 0, logged.join('\n'));
});

test('a fleet through Wi-Fi drops, loss, latency, resets and a mosquitto restart: every reading delivered', async () => {
  const lines: string[] = [];
  const report = await runFleet(fleetApp, {
    devices: 40,
    broker: 'mosquitto',
    durationS: 8,
    periodMs: 250,
    rampPerS: 200,
    drainS: 25,
    wifiDrops: { everyS: 2, forS: 1, fraction: 0.2 },
    resetsPerMin: 3,
    lossRate: 0.05,
    latencyMs: 5,
    brokerRestartS: 4,
    pools: { default: { conns: 2, recvBytes: 2048, sendBytes: 2048 } },
    outboxBytes: 8192,
    outboxCount: 128,
    seed: 7,
    progress: (l) => lines.push(l),
  });
  const text = formatReport(report);
  assert.ok(report.published > 40 * 20, text);
  assert.ok(report.wifiDrops > 0 && report.brokerRestarts >= 1 && report.reconnects > 0, 'the faults happened:\n' + text);
  assert.equal(report.lost, 0, text);
  assert.equal(report.dropped, 0, text);
  assert.equal(report.delivered, report.published, text);
  assert.ok(lines.length >= 5 && /online \d+\/40/.test(lines[0]), 'a progress line each second');
});

test('npx ringnet sim runs from the command line and prints the report', () => {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'ringnet.js'), 'sim', 'examples/telemetry', '--devices', '5', '--duration', '2', '--drain', '5', '--json'], { encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  const report = JSON.parse(r.stdout.trim().split('\n').pop() as string);
  assert.equal(report.devices, 5);
  assert.equal(report.lost, 0);
  assert.ok(report.delivered >= 5);
});
