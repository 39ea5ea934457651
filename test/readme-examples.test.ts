/**
 * The README's examples, as a user copies them: each is a file under
 * examples/readme/ (compiled with the project, importing 'ringnet' by its
 * package name), run here as its own Node process against real sockets,
 * mosquitto and chronyd, and checked from outside. The README must show
 * exactly those files, so the two cannot drift apart.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { freePort, startMosquitto } from '../src/cli/mosquitto.js';
import type { Mosquitto } from '../src/cli/mosquitto.js';
import { startChrony } from './support/chrony.js';
import type { Chrony } from './support/chrony.js';
import { until } from './support/wait.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..'); // build/test -> the repository
const sources = join(root, 'examples', 'readme');
const compiled = join(root, 'build', 'examples', 'readme');

interface Run {
  proc: ChildProcess;
  out: string;
  exited: Promise<number | null>;
}

const runs: Run[] = [];

function run(name: string, env: { [k: string]: string }): Run {
  const proc = spawn(process.execPath, [join(compiled, name + '.js')], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const r: Run = { proc, out: '', exited: new Promise((resolve) => proc.on('exit', (code) => resolve(code))) };
  proc.stdout!.on('data', (d) => (r.out += d));
  proc.stderr!.on('data', (d) => (r.out += d));
  runs.push(r);
  return r;
}

after(() => {
  for (const r of runs) if (r.proc.exitCode === null) r.proc.kill('SIGKILL');
});

/** Connects once the example listens (it prints nothing when it does). */
async function connect(port: number): Promise<net.Socket> {
  for (let i = 0; ; i++) {
    try {
      return await new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () => resolve(s));
        s.once('error', reject);
      });
    } catch (e) {
      if (i > 100) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

test('README.md and docs/ show each examples/readme file exactly, once, and every ts example that names one is one', () => {
  const pages = ['README.md'].concat(readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f)));
  const blocks = new Map<string, string>();
  const re = /```ts\n(\/\/ examples\/readme\/([\w-]+\.ts)\n[\s\S]*?)```/g;
  for (const page of pages) {
    const text = readFileSync(join(root, page), 'utf8');
    for (let m = re.exec(text); m; m = re.exec(text)) {
      assert.ok(!blocks.has(m[2]), m[2] + ' is shown twice');
      blocks.set(m[2], m[1]);
    }
  }
  const files = readdirSync(sources).filter((f) => f.endsWith('.ts')).sort();
  assert.deepEqual([...blocks.keys()].sort(), files, 'one block per file under examples/readme');
  for (const f of files) assert.equal(blocks.get(f), readFileSync(join(sources, f), 'utf8'), 'the block for ' + f);
  assert.ok(readFileSync(join(root, 'README.md'), 'utf8').indexOf('// examples/readme/echo.ts') >= 0, 'the README keeps one example');
});

test('echo: a message eight times the send ring comes back whole (the handler retries on SEND)', async () => {
  const port = await freePort();
  const r = run('echo', { PORT: String(port) });
  const s = await connect(port);
  const msg = Buffer.alloc(8 * 2048 + 777);
  for (let i = 0; i < msg.length; i++) msg[i] = (i * 31 + (i >> 8)) & 255;
  const got: Buffer[] = [];
  let n = 0;
  s.on('data', (d) => {
    got.push(d);
    n += d.length;
  });
  s.write(msg);
  await until(() => n >= msg.length, 10000, 'the echo (' + n + ' of ' + msg.length + ' bytes; output: ' + r.out + ')');
  assert.ok(Buffer.concat(got).equals(msg), 'the same bytes in the same order');
  // And the connection still works after it.
  s.write('again');
  await until(() => n >= msg.length + 5, 5000, 'the second echo');
  assert.equal(Buffer.concat(got).subarray(msg.length).toString(), 'again');
  s.destroy();
  assert.match(r.out, new RegExp('echo on port ' + port));
});

let broker: Mosquitto;
let chrony: Chrony;
before(async () => {
  broker = await startMosquitto();
  chrony = await startChrony(8);
});
after(async () => {
  if (broker) await broker.dispose();
  if (chrony) chrony.stop();
});

test('mqtt: publishes sensors/temp at QoS 1 and prints what comes on cmd/#', async () => {
  const peer = mqtt.connect(broker.url, { clean: true });
  const seen: { topic: string; text: string; qos: number }[] = [];
  peer.on('message', (topic, payload, packet) => seen.push({ topic, text: payload.toString(), qos: packet.qos }));
  try {
    await peer.subscribeAsync('sensors/temp', { qos: 1 });
    const r = run('mqtt', { BROKER: broker.url });
    await until(() => seen.length > 0, 10000, 'the reading (output: ' + r.out + ')');
    assert.deepEqual(seen[0], { topic: 'sensors/temp', text: '21.5', qos: 1 });
    // Its SUBSCRIBE may still be on the way when its PUBLISH arrived: send the command until the example prints it.
    let last = 0;
    await until(
      () => {
        if (r.out.indexOf('cmd/led on 1') >= 0) return true;
        if (Date.now() - last > 200) {
          last = Date.now();
          peer.publish('cmd/led', 'on', { qos: 1 });
        }
        return false;
      },
      10000,
      'the command printed (output: ' + r.out + ')',
    );
  } finally {
    await peer.endAsync();
  }
});

test('sntp: sets the clock from a real NTP server and exits', async () => {
  const r = run('sntp', { NTP: 'udp://127.0.0.1:' + chrony.port });
  const code = await Promise.race([r.exited, new Promise<string>((resolve) => setTimeout(() => resolve('still running'), 10000))]);
  assert.equal(code, 0, r.out);
  const m = /^time set: (\S+) delay ([\d.]+) ms$/m.exec(r.out);
  assert.ok(m, r.out);
  assert.ok(Math.abs(Date.parse(m[1]) - Date.now()) < 15000, 'chronyd serves this machine\'s clock: ' + m[1]);
});

test('http: the API, 404s, basic auth on /admin, a static file and the WebSocket at /live', async () => {
  const port = await freePort();
  const www = mkdtempSync(join(tmpdir(), 'ringnet-www-'));
  try {
    writeFileSync(join(www, 'index.html'), '<h1>hi</h1>');
    const r = run('http', { PORT: String(port), WWW: www, PIN: 's3cret' });
    (await connect(port)).destroy();
    const base = 'http://127.0.0.1:' + port;
    const get = async (path: string, headers?: { [k: string]: string }) => {
      const res = await fetch(base + path, { headers });
      return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
    };
    const t1 = await get('/api/sensors/t1');
    assert.equal(t1.status, 200, r.out);
    assert.equal(t1.type, 'application/json');
    assert.deepEqual(JSON.parse(t1.text), { id: 't1', value: 21.5 });
    assert.equal((await get('/api/sensors/t9')).status, 404);
    assert.equal((await get('/nothing.txt')).status, 404);
    const page = await get('/index.html');
    assert.equal(page.status, 200);
    assert.equal(page.text, '<h1>hi</h1>');
    assert.equal((await get('/admin')).status, 401);
    const bad = 'Basic ' + Buffer.from('admin:wrong').toString('base64');
    assert.equal((await get('/admin', { Authorization: bad })).status, 401);
    const good = await get('/admin', { Authorization: 'Basic ' + Buffer.from('admin:s3cret').toString('base64') });
    assert.deepEqual([good.status, good.text], [200, 'hello, admin']);
    const ws = new WebSocket('ws://127.0.0.1:' + port + '/live');
    const reply = await new Promise<string>((resolve, reject) => {
      ws.on('open', () => ws.send('ping 1'));
      ws.on('message', (d) => resolve(d.toString()));
      ws.on('error', reject);
    });
    ws.close();
    assert.equal(reply, 'got ping 1');
  } finally {
    rmSync(www, { recursive: true, force: true });
  }
});
