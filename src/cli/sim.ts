/**
 * `ringnet sim <app> --devices N --broker mqtt://host:port [faults]`: a fleet
 * of simulated devices running the app against a broker, with a live
 * progress line and a final report.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { FleetApp } from './fleet-app.js';
import { runFleet } from './fleet.js';
import type { FleetOptions, FleetReport } from './fleet.js';

const HELP = `usage: ringnet sim <app> [options]
  <app>                   an app folder with a fleet entry (examples/telemetry)
  --devices N             simulated devices (default 10)
  --broker URL            mqtt://host:port, or mosquitto / embedded to start one here
                          (default: mosquitto when installed, else embedded)
  --duration S            seconds of sampling (default 30)
  --period MS             sample period per device (default 1000)
  --ramp N                devices started per second (default 400)
  --drain S               seconds allowed for outboxes to drain at the end (default 20)
  --wifi-drops E:F:P      every E s (0 < E < --duration), a fraction P of devices lose Wi-Fi for F s
  --latency MS            inbound latency on every device
  --loss P                chance an inbound segment is lost (arrives 200 ms late, as TCP retransmits)
  --resets P              fraction of devices reset per minute
  --broker-restart S      restart the broker every S s (a broker started here; S below --duration)
  --board esp32|esp8266   each device's pools and outbox (default esp32)
  --seed N                sensor and fault seed (default 1)
  --json                  print the report as JSON`;

/** Per-device memory: the board's connection pools and outbox. */
const BOARDS: { [name: string]: Pick<FleetOptions, 'pools' | 'outboxBytes' | 'outboxCount'> } = {
  esp32: { pools: { default: { conns: 2, recvBytes: 2048, sendBytes: 2048 } }, outboxBytes: 8192, outboxCount: 128 },
  esp8266: { pools: { default: { conns: 2, recvBytes: 1024, sendBytes: 1024 } }, outboxBytes: 2048, outboxCount: 32 },
};

function number(args: string[], i: number, name: string): number {
  const v = Number(args[i + 1]);
  if (!isFinite(v) || v < 0) throw new Error(name + ' needs a number, got "' + args[i + 1] + '"');
  return v;
}

export function parseSimArgs(args: string[]): { app: string; options: FleetOptions; json: boolean } {
  let app = '';
  let json = false;
  let board = 'esp32';
  const o: FleetOptions = {
    devices: 10,
    broker: existsSync('/usr/sbin/mosquitto') ? 'mosquitto' : 'embedded',
    durationS: 30,
    periodMs: 1000,
    rampPerS: 400,
    drainS: 20,
    seed: 1,
    ...BOARDS.esp32,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    switch (a) {
      case '--devices': o.devices = number(args, i++, a); break;
      case '--broker': o.broker = args[++i]; break;
      case '--duration': o.durationS = number(args, i++, a); break;
      case '--period': o.periodMs = number(args, i++, a); break;
      case '--ramp': o.rampPerS = number(args, i++, a); break;
      case '--drain': o.drainS = number(args, i++, a); break;
      case '--latency': o.latencyMs = number(args, i++, a); break;
      case '--loss': o.lossRate = number(args, i++, a); break;
      case '--resets': o.resetsPerMin = number(args, i++, a); break;
      case '--broker-restart': o.brokerRestartS = number(args, i++, a); break;
      case '--seed': o.seed = number(args, i++, a); break;
      case '--board': board = args[++i]; break;
      case '--json': json = true; break;
      case '--wifi-drops': {
        const parts = (args[++i] || '').split(':').map(Number);
        if (parts.length !== 3 || parts.some((p) => !isFinite(p) || p < 0)) throw new Error('--wifi-drops takes EVERY_S:FOR_S:FRACTION, e.g. 30:5:0.1');
        o.wifiDrops = { everyS: parts[0], forS: parts[1], fraction: parts[2] };
        break;
      }
      default:
        if (a.startsWith('--')) throw new Error('unknown option ' + a + '\n' + HELP);
        if (app) throw new Error('one app at a time\n' + HELP);
        app = a;
    }
  }
  if (!app) throw new Error(HELP);
  if (!BOARDS[board]) throw new Error('--board is esp32 or esp8266');
  // A fault that would never happen is refused, not run without it.
  const r = o.brokerRestartS;
  if (r && o.broker !== 'mosquitto' && o.broker !== 'embedded') throw new Error('--broker-restart restarts a broker this command starts (--broker mosquitto or embedded), not ' + o.broker);
  if (r && r >= o.durationS) throw new Error('--broker-restart ' + r + ' is not within the run (--duration ' + o.durationS + '): no restart would happen; give a --duration above ' + r);
  const w = o.wifiDrops;
  if (w && !(w.everyS > 0 && w.everyS < o.durationS)) throw new Error('--wifi-drops every ' + w.everyS + ' s needs 0 < every < --duration ' + o.durationS + ': no drop would happen otherwise; give a --duration above ' + w.everyS);
  Object.assign(o, BOARDS[board]);
  return { app, options: o, json };
}

/** Finds an app's compiled fleet entry: a .js file, or <folder>/fleet.js under build/. */
async function loadApp(spec: string): Promise<FleetApp> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..'); // build/
  const candidates = spec.endsWith('.js')
    ? [resolve(spec)]
    : [join(root, spec.replace(/^\.\//, ''), 'fleet.js'), join(isAbsolute(spec) ? spec : resolve(spec), 'fleet.js')];
  for (const file of candidates) {
    if (!existsSync(file)) continue;
    const mod = await import(pathToFileURL(file).href);
    if (mod.fleetApp) return mod.fleetApp as FleetApp;
  }
  throw new Error('no fleet entry for "' + spec + '" (looked for ' + candidates.join(', ') + ')');
}

export function formatReport(r: FleetReport): string {
  const l = r.latencyMs;
  return [
    'devices     ' + r.devices + '   (' + r.elapsedS.toFixed(1) + ' s, ' + r.wifiDrops + ' Wi-Fi drops, ' + r.brokerRestarts + ' broker restarts, ' + r.reconnects + ' reconnects)',
    'published   ' + r.published,
    'delivered   ' + r.delivered,
    'duplicates  ' + r.duplicates,
    'dropped     ' + r.dropped + '   (outbox full, counted on the device)',
    'lost        ' + r.lost + (r.queuedAtEnd ? '   (' + r.queuedAtEnd + ' still queued at the end)' : ''),
    'latency ms  p50 ' + l.p50.toFixed(1) + '  p90 ' + l.p90.toFixed(1) + '  p99 ' + l.p99.toFixed(1) + '  max ' + l.max.toFixed(1),
  ].join('\n');
}

export async function sim(args: string[]): Promise<number> {
  if (args.indexOf('--help') >= 0 || args.indexOf('-h') >= 0) {
    console.log(HELP);
    return 0;
  }
  const { app, options, json } = parseSimArgs(args);
  const fleetApp = await loadApp(app);
  const tty = process.stdout.isTTY;
  let n = 0;
  options.progress = (line) => {
    if (json) return;
    if (tty) process.stdout.write('\r\x1b[K' + line);
    else if (n++ % 5 === 0) console.log(line);
  };
  // Connection errors and waits, at once and on their own line (stderr, so --json output stays parseable).
  options.log = (line) => {
    if (tty && !json) process.stdout.write('\r\x1b[K');
    console.error(line);
  };
  const report = await runFleet(fleetApp, options);
  if (tty && !json) process.stdout.write('\n');
  console.log(json ? JSON.stringify(report) : formatReport(report));
  return report.lost === 0 ? 0 : 1;
}
