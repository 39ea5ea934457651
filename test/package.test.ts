/**
 * The package as a user meets it: `npm pack`, the tarball installed into a
 * fresh folder, and an app of that folder's own that imports 'ringnet' —
 * type-checked with strict tsc and with isolatedModules, run on Node (a TCP
 * echo round trip), and built for every board through the package's build API
 * (`ringnet/cli/bundle`; the CLI has no verb for an entry outside the package yet).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './support/wait.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const typesNodeVersion = JSON.parse(readFileSync(join(ROOT, 'node_modules', '@types', 'node', 'package.json'), 'utf8')).version;

function run(cmd: string, args: string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, { cwd: cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240000 });
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(x.message + '\n' + (x.stdout || '') + (x.stderr || ''));
  }
}


/** The app's shared code: the names it uses exist at run time, so isolatedModules accepts them. */
const APP = `import { Ev, ErrorCode } from 'ringnet';
import type { Connection, Manager } from 'ringnet';

export function echo(c: Connection, ev: Ev, data: unknown): void {
  if (ev === Ev.ERROR) throw new Error('echo: error ' + String(data));
  if (ev !== Ev.RECV && ev !== Ev.SEND) return;
  while (c.recv.length > 0 && c.unsent.free > 0) {
    const run = c.recv.contiguousLength();
    c.recv.discard(c.unsent.write(c.recv.bytes, c.recv.start, run < c.unsent.free ? run : c.unsent.free));
  }
}

export function startEcho(mgr: Manager, url: string): Connection | null {
  return mgr.listen(url, echo);
}

export const OK: number = ErrorCode.OK;
`;

const HOST = `import { Ev, Manager } from 'ringnet';
import { NodeDriver } from 'ringnet/drivers/node';
import { OK, startEcho } from './app.js';

const mgr = new Manager(new NodeDriver());
const port = process.argv[2];
if (!startEcho(mgr, 'tcp://127.0.0.1:' + port)) throw new Error('no listener');
const message = 'ping from an app of its own';
let got = '';
mgr.connect('tcp://127.0.0.1:' + port, function (c, ev, data) {
  if (ev === Ev.CONNECT && data === OK) c.send(message);
  if (ev === Ev.RECV) {
    got += c.recv.toBinaryString();
    c.recv.discard(c.recv.length);
    if (got.length >= message.length) {
      console.log(JSON.stringify({ got: got, recv: Ev.RECV, name: Ev[Ev.RECV] }));
      mgr.shutdown();
      process.exit(0);
    }
  }
});
mgr.run();
setTimeout(function () { console.error('no echo in 5 s, got ' + JSON.stringify(got)); process.exit(1); }, 5000).unref();
`;

const DEVICE = `/// <reference types="ringnet/device" />
import board from 'ringnet:board';
import { Manager } from 'ringnet';
import { EspruinoDriver } from 'ringnet/drivers/espruino';
import { superviseWifi } from 'ringnet/drivers/espruino-wifi';
import { startEcho } from './app.js';

const mgr = new Manager(new EspruinoDriver({ net: board.net, hasTls: board.hasTls, wifi: superviseWifi, wifiFile: board.wifiFile }), {
  pools: { default: board.pools.default },
  pollMs: board.pollMs,
});
startEcho(mgr, 'tcp://0.0.0.0:7000');
mgr.run();
`;

const BUILD = `import { join } from 'node:path';
import { boards } from 'ringnet/boards';
import { buildBundle } from 'ringnet/cli/bundle';

for (const name of Object.keys(boards)) {
  const r = await buildBundle({ board: boards[name], app: 'app', entry: join(process.cwd(), 'src', 'device.ts'), file: join(process.cwd(), 'dist', name, 'app.js') });
  console.log(name + ' ' + r.bytes + ' ' + r.modules.join(','));
}
`;

const STRICT = {
  strict: true,
  target: 'ES2020',
  lib: ['ES2020'],
  module: 'NodeNext',
  moduleResolution: 'NodeNext',
  types: ['node'],
  outDir: 'out',
  rootDir: 'src',
  skipLibCheck: true,
};

test('the packed package installs into a project of its own, which type-checks, runs on Node and builds for every board', { timeout: 600000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ringnet-user-'));
  try {
    // The suite compiled build/ already; pack without scripts so no second tsc rewrites it under the other tests.
    const tarball = join(dir, run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], ROOT).trim().split('\n').pop()!);
    const app = join(dir, 'app');
    mkdirSync(join(app, 'src'), { recursive: true });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'my-ringnet-app', private: true, type: 'module' }));
    // From npm's cache (filled by `npm ci`); the registry only for what the cache lacks.
    const install = ['install', '--no-audit', '--no-fund', tarball, '@types/node@' + typesNodeVersion];
    try {
      run('npm', install.concat('--offline'), app);
    } catch {
      run('npm', install.concat('--prefer-offline'), app);
    }
    const installed = join(app, 'node_modules', 'ringnet');

    // Every export is in the tarball, with its declarations.
    for (const key of Object.keys(pkg.exports)) {
      const e = pkg.exports[key];
      for (const file of typeof e === 'string' ? [e] : [e.types, e.default].filter(Boolean)) {
        assert.ok(existsSync(join(installed, file)), key + ': ' + file + ' is not in the package');
      }
    }
    for (const f of ['LICENSE', 'CHANGELOG.md', 'README.md']) assert.ok(existsSync(join(installed, f)), f + ' is not in the package');
    assert.ok(!existsSync(join(installed, 'build', 'test')), 'the tests are not shipped');

    writeFileSync(join(app, 'src', 'app.ts'), APP);
    writeFileSync(join(app, 'src', 'host.ts'), HOST);
    writeFileSync(join(app, 'src', 'device.ts'), DEVICE);
    writeFileSync(join(app, 'build.mjs'), BUILD);
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: STRICT, include: ['src/app.ts', 'src/host.ts'] }));
    // The device entry against ES5 alone, as the device build sees it.
    writeFileSync(
      join(app, 'tsconfig.device.json'),
      JSON.stringify({
        compilerOptions: { strict: true, target: 'ES5', lib: ['ES5'], module: 'ESNext', moduleResolution: 'Bundler', types: [], noEmit: true, skipLibCheck: true },
        files: ['src/device.ts'],
      }),
    );
    const tsc = join(app, 'node_modules', 'typescript', 'bin', 'tsc');
    run(process.execPath, [tsc, '-p', 'tsconfig.json'], app);
    run(process.execPath, [tsc, '-p', 'tsconfig.json', '--noEmit', '--isolatedModules'], app);
    run(process.execPath, [tsc, '-p', 'tsconfig.device.json'], app);
    run(process.execPath, [tsc, '-p', 'tsconfig.device.json', '--isolatedModules'], app);

    // On Node: the names are real objects, and bytes go round.
    const out = JSON.parse(run(process.execPath, [join(app, 'out', 'host.js'), String(await freePort())], app).trim());
    assert.deepEqual(out, { got: 'ping from an app of its own', recv: 3, name: 'RECV' });

    // Every public module loads on Node.
    const loaded = run(process.execPath, ['--input-type=module', '-e', Object.keys(pkg.exports).filter((k) => pkg.exports[k].default).map((k) => "await import('ringnet" + k.slice(1) + "');").join('') + "console.log('loaded')"], app);
    assert.equal(loaded.trim(), 'loaded');

    // For every board, into the app's own dist/: the enums inlined (no name table in the bundle).
    const built = run(process.execPath, ['build.mjs'], app).trim().split('\n');
    assert.deepEqual(built.map((l) => l.split(' ')[0]).sort(), readdirSync(join(ROOT, 'boards')).filter((f) => f !== 'index.ts' && f !== 'profile.ts' && f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort());
    for (const line of built) {
      const [board, bytes, modules] = line.split(' ');
      const code = readFileSync(join(app, 'dist', board, 'app.js'), 'utf8');
      assert.equal(Buffer.byteLength(code), Number(bytes));
      assert.ok(modules.split(',').some((m) => m.endsWith('src/device.ts') && m.indexOf('node_modules') < 0), board + ': the app entry is in the bundle');
      assert.ok(modules.split(',').some((m) => m === 'src/drivers/espruino.ts'), board + ': the driver came from the package: ' + modules);
      assert.ok(!/"RECV"|"REFUSED"/.test(code), board + ': an enum name table is in the bundle');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
