/**
 * MQTT publish throughput through one local mosquitto: ringnet's client on
 * Node against MQTT.js, in the same run, QoS 0 and QoS 1.
 *
 * Throughput is counted where the messages arrive: a subscriber in a child
 * process (a minimal raw-socket reader, the same for both clients, so it is
 * never the slower side) reports when the last one came. Both publishers
 * keep at most WINDOW messages unconfirmed (ringnet: queued + in flight;
 * MQTT.js: publish callbacks not yet called; ringnet's in-flight window is
 * as large, as MQTT.js has none of its own). The subscriber takes delivery
 * at QoS 0, so the QoS 1 exchange measured is the publisher's with the broker.
 *
 * Each line also gives the publisher process's CPU time per message: when the
 * broker is the bottleneck (it usually is for QoS 0 on two cores) both reach
 * about the same rate, and the CPU left over is where the difference shows.
 *
 * Also prints the minified size of the core + MQTT client bundle, built as
 * for the ESP8266 (ES5, terser with function/var hoisting).
 *
 *   node build/bench/mqtt.bench.js
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { EventEmitter } from 'node:events';
import mqtt from 'mqtt';
import { Manager } from '../src/core/manager.js';
import { Ring } from '../src/core/ring.js';
import { NodeDriver } from '../src/drivers/node.js';
import { encode, PacketType } from '../src/protocols/mqtt/codec.js';
import { mqttConnect, MqttEv } from '../src/protocols/mqtt/index.js';
import type { QoS } from '../src/protocols/mqtt/index.js';
import { startMosquitto } from '../src/cli/mosquitto.js';

const TOPIC = 'bench/t';
const PAYLOAD_BYTES = 64;
const WINDOW = 1000;
const COUNT: { [qos: number]: number } = { 0: 150000, 1: 50000 };
const ROUNDS = 2; // best of each; MQTT_BENCH_DEBUG=1 prints every run

// ------------------------------------------------------------------ subscriber (child process)

/** Connects, subscribes at QoS 0 and counts PUBLISH packets by their fixed headers; tells the parent at `target`. */
function subscriber(port: number): void {
  const sock = net.connect(port, '127.0.0.1');
  sock.setNoDelay(true);
  const packet = (p: Parameters<typeof encode>[0]) => {
    const r = new Ring(encode(p, null));
    encode(p, r);
    return Buffer.from(r.bytes);
  };
  sock.write(packet({ type: PacketType.CONNECT, clientId: 'bench-sink', clean: true, keepalive: 0, will: null, username: null, password: null }));
  sock.write(packet({ type: PacketType.SUBSCRIBE, id: 1, topics: [TOPIC], qos: [0] }));
  let count = 0;
  let target = -1;
  let skip = 0;
  let type = 0;
  const head: number[] = [];
  sock.on('data', (chunk: Buffer) => {
    let i = 0;
    while (i < chunk.length) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - i);
        i += n;
        skip -= n;
        if (skip === 0 && type === PacketType.PUBLISH) count++;
        continue;
      }
      head.push(chunk[i++]);
      if (head.length < 2 || head[head.length - 1] & 128) continue;
      type = head[0] >> 4;
      let rl = 0;
      for (let k = head.length - 1; k >= 1; k--) rl = rl * 128 + (head[k] & 127);
      head.length = 0;
      skip = rl;
      if (type === PacketType.SUBACK) process.send!({ ready: true });
      if (rl === 0 && type === PacketType.PUBLISH) count++;
    }
    if (target > 0 && count >= target) {
      process.send!({ done: count });
      target = -1;
    }
  });
  process.on('message', (m: { expect: number }) => {
    count = 0;
    target = m.expect;
  });
}

// ------------------------------------------------------------------ publishers

function waitMessage(child: ChildProcess, key: string): Promise<void> {
  return new Promise((res) => {
    const on = (m: Record<string, unknown>) => {
      if (m[key] !== undefined) {
        child.off('message', on);
        res();
      }
    };
    child.on('message', on);
  });
}

async function runRingnet(url: string, sink: ChildProcess, qos: QoS, n: number): Promise<number> {
  const ringBytes = Number(process.env.MQTT_BENCH_RING || 16384); // a usual Node ring size; larger rings gained nothing end to end
  const mgr = new Manager(new NodeDriver(), { pools: { default: { conns: 1, recvBytes: ringBytes, sendBytes: ringBytes } } });
  let open = false;
  const m = mqttConnect(mgr, url, (_m, ev, _data) => {
    if (ev === MqttEv.CONNACK) open = true;
  }, { clientId: 'bench-ringnet', outboxBytes: 1 << 20, outboxCount: WINDOW + 100, maxInflight: WINDOW });
  mgr.run();
  while (!open) await new Promise((r) => setTimeout(r, 5));
  const payload = new Uint8Array(PAYLOAD_BYTES).fill(97);
  const done = waitMessage(sink, 'done');
  sink.send({ expect: n });
  let sent = 0;
  const start = performance.now();
  await new Promise<void>((res) => {
    const pump = () => {
      const s = m.stats();
      let room = WINDOW - s.queued - s.inFlight;
      const more = room > 0;
      while (room-- > 0 && sent < n) {
        if (m.publish(TOPIC, payload, qos) < 0) throw new Error('publish refused');
        sent++;
      }
      if (sent >= n) res();
      else if (more) setImmediate(pump);
      else setTimeout(pump, 1); // the window is full: wait without spinning (same pacing for both clients)
    };
    pump();
  });
  await done;
  const ms = performance.now() - start;
  m.close();
  await new Promise((r) => setTimeout(r, 50));
  mgr.shutdown();
  return ms;
}

async function runMqttJs(url: string, sink: ChildProcess, qos: QoS, n: number): Promise<number> {
  const c = mqtt.connect(url, { protocolVersion: 4, clientId: 'bench-mqttjs', reconnectPeriod: 0 });
  await new Promise<void>((res, rej) => {
    c.once('connect', () => res());
    c.once('error', rej);
  });
  const payload = Buffer.alloc(PAYLOAD_BYTES, 97);
  const done = waitMessage(sink, 'done');
  sink.send({ expect: n });
  let sent = 0;
  let confirmed = 0;
  const confirm = () => {
    confirmed++;
  };
  const start = performance.now();
  await new Promise<void>((res) => {
    const pump = () => {
      const more = sent - confirmed < WINDOW;
      while (sent - confirmed < WINDOW && sent < n) {
        c.publish(TOPIC, payload, { qos }, confirm);
        sent++;
      }
      if (sent >= n) res();
      else if (more) setImmediate(pump);
      else setTimeout(pump, 1); // the window is full: wait without spinning (same pacing for both clients)
    };
    pump();
  });
  await done;
  const ms = performance.now() - start;
  await c.endAsync();
  return ms;
}

// ------------------------------------------------------------------ bundle size

async function bundleSize(): Promise<{ core: number; mqtt: number } | null> {
  try {
    const { rollup } = await import('rollup');
    type PluginFactory = (options: object) => import('rollup').Plugin;
    const typescript = (await import('@rollup/plugin-typescript')).default as unknown as PluginFactory;
    const terser = (await import('@rollup/plugin-terser')).default as unknown as PluginFactory;
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
    const tmp = join(root, '.tmp', 'mqtt-size');
    mkdirSync(tmp, { recursive: true });
    const entries = {
      core: "export { Manager } from '../../src/core/manager.js';\n",
      mqtt: "export { Manager } from '../../src/core/manager.js';\nexport { mqttConnect } from '../../src/protocols/mqtt/client.js';\n",
    };
    const out: { [k: string]: number } = {};
    for (const name of Object.keys(entries) as (keyof typeof entries)[]) {
      const input = join(tmp, name + '.ts');
      writeFileSync(input, entries[name]);
      const b = await rollup({
        input,
        onwarn: () => {},
        plugins: [
          typescript({ tsconfig: false, compilerOptions: { target: 'ES5', module: 'ESNext', lib: ['ES5'], types: [], strict: true, importHelpers: false }, include: [join(root, 'src/**/*.ts'), join(tmp, '*.ts')] }),
          terser({ compress: { hoist_funs: true, hoist_vars: true, passes: 2 }, ecma: 5 as const }),
        ],
      });
      const gen = await b.generate({ format: 'cjs' });
      out[name] = gen.output[0].code.length;
      await b.close();
    }
    return { core: out.core, mqtt: out.mqtt };
  } catch (e) {
    console.log('bundle size: not measured (' + (e as Error).message + ')');
    return null;
  }
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  EventEmitter.defaultMaxListeners = 0; // MQTT.js adds a 'drain' listener per publish written while its socket is busy
  const size = await bundleSize();
  if (size) {
    console.log(
      'bundle (ES5, minified, like esp8266): core ' + size.core + ' B, core + MQTT client ' + size.mqtt + ' B (MQTT adds ' + (size.mqtt - size.core) + ' B)',
    );
  }
  const broker = await startMosquitto();
  const sink = fork(fileURLToPath(import.meta.url), ['--subscriber', String(broker.port)], { stdio: 'inherit' });
  try {
    await waitMessage(sink, 'ready');
    const rows: string[] = [];
    for (const qos of [0, 1] as QoS[]) {
      const n = COUNT[qos];
      // Warm both up (JIT), then alternate so load changes hit both alike; keep each side's best.
      await runRingnet(broker.url, sink, qos, 5000);
      await runMqttJs(broker.url, sink, qos, 5000);
      const best = { ringnet: Infinity, mqttjs: Infinity };
      const cpuMs = { ringnet: 0, mqttjs: 0 };
      for (let r = 0; r < ROUNDS; r++) {
        // Alternate who goes first, so a change in the machine's load does not always favour one side.
        const order = r % 2 === 0 ? ['ringnet', 'mqttjs'] : ['mqttjs', 'ringnet'];
        for (const who of order) {
          const cpu = process.cpuUsage();
          const ms = who === 'ringnet' ? await runRingnet(broker.url, sink, qos, n) : await runMqttJs(broker.url, sink, qos, n);
          const used = process.cpuUsage(cpu);
          if (process.env.MQTT_BENCH_DEBUG) console.log('  round ' + r + ' ' + who + ': ' + Math.round(ms) + ' ms, publisher cpu ' + Math.round((used.user + used.system) / 1000) + ' ms');
          if (who === 'ringnet') best.ringnet = Math.min(best.ringnet, ms);
          else best.mqttjs = Math.min(best.mqttjs, ms);
          cpuMs[who as 'ringnet' | 'mqttjs'] += (used.user + used.system) / 1000;
        }
      }
      const a = (n / best.ringnet) * 1000;
      const b = (n / best.mqttjs) * 1000;
      const perMsg = (ms: number) => ((ms * 1000) / (n * ROUNDS)).toFixed(1);
      rows.push(
        'QoS ' + qos + ': ringnet ' + Math.round(a) + ' msg/s, MQTT.js ' + Math.round(b) + ' msg/s, ratio ' + (a / b).toFixed(2) + '× (' + n + ' × ' + PAYLOAD_BYTES + ' B, best of ' + ROUNDS + ')' +
          '; publisher CPU ' + perMsg(cpuMs.ringnet) + ' vs ' + perMsg(cpuMs.mqttjs) + ' µs/msg',
      );
      console.log(rows[rows.length - 1]);
    }
  } finally {
    sink.kill();
    await broker.dispose();
  }
}

if (process.argv[2] === '--subscriber') {
  subscriber(Number(process.argv[3]));
} else {
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
