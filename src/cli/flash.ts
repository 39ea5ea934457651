/**
 * `ringnet flash --board esp32 --port /dev/ttyUSB0 [--app telemetry] [--dry-run]`:
 * builds the app for the board, then runs the `espruino` CLI to upload it and
 * save it to flash (`SAVE_ON_SEND=1`: the code goes to the `.bootcde` Storage
 * file and runs from flash at every boot, costing little RAM). Wi-Fi
 * credentials go to Storage from a git-ignored local file, never from source.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, relative } from 'node:path';
import { boards } from '../../boards/index.js';
import type { BoardProfile } from '../../boards/profile.js';
import { buildAll } from './build.js';
import { ROOT, deviceApps } from './bundle.js';
import { parseOptions, settings } from './options.js';

/** The git-ignored file `flash` reads Wi-Fi credentials from by default: {"ssid": "…", "password": "…"}. */
export const WIFI_LOCAL_FILE = 'wifi.local.json';

export interface FlashPlan {
  board: BoardProfile;
  port: string;
  app: string;
  /** The bundle, relative to the project root. */
  bundle: string;
  baud?: number;
  /** Local credentials file to copy into Storage as `board.wifiFile`; null: none. */
  wifiFile?: string | null;
  /** Files for the board's Storage: the name there and the local file. */
  files?: { name: string; path: string }[];
}

/**
 * Writes every file of `examples/<app>/storage/` gzipped under
 * `dist/<board>/<app>-storage/` and returns them for upload: the app's web
 * pages live in Storage, and gzipped they cost a third of the flash.
 */
export function storageFiles(board: string, app: string): { name: string; path: string }[] {
  const from = join(ROOT, 'examples', app, 'storage');
  if (!existsSync(from)) return [];
  const to = join('dist', board, app + '-storage');
  mkdirSync(join(ROOT, to), { recursive: true });
  return readdirSync(from)
    .sort()
    .map((file) => {
      const path = join(to, file + '.gz');
      writeFileSync(join(ROOT, path), gzipSync(readFileSync(join(from, file)), { level: 9 }));
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

export async function run(args: string[]): Promise<number> {
  const o = parseOptions(args, {
    board: { type: 'string' },
    port: { type: 'string', short: 'p' },
    app: { type: 'string' },
    baud: { type: 'string', short: 'b' },
    wifi: { type: 'string' },
    'no-wifi': { type: 'boolean' },
    'no-build': { type: 'boolean' },
    set: { type: 'string', multiple: true },
    'dry-run': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (o.help || !o.board || !o.port) {
    console.log(
      'usage: ringnet flash --board ' +
        Object.keys(boards).join('|') +
        ' --port /dev/ttyUSB0 [--app ' +
        defaultApp() +
        '] [--baud 115200] [--wifi ' +
        WIFI_LOCAL_FILE +
        ' | --no-wifi] [--set key=value] [--no-build] [--dry-run]',
    );
    return o.help ? 0 : 1;
  }
  const board = boards[o.board as string];
  if (!board) throw new Error('unknown board "' + o.board + '" (known: ' + Object.keys(boards).join(', ') + ')');
  if (board.name === 'host') throw new Error('the host board runs on this machine: nothing to flash');
  const app = typeof o.app === 'string' ? o.app : defaultApp();
  let wifiFile: string | null = null;
  if (typeof o.wifi === 'string') {
    if (!existsSync(o.wifi)) throw new Error('no Wi-Fi credentials file ' + o.wifi);
    wifiFile = o.wifi;
  } else if (!o['no-wifi'] && existsSync(join(ROOT, WIFI_LOCAL_FILE))) wifiFile = WIFI_LOCAL_FILE;
  const bundle = relative(ROOT, join(ROOT, 'dist', board.name, app + '.js'));
  const cmd = flashCommand({ board: board, port: o.port as string, app: app, bundle: bundle, baud: o.baud ? Number(o.baud) : undefined, wifiFile: wifiFile, files: storageFiles(board.name, app) });
  if (o['dry-run']) {
    console.log(shellLine(cmd));
    return 0;
  }
  if (!o['no-build']) await buildAll({ boards: [board.name], apps: [app], settings: settings(o.set) });
  if (!existsSync(join(ROOT, bundle))) throw new Error(bundle + ' does not exist: build it first (drop --no-build)');
  if (!wifiFile) console.log('note: no Wi-Fi credentials uploaded (' + WIFI_LOCAL_FILE + ' not found); the board keeps what its Storage has');
  console.log('$ ' + shellLine(cmd));
  const r = spawnSync(cmd[0], cmd.slice(1), { cwd: ROOT, stdio: 'inherit' });
  if (r.error) throw r.error;
  return r.status === null ? 1 : r.status;
}
