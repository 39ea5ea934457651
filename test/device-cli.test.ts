import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { boards } from '../boards/index.js';
import { ROOT } from '../src/cli/bundle.js';
import { buildAll } from '../src/cli/build.js';
import { flashCommand, shellLine, WIFI_LOCAL_FILE } from '../src/cli/flash.js';
import { main } from '../src/cli/main.js';
import { list, settings } from '../src/cli/options.js';

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
  assert.equal((await capture(['flash', '--board', 'esp32'])).code, 1, 'a port is required');
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
  assert.deepEqual(settings(['port=8001', 'name=lab', 'ratio=0.5']), { port: 8001, name: 'lab', ratio: 0.5 });
  assert.throws(() => settings(['novalue']), /key=value/);
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
