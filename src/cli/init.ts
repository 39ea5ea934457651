/**
 * `ringnet init [dir] [--force]`: a starter app in a project of the user's
 * own: the app (an echo server), its device entry (Manager + EspruinoDriver
 * with the board profile of `--board`), its host entry (the same app on the
 * Node driver), a tsconfig.json, the virtual modules' types, and
 * build/flash/start scripts in package.json. Existing files are left alone
 * (and the command fails naming them) unless --force.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { parseWithPositionals } from './options.js';

const APP = `/** The app: whatever a client sends comes back. The same code runs on the board and on Node. */
import { Ev } from 'ringnet';
import type { Connection, Manager } from 'ringnet';

function handler(c: Connection, ev: number): void {
  // On RECV, and on SEND when the send ring has room again: move what fits; the rest waits in recv.
  if (ev !== Ev.RECV && ev !== Ev.SEND) return;
  const recv = c.recv;
  const out = c.unsent;
  while (recv.length > 0 && out.free > 0) {
    const run = recv.contiguousLength();
    recv.discard(out.write(recv.bytes, recv.start, run < out.free ? run : out.free));
  }
}

/** Listens on \`port\`; null when the port is taken. */
export function startApp(mgr: Manager, port: number): Connection | null {
  return mgr.listen('tcp://0.0.0.0:' + port, handler);
}
`;

const DEVICE = `/**
 * The app on a board: \`npm run build\` bundles it for each board as
 * dist/<board>/device.js; \`npm run flash\` uploads it. Build settings:
 * \`--set port=N\` (default 8000).
 */
import board from 'ringnet:board';
import settings from 'ringnet:settings';
import { Manager } from 'ringnet';
import { EspruinoDriver } from 'ringnet/drivers/espruino';
import { superviseWifi } from 'ringnet/drivers/espruino-wifi';
import { startApp } from './app.js';

const driver = new EspruinoDriver({ net: board.net, hasTls: board.hasTls, wifi: superviseWifi, wifiFile: board.wifiFile });
// Only the default pool: the MQTT and UDP ones would take RAM this app does not use.
const mgr = new Manager(driver, { pools: { default: board.pools.default }, pollMs: board.pollMs });
startApp(mgr, Number(settings.port || 8000));
mgr.run();
`;

const HOST = `/** The same app on Node: \`npm start\` (port 8000, or the first argument). */
import { Manager } from 'ringnet';
import { NodeDriver } from 'ringnet/drivers/node';
import { startApp } from './app.js';

const mgr = new Manager(new NodeDriver());
const listener = startApp(mgr, Number(process.argv[2] || 8000));
mgr.run();
console.log('listening on port ' + (listener ? listener.remote.port : '?') + ' (Ctrl-C stops it)');
process.on('SIGINT', function () {
  mgr.shutdown();
  process.exit(0);
});
`;

const VIRTUAL = `/** Modules the ringnet device build provides to a device entry (\`ringnet build\`); they exist only inside a bundle. */
declare module 'ringnet:board' {
  const board: import('ringnet/boards/profile').BoardProfile;
  export default board;
}
declare module 'ringnet:settings' {
  const settings: { [key: string]: string | number | undefined };
  export default settings;
}
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2020',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['ES2020'],
    strict: true,
    skipLibCheck: true,
    rootDir: '.',
    outDir: 'build',
  },
  // device.ts is compiled by \`ringnet build\` (to ES5 for Espruino); tsc checks it with the rest and emits only what Node runs.
  include: ['*.ts'],
  exclude: ['node_modules', 'build', 'dist'],
};

/** The scripts `init` adds to package.json. */
export function scripts(board: string): { [name: string]: string } {
  return {
    build: 'ringnet build --board ' + board + ' device.ts',
    flash: 'ringnet flash --board ' + board + ' device.ts',
    start: 'tsc -p . && node build/host.js',
  };
}

export const HELP = `usage: ringnet init [dir] [--board esp32|esp8266] [--force]
  dir                     the project folder (default: the current one; made when missing)
  --board B               the board the build and flash scripts name (default esp32)
  --force                 overwrite files that exist (package.json is merged, never replaced)
Writes app.ts, device.ts (the app on a board), host.ts (the app on Node), ringnet-env.d.ts,
tsconfig.json, and build/flash/start scripts in package.json.`;

export async function run(args: string[]): Promise<number> {
  const { values: o, positionals } = parseWithPositionals(args, {
    board: { type: 'string' },
    force: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (o.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length > 1) throw new Error('init takes one folder, got ' + positionals.length);
  const board = typeof o.board === 'string' ? o.board : 'esp32';
  if (board !== 'esp32' && board !== 'esp8266') throw new Error('--board ' + board + ': esp32 or esp8266');
  const dir = resolve(positionals[0] || '.');
  const files: { [name: string]: string } = {
    'app.ts': APP,
    'device.ts': DEVICE,
    'host.ts': HOST,
    'ringnet-env.d.ts': VIRTUAL,
    'tsconfig.json': JSON.stringify(TSCONFIG, null, 2) + '\n',
  };
  const pkgPath = join(dir, 'package.json');
  let pkg: { [key: string]: unknown } = { name: basename(dir).toLowerCase().replace(/[^a-z0-9._-]/g, '-'), version: '0.1.0', private: true, type: 'module' };
  if (existsSync(pkgPath)) {
    try {
      pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
    } catch (e) {
      throw new Error(pkgPath + ': not valid JSON (' + (e instanceof Error ? e.message : String(e)) + ')');
    }
  }
  const taken = Object.keys(files).filter((f) => existsSync(join(dir, f)));
  const oldScripts = (pkg.scripts || {}) as { [name: string]: string };
  const wanted = scripts(board);
  const clashes = Object.keys(wanted).filter((s) => oldScripts[s] !== undefined && oldScripts[s] !== wanted[s]);
  if (!o.force && (taken.length || clashes.length))
    throw new Error(
      'not overwriting ' + taken.concat(clashes.map((s) => 'the "' + s + '" script in package.json')).join(', ') + ' in ' + (relative(process.cwd(), dir) || '.') + ' (--force overwrites)',
    );
  if (pkg.type !== undefined && pkg.type !== 'module' && !o.force) throw new Error(pkgPath + ': "type" is ' + JSON.stringify(pkg.type) + '; the starter is ES modules ("type": "module"; --force sets it)');
  const hadPkg = existsSync(pkgPath);
  mkdirSync(dir, { recursive: true });
  for (const f of Object.keys(files)) {
    writeFileSync(join(dir, f), files[f]);
    console.log('wrote ' + join(relative(process.cwd(), dir), f));
  }
  pkg.type = 'module';
  pkg.scripts = { ...oldScripts, ...wanted };
  writeFileSync(pkgPath, JSON.stringify(pkg, null, 2) + '\n');
  console.log((hadPkg ? 'updated ' : 'wrote ') + join(relative(process.cwd(), dir), 'package.json') + ' (scripts: ' + Object.keys(wanted).join(', ') + ')');
  console.log('\nnext: npm install ringnet typescript @types/node, then npm start (on this machine) or npm run flash (on a board on USB).');
  return 0;
}
