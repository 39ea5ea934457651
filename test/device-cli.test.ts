import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { boards } from '../boards/index.js';
import { ROOT } from '../src/cli/bundle.js';
import { buildAll } from '../src/cli/build.js';
import { flashCommand, shellLine, WIFI_LOCAL_FILE } from '../src/cli/flash.js';
import { main } from '../src/cli/main.js';
import { list, settings } from '../src/cli/options.js';
import { lockTelnetPort, TELNET_PORT } from './support/espruino.js';
import { interpreterLaunch, interpreterSkip } from './support/interpreter.js';
import type { Launch } from './support/interpreter.js';
import { freePort, portIsFree, until } from './support/wait.js';

test('flash: the espruino command uploads the bundle and saves it to flash, per board', () => {
  const esp32 = flashCommand({ board: boards.esp32, port: '/dev/ttyUSB0', app: 'telemetry', bundle: 'dist/esp32/telemetry.js' });
  assert.deepEqual(esp32, ['npx', 'espruino', '-p', '/dev/ttyUSB0', '-b', '115200', '--board', 'ESP32', '--config', 'SAVE_ON_SEND=1', 'dist/esp32/telemetry.js']);
  const esp8266 = flashCommand({ board: boards.esp8266, port: '/dev/ttyUSB1', app: 'echo', bundle: 'dist/esp8266/echo.js', baud: 921600 });
  assert.deepEqual(esp8266, ['npx', 'espruino', '-p', '/dev/ttyUSB1', '-b', '921600', '--board', 'ESP8266_4MB', '--config', 'SAVE_ON_SEND=1', 'dist/esp8266/echo.js']);
});

test('flash: Wi-Fi credentials go to Storage under the name the board reads, from the local file', () => {
  const cmd = flashCommand({ board: boards.esp8266, port: '/dev/ttyUSB0', app: 'echo', bundle: 'dist/esp8266/echo.js', wifiFile: WIFI_LOCAL_FILE });
  const i = cmd.indexOf('--storage');
  assert.ok(i > 0);
  assert.equal(cmd[i + 1], boards.esp8266.wifiFile + ':' + WIFI_LOCAL_FILE);
  assert.equal(cmd[cmd.length - 1], 'dist/esp8266/echo.js', 'the bundle comes last');
});

test('flash: shellLine quotes what a shell would split', () => {
  assert.equal(shellLine(['npx', 'espruino', '-p', '/dev/tty USB0', "it's"]), "npx espruino -p '/dev/tty USB0' 'it'\\''s'");
});

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => out.push(a.join(' '));
  console.error = (...a: unknown[]) => err.push(a.join(' '));
  try {
    const code = await main(argv);
    return { code: code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

test('ringnet flash --dry-run prints the exact command and touches nothing', async () => {
  for (const board of ['esp32', 'esp8266']) {
    const r = await capture(['flash', '--board', board, '--port', '/dev/ttyUSB0', '--app', 'echo', '--no-wifi', '--dry-run']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'npx espruino -p /dev/ttyUSB0 -b 115200 --board ' + boards[board].espruinoBoard + ' --config SAVE_ON_SEND=1 dist/' + board + '/echo.js');
  }
});

test('ringnet flash refuses what it cannot do, with a message', async () => {
  assert.match((await capture(['flash', '--board', 'esp9000', '--port', '/dev/ttyUSB0', '--dry-run'])).err, /unknown board "esp9000"/);
  assert.match((await capture(['flash', '--board', 'host', '--port', '/dev/ttyUSB0', '--dry-run'])).err, /nothing to flash/);
  assert.match((await capture(['flash', '--board', 'esp32', '--port', 'p', '--wifi', 'no-such-file.json', '--dry-run'])).err, /no Wi-Fi credentials file/);
  assert.equal((await capture(['flash', '--board', 'esp32', '--port', '/dev/no-such-port'])).code, 1, 'a port that is not there fails');
  assert.match((await capture(['flash', '--bogus'])).err, /bogus/);
});

test('ringnet: verbs are listed; an unknown verb fails', async () => {
  const help = await capture(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /build/);
  assert.match(help.out, /flash/);
  const bad = await capture(['frobnicate']);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /unknown verb "frobnicate"/);
});

test('ringnet build options: lists and --set values', () => {
  assert.deepEqual(list(['esp32,esp8266', 'host']), ['esp32', 'esp8266', 'host']);
  assert.deepEqual(settings(['port=8001', 'id=42', 'period=0.5']), { port: 8001, id: '42', period: 0.5 }, 'a string setting stays a string');
  assert.throws(() => settings(['novalue']), /key=value/);
  assert.throws(() => settings(['name=lab']), /--set name: unknown setting/);
  assert.throws(() => settings(['port=eighty']), /--set port=eighty: port is a number/);
  assert.deepEqual(settings(['sntp=firmware']), { sntp: 'firmware' });
  assert.throws(() => settings(['sntp=chrony']), /--set sntp=chrony: sntp is one of ringnet, firmware/);
});

test('bin/ringnet.js runs the dispatcher', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'ringnet.js'), 'flash', '--board', 'esp8266', '--port', '/dev/ttyUSB0', '--app', 'echo', '--no-wifi', '--dry-run'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'npx espruino -p /dev/ttyUSB0 -b 115200 --board ESP8266_4MB --config SAVE_ON_SEND=1 dist/esp8266/echo.js');
});

test('flash uploads an app\'s storage/ files gzipped next to the bundle', async () => {
  const { storageFiles } = await import('../src/cli/flash.js');
  const { gunzipSync } = await import('node:zlib');
  const { readFileSync } = await import('node:fs');
  const { ROOT } = await import('../src/cli/bundle.js');
  const files = storageFiles('esp32', 'telemetry');
  assert.deepEqual(files.map((f) => f.name), ['dashboard.html.gz']);
  const page = gunzipSync(readFileSync(ROOT + '/' + files[0].path)).toString();
  assert.equal(page, readFileSync(ROOT + '/examples/telemetry/storage/dashboard.html', 'utf8'));
  assert.ok(readFileSync(ROOT + '/' + files[0].path).length <= 4096, 'the dashboard is at most 4 KB gzipped');
  const cmd = flashCommand({ board: boards.esp32, port: '/dev/ttyUSB0', app: 'telemetry', bundle: 'dist/esp32/telemetry.js', files });
  assert.equal(shellLine(cmd), 'npx espruino -p /dev/ttyUSB0 -b 115200 --board ESP32 --config SAVE_ON_SEND=1 --storage dashboard.html.gz:dist/esp32/telemetry-storage/dashboard.html.gz dist/esp32/telemetry.js');
  assert.equal(storageFiles('esp32', 'echo').length, 0, 'an app without storage/ uploads nothing');
});

test('build: a bundle that does not fit its board is refused without stopping the rest, and the build fails naming it', async () => {
  const out = mkdtempSync(join(tmpdir(), 'ringnet-build-'));
  try {
    await assert.rejects(buildAll({ boards: ['esp8266'], apps: ['telemetry', 'echo'], outDir: out, quiet: true }), (e: Error) => {
      assert.match(e.message, /^1 bundle\(s\) built; 1 refused because they do not fit:\n  esp8266\/telemetry\.js does not fit its board/);
      return true;
    });
    assert.ok(existsSync(join(out, 'esp8266', 'echo.js')), 'the echo, which fits, was written');
    assert.ok(!existsSync(join(out, 'esp8266', 'telemetry.js')), 'the refused bundle was not');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

// The CLI as a user meets it: bin/ringnet.js as its own process, in a folder of the user's own.

const BIN = join(ROOT, 'bin', 'ringnet.js');

function ringnet(cwd: string, ...args: string[]): { status: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: cwd, encoding: 'utf8', timeout: 120000 });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

function tempDir(t: TestContext, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ringnet-' + name + '-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A project folder with `ringnet init`'s starter in it. */
function initProject(t: TestContext): string {
  const dir = tempDir(t, 'project');
  const r = ringnet(dir, 'init');
  assert.equal(r.status, 0, r.err);
  // Installed as a user installs it: node_modules/ringnet is the package.
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'ringnet'), 'dir');
  return dir;
}

test('ringnet --version prints the package version; every verb answers --help with its usage', () => {
  const cwd = tmpdir();
  const v = ringnet(cwd, '--version');
  assert.equal(v.status, 0, v.err);
  assert.equal(v.out.trim(), JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  for (const verb of ['init', 'build', 'flash', 'sim']) {
    const h = ringnet(cwd, verb, '--help');
    assert.equal(h.status, 0, verb + ': ' + h.err);
    assert.match(h.out, new RegExp('^usage: ringnet ' + verb), verb);
  }
  assert.match(ringnet(cwd, 'build', '--help').out, /port \(number\)/, 'build --help lists the --set keys');
  assert.match(ringnet(cwd, 'flash', '--help').out, /--host IP\[:PORT\]/);
  assert.match(ringnet(cwd, 'help', 'flash').out, /^usage: ringnet flash/);
});

test('ringnet init writes a starter app, and refuses to overwrite it', (t) => {
  const dir = tempDir(t, 'init');
  const r = ringnet(dir, 'init', 'app', '--board', 'esp8266');
  assert.equal(r.status, 0, r.err);
  const app = join(dir, 'app');
  for (const f of ['app.ts', 'device.ts', 'host.ts', 'ringnet-env.d.ts', 'tsconfig.json', 'package.json']) assert.ok(existsSync(join(app, f)), f);
  const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));
  assert.equal(pkg.type, 'module');
  assert.equal(pkg.scripts.build, 'ringnet build --board esp8266 device.ts');
  assert.equal(pkg.scripts.flash, 'ringnet flash --board esp8266 device.ts');
  const again = ringnet(dir, 'init', 'app');
  assert.equal(again.status, 1);
  assert.match(again.err, /not overwriting app\.ts, device\.ts, host\.ts, ringnet-env\.d\.ts, tsconfig\.json, the "build" script in package\.json/);
  // package.json is merged: a user's own fields and scripts stay.
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'mine', scripts: { lint: 'x' } }));
  assert.equal(ringnet(dir, 'init', 'app', '--force').status, 0);
  const merged = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));
  assert.equal(merged.name, 'mine');
  assert.equal(merged.scripts.lint, 'x');
  assert.equal(merged.scripts.build, 'ringnet build --board esp32 device.ts');
});

test('the starter type-checks under strict tsc and its host entry runs on Node and echoes', async (t) => {
  const dir = initProject(t);
  // `npm start` is `tsc -p . && node build/host.js`: the same against the installed package's declarations
  // (only @types/node comes from this repository, which the user would install).
  writeFileSync(join(dir, 'tsconfig.check.json'), JSON.stringify({ extends: './tsconfig.json', compilerOptions: { typeRoots: [join(ROOT, 'node_modules', '@types')], types: ['node'] } }));
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.check.json'], { cwd: dir, encoding: 'utf8' });
  assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
  const port = await freePort();
  const host = spawn(process.execPath, ['build/host.js', String(port)], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => host.kill());
  let out = '';
  host.stdout!.on('data', (d) => (out += d));
  host.stderr!.on('data', (d) => (out += d));
  await until(() => out.indexOf('listening on port ' + port) >= 0 || host.exitCode !== null, 10000, 'the host entry to listen');
  assert.match(out, new RegExp('listening on port ' + port));
  assert.equal(await echoOnce(port, 'hello, starter'), 'hello, starter');
});

/** Sends `text` to 127.0.0.1:`port` and resolves with as many bytes coming back. */
function echoOnce(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(text));
    let got = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('no echo on ' + port + ' (got ' + JSON.stringify(got) + ')'));
    }, 10000);
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (got.length >= text.length) {
        clearTimeout(timer);
        s.destroy();
        resolve(got);
      }
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

test('ringnet build <entry> builds a user\'s entry into dist/ of the current directory, with progress lines', (t) => {
  const dir = initProject(t);
  const inPackage = join(ROOT, 'dist', 'esp32', 'device.js');
  const before = existsSync(inPackage) ? statSync(inPackage).mtimeMs : null;
  const r = ringnet(dir, 'build', '--board', 'esp32,esp8266', 'device.ts', '--set', 'port=8123', '--quiet');
  assert.equal(r.status, 0, r.err);
  assert.match(r.out, /building esp32\/device\.js …\nwrote dist\/esp32\/device\.js \([\d,]+ B\)\nbuilding esp8266\/device\.js …\nwrote dist\/esp8266\/device\.js \([\d,]+ B\)/);
  for (const b of ['esp32', 'esp8266']) assert.match(readFileSync(join(dir, 'dist', b, 'device.js'), 'utf8'), /8123/, b + ': the --set value is in the bundle');
  assert.equal(existsSync(inPackage) ? statSync(inPackage).mtimeMs : null, before, 'nothing written into the package folder');
  const missing = ringnet(dir, 'build', '--board', 'esp32', 'nope.ts');
  assert.equal(missing.status, 1);
  assert.match(missing.err, /no device entry nope\.ts/);
});

test('ringnet build and flash: an unknown --set key or a value of the wrong type is an error naming the key', (t) => {
  const dir = initProject(t);
  for (const verb of [['build', '--board', 'esp32'], ['flash', '--board', 'esp32', '--host', '127.0.0.1']]) {
    const unknown = ringnet(dir, ...verb, 'device.ts', '--set', 'prot=8000');
    assert.equal(unknown.status, 1, verb[0]);
    assert.match(unknown.err, /--set prot: unknown setting \(known: port, /, verb[0]);
    const wrong = ringnet(dir, ...verb, 'device.ts', '--set', 'port=eighty');
    assert.equal(wrong.status, 1, verb[0]);
    assert.match(wrong.err, /--set port=eighty: port is a number/, verb[0]);
    assert.doesNotMatch(unknown.out + wrong.out, /building/, verb[0] + ': refused before building');
  }
});

test('ringnet flash: a malformed wifi.local.json is an error naming the file and the key', (t) => {
  const dir = initProject(t);
  const flash = () => ringnet(dir, 'flash', '--board', 'esp32', '--port', '/dev/null', 'device.ts', '--dry-run');
  const cases: [string, RegExp][] = [
    ['{"ssid": "lab", ', /wifi\.local\.json: not valid JSON/],
    ['["lab"]', /wifi\.local\.json: expected an object/],
    ['{"ssid": "lab", "pasword": "12345678"}', /wifi\.local\.json: unknown key "pasword"/],
    ['{"ssid": 7, "password": "12345678"}', /wifi\.local\.json: "ssid" must be a non-empty string/],
    ['{"ssid": "lab", "password": 12345678}', /wifi\.local\.json: "password" must be a string/],
    ['{"ssid": "lab", "password": "short"}', /wifi\.local\.json: "password" is 5 characters; WPA2 needs 8 to 63/],
  ];
  for (const [text, message] of cases) {
    writeFileSync(join(dir, 'wifi.local.json'), text);
    const r = flash();
    assert.equal(r.status, 1, text);
    assert.match(r.err, message, text);
  }
  writeFileSync(join(dir, 'wifi.local.json'), '{"ssid": "lab", "password": "12345678"}');
  const ok = flash();
  assert.equal(ok.status, 0, ok.err);
  assert.match(ok.out, /--storage \.wifi:wifi\.local\.json dist\/esp32\/device\.js$|--storage [^ ]+:wifi\.local\.json dist\/esp32\/device\.js$/m);
});

test('ringnet flash: a missing serial port is named before anything is built or the espruino CLI starts', (t) => {
  const dir = initProject(t);
  const r = ringnet(dir, 'flash', '--board', 'esp32', '--port', '/dev/ttyUSB97', 'device.ts', '--no-wifi');
  assert.equal(r.status, 1);
  assert.match(r.err, /serial port \/dev\/ttyUSB97 does not exist \(is the board plugged in\?/);
  assert.doesNotMatch(r.out, /building|espruino/);
  assert.ok(!existsSync(join(dir, 'dist')), 'nothing built');
});

test('ringnet flash --host builds first with the --set values, then says when no telnet console answers', async (t) => {
  const dir = initProject(t);
  const closed = await freePort();
  const r = ringnet(dir, 'flash', '--board', 'esp32', '--host', '127.0.0.1:' + closed, 'device.ts', '--set', 'port=8124');
  assert.equal(r.status, 1);
  assert.match(r.out, /building esp32\/device\.js …\n[\s\S]*wrote dist\/esp32\/device\.js/);
  assert.match(readFileSync(join(dir, 'dist', 'esp32', 'device.js'), 'utf8'), /8124/);
  assert.match(r.err, new RegExp('no telnet console at 127\\.0\\.0\\.1:' + closed + ': .*ECONNREFUSED'));
  assert.match(ringnet(dir, 'flash', '--board', 'esp32', '--host', '127.0.0.1:99999', 'device.ts').err, /port must be 1 to 65535/);
});

const ESP32 = process.env.ESPRUINO_ESP32 || '';
const SKIP_ESP32 = interpreterSkip('ESPRUINO_ESP32', ESP32, ' is not set: it names the Espruino interpreter built for Linux with an ESP32\'s memory layout, whose --telnet console stands for a board on the network');

/** The ESP32 interpreter with its telnet console on TELNET_PORT, booting from the flash in `dir`; stdin stays open (at EOF it reads junk). */
async function telnetBoard(t: TestContext, dir: string): Promise<{ proc: ChildProcess; output: () => string; stop: () => Promise<void> }> {
  const unlock = await lockTelnetPort(); // the interpreter tests boot theirs on the same port, from another process
  await until(() => portIsFree(TELNET_PORT), 60000, 'port ' + TELNET_PORT + ' to be free', 200);
  const launch = interpreterLaunch(ESP32) as Launch;
  const proc = spawn(launch.file, launch.prefix.concat('--telnet'), { cwd: dir, env: { ...process.env, ESPR_VARS: '3400' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await exited;
    unlock();
  };
  t.after(stop);
  await until(async () => !(await portIsFree(TELNET_PORT)) || proc.exitCode !== null, 10000, 'the telnet console to listen', 50);
  return { proc: proc, output: () => out, stop: stop };
}

test('ringnet flash --host uploads over the telnet console, checks the CRC, reboots the board into the new code, which stays in flash', { skip: SKIP_ESP32, timeout: 180000 }, async (t) => {
  const dir = initProject(t);
  const board = tempDir(t, 'board');
  const port = await freePort();
  const first = await telnetBoard(t, board);
  const r = await new Promise<{ status: number | null; out: string }>((resolve) => {
    const p = spawn(process.execPath, [BIN, 'flash', '--board', 'esp32', '--host', '127.0.0.1:' + TELNET_PORT, 'device.ts', '--set', 'port=' + port], { cwd: dir });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('exit', (status) => resolve({ status: status, out: out }));
  });
  assert.equal(r.status, 0, r.out + '\nthe interpreter: ' + first.output().slice(-1000));
  assert.match(r.out, /building esp32\/device\.js …/);
  assert.match(r.out, new RegExp('uploading [\\d,]+ B to 127\\.0\\.0\\.1:' + TELNET_PORT + ' …\\n(  \\d+%\\n)+written, CRC [0-9a-f]{8} checked; rebooting\\nbooted'));
  assert.equal(await echoOnce(port, 'over the air'), 'over the air', 'the new code runs, on the --set port');
  // A board that restarts runs it again from flash: .bootcde was written, not only evaluated.
  await first.stop();
  await telnetBoard(t, board);
  await until(async () => (await echoOnce(port, 'again').catch(() => '')) === 'again', 20000, 'the echo after a restart', 200);
});
