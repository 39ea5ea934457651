/**
 * `ringnet flash --board esp32 [--port /dev/ttyUSB0 | --host 192.168.1.50] [--app telemetry | entry.ts]`:
 * builds the app for the board, then uploads it and saves it to flash as the
 * `.bootcde` Storage file (it runs from flash at every boot, costing little
 * RAM): over a serial port with the `espruino` CLI (`SAVE_ON_SEND=1`), or
 * over the network through the board's telnet console (src/cli/telnet.ts).
 * Wi-Fi credentials go to Storage from a git-ignored local file, never from
 * source.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join, relative, resolve } from 'node:path';
import { boards } from '../../boards/index.js';
import type { BoardProfile } from '../../boards/profile.js';
import { buildAll, num } from './build.js';
import { ROOT, deviceApps, deviceTargets } from './bundle.js';
import { parseWithPositionals, readWifiFile, settings, settingsHelp } from './options.js';
import { parseHost, telnetFlash } from './telnet.js';

/** The git-ignored file `flash` reads Wi-Fi credentials from by default: {"ssid": "…", "password": "…"}. */
export const WIFI_LOCAL_FILE = 'wifi.local.json';

export interface FlashPlan {
  board: BoardProfile;
  port: string;
  app: string;
  /** The bundle, relative to the current directory. */
  bundle: string;
  baud?: number;
  /** Local credentials file to copy into Storage as `board.wifiFile`; null: none. */
  wifiFile?: string | null;
  /** Files for the board's Storage: the name there and the local file. */
  files?: { name: string; path: string }[];
}

/**
 * Writes every file of the `storage/` folder beside the app's device entry
 * (examples/<app>/storage/ by default) gzipped under
 * `dist/<board>/<app>-storage/` and returns them for upload: the app's web
 * pages live in Storage, and gzipped they cost a third of the flash.
 */
export function storageFiles(board: string, app: string, entry?: string): { name: string; path: string }[] {
  const from = join(dirname(entry || join(ROOT, 'examples', app, 'device.ts')), 'storage');
  if (!existsSync(from)) return [];
  const to = join('dist', board, app + '-storage');
  mkdirSync(to, { recursive: true });
  return readdirSync(from)
    .sort()
    .map((file) => {
      const path = join(to, file + '.gz');
      writeFileSync(path, gzipSync(readFileSync(join(from, file)), { level: 9 }));
      return { name: file + '.gz', path: path };
    });
}

/** The default app: telemetry once it has a device entry, else echo. */
export function defaultApp(): string {
  const apps = deviceApps();
  return apps.indexOf('telemetry') >= 0 ? 'telemetry' : 'echo';
}

/** The exact command (argv) that uploads `plan.bundle` and saves it to flash. */
export function flashCommand(plan: FlashPlan): string[] {
  const cmd = ['npx', 'espruino', '-p', plan.port, '-b', String(plan.baud || plan.board.baud), '--board', plan.board.espruinoBoard, '--config', 'SAVE_ON_SEND=1'];
  if (plan.wifiFile) cmd.push('--storage', plan.board.wifiFile + ':' + plan.wifiFile);
  const files = plan.files || [];
  for (let i = 0; i < files.length; i++) cmd.push('--storage', files[i].name + ':' + files[i].path);
  cmd.push(plan.bundle);
  return cmd;
}

/** The command as one shell line (arguments with shell characters quoted). */
export function shellLine(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : "'" + a.replace(/'/g, "'\\''") + "'")).join(' ');
}

/** Serial ports a board on USB shows up as (Linux, macOS). */
export function serialPorts(dev = '/dev'): string[] {
  if (!existsSync(dev)) return [];
  return readdirSync(dev)
    .filter((n) => /^(ttyUSB|ttyACM)\d+$|^cu\.(usbserial|SLAB_USBtoUART|usbmodem|wchusbserial)/.test(n))
    .sort()
    .map((n) => join(dev, n));
}

/** The serial port to use: the one named (it must exist), or the only one found. */
export function choosePort(given: string | undefined): string {
  if (given) {
    if (!existsSync(given)) throw new Error('serial port ' + given + ' does not exist (is the board plugged in? found: ' + (serialPorts().join(', ') || 'none') + ')');
    return given;
  }
  const found = serialPorts();
  if (found.length === 1) return found[0];
  if (!found.length) throw new Error('no serial port given (--port) and none found (/dev/ttyUSB*, /dev/ttyACM*, /dev/cu.usbserial*): plug the board in, or flash over the network with --host');
  throw new Error('several serial ports found (' + found.join(', ') + '): name one with --port');
}

export const HELP = `usage: ringnet flash --board ${Object.keys(boards).filter((b) => b !== 'host').join('|')} [entry.ts | --app A] [options]
  entry.ts                a device entry of your own (as for ringnet build); else --app
  --app A                 examples/<app>/device.ts of this package (default: telemetry, else echo)
  --port P                serial port (default: the only /dev/ttyUSB*, /dev/ttyACM* … found)
  --host IP[:PORT]        instead of a serial port: upload over the network through the board's
                          telnet console (port 23 by default), then reboot it into the new code
  --baud N                serial speed (default: the board's)
  --wifi FILE             Wi-Fi credentials {"ssid", "password"} for the board's Storage
                          (default over serial: ${WIFI_LOCAL_FILE} when it exists; over --host: only when named,
                          since telnet is not encrypted)
  --no-wifi               upload no credentials
  --set key=value         build settings, as for ringnet build. Known:
${settingsHelp()}
  --no-build              upload what dist/ has
  --dry-run               print what would run (the espruino command, or the telnet upload) and stop`;

export async function run(args: string[]): Promise<number> {
  const { values: o, positionals } = parseWithPositionals(args, {
    board: { type: 'string' },
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
    app: { type: 'string' },
    baud: { type: 'string', short: 'b' },
    wifi: { type: 'string' },
    'no-wifi': { type: 'boolean' },
    'no-build': { type: 'boolean' },
    set: { type: 'string', multiple: true },
    'dry-run': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (o.help) {
    console.log(HELP);
    return 0;
  }
  if (!o.board) throw new Error('--board is required (' + Object.keys(boards).filter((b) => b !== 'host').join(', ') + '); see ringnet flash --help');
  const board = boards[o.board as string];
  if (!board) throw new Error('unknown board "' + o.board + '" (known: ' + Object.keys(boards).join(', ') + ')');
  if (board.name === 'host') throw new Error('the host board runs on this machine: nothing to flash');
  if (positionals.length > 1) throw new Error('flash takes one device entry, got ' + positionals.length);
  if (positionals.length && o.app) throw new Error('name a device entry or --app, not both');
  if (o.host && o.port) throw new Error('--port or --host, not both');
  if (o.baud !== undefined && !/^\d+$/.test(o.baud as string)) throw new Error('--baud ' + o.baud + ': a number of bits per second');
  const buildSettings = settings(o.set);
  const what = positionals.length ? { entries: positionals } : { apps: [typeof o.app === 'string' ? o.app : defaultApp()] };
  const target = deviceTargets({ ...what, boards: [board.name] })[0];
  const app = target.app;
  const over = typeof o.host === 'string' ? parseHost(o.host) : null;
  let wifiFile: string | null = null;
  if (typeof o.wifi === 'string') {
    readWifiFile(o.wifi);
    wifiFile = o.wifi;
  } else if (!o['no-wifi'] && !over && existsSync(WIFI_LOCAL_FILE)) {
    readWifiFile(WIFI_LOCAL_FILE);
    wifiFile = WIFI_LOCAL_FILE;
  }
  const bundle = relative(process.cwd(), target.file!);
  const files = storageFiles(board.name, app, target.entry);
  if (over) {
    if (o['dry-run']) {
      const names = (wifiFile ? [board.wifiFile + ' (' + wifiFile + ')'] : []).concat(files.map((f) => f.name));
      console.log('telnet ' + over.host + ':' + over.port + ': ' + (names.length ? 'Storage ' + names.join(', ') + ', then ' : '') + bundle + ' as .bootcde, then load()');
      return 0;
    }
    if (!o['no-build']) await buildAll({ ...what, boards: [board.name], outDir: resolve('dist'), settings: buildSettings });
    if (!existsSync(bundle)) throw new Error(bundle + ' does not exist: build it first (drop --no-build)');
    const upload = files.map((f) => ({ name: f.name, data: readFileSync(f.path).toString('latin1') }));
    if (wifiFile) upload.unshift({ name: board.wifiFile, data: readFileSync(wifiFile).toString('latin1') });
    await telnetFlash({ host: over.host, port: over.port, code: readFileSync(bundle).toString('latin1'), files: upload });
    return 0;
  }
  const cmd = (port: string) =>
    flashCommand({ board: board, port: port, app: app, bundle: bundle, baud: o.baud ? Number(o.baud) : undefined, wifiFile: wifiFile, files: files });
  if (o['dry-run']) {
    console.log(shellLine(cmd(typeof o.port === 'string' ? o.port : choosePort(undefined))));
    return 0;
  }
  // Before building, and long before the espruino CLI, which would only time out on a port that is not there.
  const port = choosePort(o.port as string | undefined);
  if (!o['no-build']) await buildAll({ ...what, boards: [board.name], outDir: resolve('dist'), settings: buildSettings });
  if (!existsSync(bundle)) throw new Error(bundle + ' does not exist: build it first (drop --no-build)');
  if (!wifiFile) console.log('note: no Wi-Fi credentials uploaded (' + (o['no-wifi'] ? '--no-wifi' : WIFI_LOCAL_FILE + ' not found') + '); the board keeps what its Storage has');
  console.log('uploading ' + num(readFileSync(bundle).length) + ' B to ' + port + ' …');
  console.log('$ ' + shellLine(cmd(port)));
  const r = spawnSync('npx', cmd(port).slice(1), { stdio: 'inherit' });
  if (r.error) throw r.error;
  if (r.status === 0) console.log('written to flash; the board runs it at every boot');
  return r.status === null ? 1 : r.status;
}
