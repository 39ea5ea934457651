/**
 * A fleet of simulated devices in one process, against a real MQTT broker.
 *
 * Every device has its own Manager (its own pools and memory budget) on a
 * FaultyDriver over the Node driver, so Wi-Fi drops, latency and resets hit
 * real sockets. A monitor subscribes to every device's readings and measures
 * what arrived: delivered, duplicates, lost, and publish-to-delivery latency.
 */
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { Manager } from '../core/manager.js';
import type { PoolSpec } from '../core/manager.js';
import { FaultyDriver } from '../drivers/faulty.js';
import { NodeDriver } from '../drivers/node.js';
import { mqttConnect } from '../protocols/mqtt/client.js';
import { MqttEv } from '../protocols/mqtt/events.js';
import { utf8Decode } from '../protocols/utf8.js';
import type { FleetApp, FleetDevice } from './fleet-app.js';
import { freePort, startMosquitto } from './mosquitto.js';

export interface WifiDrops {
  /** Every `everyS` seconds, `fraction` of the devices lose Wi-Fi for `forS` seconds. */
  everyS: number;
  forS: number;
  fraction: number;
}

export interface FleetOptions {
  devices: number;
  /** mqtt://host:port, or "mosquitto" / "embedded" to start one here. */
  broker: string;
  durationS: number;
  periodMs: number;
  /** Devices started per second. */
  rampPerS: number;
  /** Seconds allowed after sampling stops for outboxes to drain. */
  drainS: number;
  wifiDrops?: WifiDrops;
  latencyMs?: number;
  /** Chance an inbound segment is lost (it arrives a retransmission timeout late). */
  lossRate?: number;
  /** Fraction of devices whose connections are reset each minute. */
  resetsPerMin?: number;
  /** Restart the broker every this many seconds (only a broker started here). */
  brokerRestartS?: number;
  /** Each device's connection pool and outbox. */
  pools: { [name: string]: PoolSpec };
  outboxBytes: number;
  outboxCount: number;
  seed: number;
  /** Called about once a second with a one-line summary. */
  progress?: (line: string) => void;
  /** Called at once with what goes wrong reaching the broker (each failed try while waiting for it, a lost monitor connection). */
  log?: (line: string) => void;
  /** How long to keep trying the broker before giving up (default 30 s). */
  brokerWaitS?: number;
}

export interface FleetReport {
  devices: number;
  published: number;
  delivered: number;
  duplicates: number;
  lost: number;
  dropped: number;
  queuedAtEnd: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  reconnects: number;
  brokerRestarts: number;
  wifiDrops: number;
  elapsedS: number;
}

/** A broker this process starts (and can restart). */
interface LocalBroker {
  url: string;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** mosquitto with persistence, so sessions and queued QoS 1 messages survive a restart. */
async function startLocalMosquitto(): Promise<LocalBroker> {
  const m = await startMosquitto({ persistence: true, extra: ['max_inflight_messages 0', 'set_tcp_nodelay true'] });
  return {
    url: m.url,
    restart: async () => {
      await m.stop('SIGTERM'); // mosquitto saves its persistence file on a clean exit
      await m.restart();
    },
    stop: () => m.dispose(),
  };
}

/** aedes in this process: no broker to install; a restart loses its in-memory sessions. */
async function startAedes(): Promise<LocalBroker> {
  const { Aedes } = (await importAedes()) as any;
  const port = await freePort();
  let broker: any = null;
  let server: net.Server | null = null;
  const launch = async () => {
    broker = await Aedes.createBroker();
    server = net.createServer(broker.handle);
    await new Promise<void>((resolve) => (server as net.Server).listen(port, '127.0.0.1', () => resolve()));
  };
  const halt = () =>
    new Promise<void>((resolve) => {
      if (!server) return resolve();
      server.close();
      broker.close(() => resolve());
    });
  await launch();
  return { url: 'mqtt://127.0.0.1:' + port, restart: async () => (await halt(), await launch()), stop: halt };
}

/**
 * aedes is an optional peer dependency of the package (only this embedded
 * broker uses it), so an installed ringnet may lack it: say what to do.
 */
async function importAedes(): Promise<unknown> {
  try {
    return await import('aedes');
  } catch (e) {
    if (e && (e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && /aedes/.test(String((e as Error).message))) {
      throw new Error('the embedded broker needs the aedes package: run `npm install aedes` in your project, or use --broker mosquitto or --broker mqtt://host:port');
    }
    throw e;
  }
}

/** ErrorCode names, by number, for messages. */
const ERROR_NAMES = ['ok', 'refused', 'timed out', 'reset', 'unreachable', 'handler threw', 'protocol error', 'too big', 'socket error'];

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Per-device record of which sequence numbers arrived. */
class Seen {
  bits = new Uint8Array(256);
  unique = 0;
  duplicates = 0;

  add(seq: number): void {
    while (seq >= this.bits.length * 8) {
      const bigger = new Uint8Array(this.bits.length * 2);
      bigger.set(this.bits);
      this.bits = bigger;
    }
    const mask = 1 << (seq & 7);
    if (this.bits[seq >> 3] & mask) this.duplicates++;
    else {
      this.bits[seq >> 3] |= mask;
      this.unique++;
    }
  }
}

export async function runFleet(app: FleetApp, o: FleetOptions): Promise<FleetReport> {
  const started = performance.now();
  const wallClock = () => performance.timeOrigin + performance.now();
  let local: LocalBroker | null = null;
  let url = o.broker;
  if (o.broker === 'mosquitto') local = await startLocalMosquitto();
  else if (o.broker === 'embedded') local = await startAedes();
  if (local) url = local.url;

  // The monitor: one client that sees every reading.
  const seen = new Map<string, Seen>();
  const latencies: number[] = [];
  let subscribed = false;
  let received = 0;
  const monitorMgr = new Manager(new NodeDriver(), { pools: { default: { conns: 2, recvBytes: 65536, sendBytes: 16384 } } });
  monitorMgr.run();
  const log = o.log || (() => {});
  const waitFrom = performance.now();
  const waitS = o.brokerWaitS || 30;
  let lastError = '';
  let loggedAt = -Infinity;
  let restarting = false;
  const monitor = mqttConnect(monitorMgr, url, (m, ev, data) => {
    if (ev === MqttEv.SUBACK) subscribed = true;
    if (ev === MqttEv.ERROR) {
      // The monitor retries about every second: print a new error at once, a repeated one every 5 s.
      const error = data.message + ' (' + (ERROR_NAMES[data.code] || 'error ' + data.code) + ')';
      const now = performance.now();
      if (!restarting && (error !== lastError || now - loggedAt >= 5000)) {
        loggedAt = now;
        log('broker ' + url + ': ' + error + (subscribed ? '' : '; still trying (' + Math.round((now - waitFrom) / 1000) + ' s of ' + waitS + ')'));
      }
      lastError = error;
    }
    if (ev !== MqttEv.MESSAGE) return;
    const now = wallClock();
    const r = app.parse(data.topic, utf8Decode(data.payload) || '');
    if (!r) return;
    received++;
    let s = seen.get(r.device);
    if (!s) seen.set(r.device, (s = new Seen()));
    const before = s.duplicates;
    s.add(r.seq);
    if (s.duplicates === before) latencies.push(now - r.t);
  }, { clientId: 'ringnet-fleet-monitor', clean: false, keepalive: 30, reconnectMinMs: 100, reconnectMaxMs: 1000 });
  monitor.subscribe(app.subscribe, 1);
  let waited = 0;
  while (!subscribed) {
    if (performance.now() - waitFrom > waitS * 1000) {
      monitor.close();
      monitorMgr.shutdown();
      if (local) await local.stop();
      throw new Error('no MQTT broker at ' + url + ' after ' + waitS + ' s: ' + (lastError || 'no answer'));
    }
    if (++waited % 200 === 0 && !lastError) log('waiting for the broker at ' + url + ' …'); // no error, no answer either: say so every 2 s
    await new Promise((r) => setTimeout(r, 10));
  }

  // The fleet, started at the ramp rate so connects do not arrive as one burst.
  const devices: { mgr: Manager; driver: FaultyDriver; app: FleetDevice; down: boolean }[] = [];
  let wifiDrops = 0;
  let brokerRestarts = 0;
  let rng = o.seed >>> 0 || 1;
  const random = () => {
    rng = (rng * 1664525 + 1013904223) >>> 0;
    return rng / 4294967296;
  };
  const makeDevice = (i: number) => {
    const driver = new FaultyDriver(new NodeDriver());
    if (o.latencyMs) driver.latencyMs = o.latencyMs;
    if (o.lossRate) {
      driver.lossRate = o.lossRate;
      driver.random = random;
    }
    const mgr = new Manager(driver, { pools: o.pools, pollMs: 1000 });
    mgr.run();
    const dev = app.start(mgr, {
      id: 'dev' + String(i).padStart(5, '0'),
      broker: url,
      seed: o.seed + i,
      wallClock,
      periodMs: o.periodMs,
      mqtt: { outboxBytes: o.outboxBytes, outboxCount: o.outboxCount, keepalive: 30, reconnectMinMs: 500, reconnectMaxMs: 5000, random },
    });
    devices.push({ mgr, driver, app: dev, down: false });
  };
  const rampGap = 1000 / Math.max(1, o.rampPerS);
  for (let i = 0; i < o.devices; i++) {
    makeDevice(i);
    if (i % 10 === 9) await new Promise((r) => setTimeout(r, rampGap * 10));
  }

  const timers: NodeJS.Timeout[] = [];
  if (o.wifiDrops) {
    const w = o.wifiDrops;
    timers.push(
      setInterval(() => {
        for (const d of devices) {
          if (d.down || random() >= w.fraction) continue;
          d.down = true;
          wifiDrops++;
          d.driver.setLink(false);
          setTimeout(() => {
            d.down = false;
            d.driver.setLink(true);
          }, w.forS * 1000);
        }
      }, w.everyS * 1000),
    );
  }
  if (o.resetsPerMin) {
    const perTick = o.resetsPerMin / 60;
    timers.push(
      setInterval(() => {
        for (const d of devices) if (random() < perTick) d.driver.resetAll();
      }, 1000),
    );
  }
  if (o.brokerRestartS && local) {
    const broker = local;
    timers.push(
      setInterval(() => {
        if (restarting) return;
        restarting = true;
        brokerRestarts++;
        broker.restart().then(() => (restarting = false));
      }, o.brokerRestartS * 1000),
    );
  }

  let lastReceived = received;
  const sum = (f: (d: FleetDevice) => number) => devices.reduce((n, d) => n + f(d.app), 0);
  const line = (phase: string) => {
    const online = devices.filter((d) => d.app.online()).length;
    const rate = received - lastReceived;
    lastReceived = received;
    return phase + ' · online ' + online + '/' + devices.length + ' · ' + rate + ' msg/s · queued ' + sum((d) => d.queued()) + ' · dropped ' + sum((d) => d.dropped());
  };
  const tick = setInterval(() => o.progress && o.progress(line(restarting ? 'broker restarting' : 'running')), 1000);

  await new Promise((r) => setTimeout(r, o.durationS * 1000));
  for (const t of timers) clearInterval(t);
  for (const d of devices) {
    d.app.stopSampling();
    if (d.down) {
      d.down = false;
      d.driver.setLink(true);
    }
  }
  // Drain: wait until every publish is acknowledged and seen, or the time is up.
  const published = () => sum((d) => d.published());
  const drainEnd = Date.now() + o.drainS * 1000;
  const delivered = () => {
    let n = 0;
    for (const s of seen.values()) n += s.unique;
    return n;
  };
  while (Date.now() < drainEnd && (sum((d) => d.queued()) > 0 || delivered() + sum((d) => d.dropped()) < published())) {
    await new Promise((r) => setTimeout(r, 100));
  }
  clearInterval(tick);

  const sorted = Float64Array.from(latencies).sort();
  let duplicates = 0;
  for (const s of seen.values()) duplicates += s.duplicates;
  const report: FleetReport = {
    devices: devices.length,
    published: published(),
    delivered: delivered(),
    duplicates,
    lost: Math.max(0, published() - delivered() - sum((d) => d.dropped()) - sum((d) => d.queued())),
    dropped: sum((d) => d.dropped()),
    queuedAtEnd: sum((d) => d.queued()),
    latencyMs: { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted.length ? sorted[sorted.length - 1] : 0 },
    reconnects: sum((d) => d.reconnects()),
    brokerRestarts,
    wifiDrops,
    elapsedS: (performance.now() - started) / 1000,
  };
  for (const d of devices) {
    d.app.stop();
  }
  await new Promise((r) => setTimeout(r, 200));
  for (const d of devices) d.mgr.shutdown();
  monitor.close();
  monitorMgr.shutdown();
  if (local) await local.stop();
  return report;
}
