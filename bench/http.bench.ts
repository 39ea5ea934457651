/**
 * HTTP and WebSocket on loopback, ringnet against the usual Node servers in
 * the same run:
 *   - keep-alive GET requests/s with autocannon (50 connections): ringnet vs node:http
 *   - WebSocket echo messages/s with `ws` clients: ringnet vs a `ws` server
 *   - minified ES5 bundle sizes of the HTTP and WebSocket code (what a device carries)
 * Each server runs in its own process; rounds alternate between the two so
 * load from elsewhere hits both alike, and the median is reported.
 */
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import autocannon from 'autocannon';
import WebSocket from 'ws';

const here = dirname(fileURLToPath(import.meta.url));
const ROUNDS = 3;
const HTTP_SECONDS = 3;
const WS_SECONDS = 2;
const WS_CLIENTS = 8;
const WS_WINDOW = 32;
const WS_SIZE = 64;

function startServer(kind: string): Promise<{ port: number; stop(): void }> {
  return new Promise((resolve) => {
    const child = fork(join(here, 'support', 'http-server.js'), [kind], { stdio: 'inherit' });
    child.once('message', (port) => resolve({ port: port as number, stop: () => child.kill() }));
  });
}

async function httpRound(kind: string): Promise<number> {
  const server = await startServer(kind);
  try {
    const url = 'http://127.0.0.1:' + server.port + '/';
    await autocannon({ url, connections: 10, duration: 1 }); // warm-up
    const r = await autocannon({ url, connections: 50, duration: HTTP_SECONDS, pipelining: 1 });
    if (r.non2xx || r.errors || r.timeouts) throw new Error(kind + ': ' + r.non2xx + ' non-2xx, ' + r.errors + ' errors, ' + r.timeouts + ' timeouts');
    return r.requests.average;
  } finally {
    server.stop();
  }
}

/** Echo messages/s: each client keeps WS_WINDOW messages in flight. */
async function wsRound(kind: string): Promise<number> {
  const server = await startServer(kind);
  const url = 'ws://127.0.0.1:' + server.port + '/';
  const sockets: WebSocket[] = [];
  try {
    for (let i = 0; i < WS_CLIENTS; i++) {
      const ws = new WebSocket(url);
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      sockets.push(ws);
    }
    const payload = Buffer.alloc(WS_SIZE, 0x61);
    let echoed = 0;
    let counting = false;
    let stop = false;
    for (const ws of sockets) {
      ws.on('message', () => {
        if (counting) echoed++;
        if (!stop) ws.send(payload);
      });
      for (let k = 0; k < WS_WINDOW; k++) ws.send(payload);
    }
    await new Promise((r) => setTimeout(r, 300)); // warm-up
    counting = true;
    const t0 = process.hrtime.bigint();
    await new Promise((r) => setTimeout(r, WS_SECONDS * 1000));
    const n = echoed;
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    stop = true;
    return n / seconds;
  } finally {
    for (const ws of sockets) ws.terminate();
    server.stop();
  }
}

/**
 * Minified ES5 bundles of the protocol code, built like a device bundle: one
 * TypeScript program at target ES5 (const enums inlined across files), then
 * rollup and terser with the hoisting Espruino needs.
 */
async function bundleSizes(): Promise<{ name: string; bytes: number; gz: number }[]> {
  const ts = (await import('typescript')).default;
  const { rollup } = await import('rollup');
  const terser = (await import('@rollup/plugin-terser')).default;
  const root = join(here, '..', '..');
  const entries: { name: string; file: string }[] = [
    { name: 'HTTP server (router, static, auth)', file: join(root, 'bench', 'support', 'bundle-http-server.ts') },
    { name: 'HTTP server + client + WebSocket', file: join(root, 'bench', 'support', 'bundle-http-ws.ts') },
  ];
  const emitted = new Map<string, string>();
  const { deviceCompilerHost } = await import('../src/cli/bundle.js');
  const options = { target: ts.ScriptTarget.ES5, module: ts.ModuleKind.ES2015, moduleResolution: ts.ModuleResolutionKind.Bundler, lib: ['lib.es5.d.ts'], types: [], strict: true, skipLibCheck: true, outDir: '/virtual', rootDir: root };
  // The device build's host: exported enums are read as const enums, as on the device.
  const program = ts.createProgram(entries.map((e) => e.file), options, deviceCompilerHost(options, root));
  program.emit(undefined, (file, text) => emitted.set(file, text));
  const virtualOf = (tsFile: string) => '/virtual/' + tsFile.substring(root.length + 1).replace(/\.ts$/, '.js');
  const out: { name: string; bytes: number; gz: number }[] = [];
  for (const e of entries) {
    const bundle = await rollup({
      input: virtualOf(e.file),
      onwarn: () => {},
      plugins: [
        {
          name: 'emitted',
          resolveId(id: string, from?: string) {
            if (!from) return id;
            return join(dirname(from), id);
          },
          load(id: string) {
            const code = emitted.get(id);
            if (code === undefined) throw new Error('not emitted: ' + id);
            return code;
          },
        },
        (terser as any)({ compress: { hoist_funs: true, hoist_vars: true, passes: 1 } }),
      ],
    });
    const { output } = await bundle.generate({ format: 'es' });
    await bundle.close();
    const code = output[0].code;
    out.push({ name: e.name, bytes: code.length, gz: gzipSync(code).length });
  }
  return out;
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];

const sizesOnly = process.argv[2] === 'sizes'; // `node build/bench/http.bench.js sizes`: bundle sizes alone
const nodeHttp: number[] = [];
const ourHttp: number[] = [];
for (let r = 0; r < ROUNDS && !sizesOnly; r++) {
  nodeHttp.push(await httpRound('node-http'));
  ourHttp.push(await httpRound('ringnet-http'));
}
const wsLib: number[] = [];
const ourWs: number[] = [];
for (let r = 0; r < ROUNDS && !sizesOnly; r++) {
  wsLib.push(await wsRound('ws'));
  ourWs.push(await wsRound('ringnet-ws'));
}
if (!sizesOnly) report();
function report(): void {
const nh = median(nodeHttp);
const oh = median(ourHttp);
const nw = median(wsLib);
const ow = median(ourWs);
console.log('keep-alive GET, autocannon 50 connections, ' + HTTP_SECONDS + ' s, median of ' + ROUNDS + ' rounds');
console.log('  node:http      ' + nh.toFixed(0).padStart(8) + ' req/s   ' + nodeHttp.map((x) => x.toFixed(0)).join(' / '));
console.log('  ringnet        ' + oh.toFixed(0).padStart(8) + ' req/s   ' + ourHttp.map((x) => x.toFixed(0)).join(' / '));
console.log('  ratio          ' + (oh / nh).toFixed(2) + '×');
console.log('WebSocket echo, ' + WS_CLIENTS + ' ws clients × ' + WS_WINDOW + ' in flight, ' + WS_SIZE + ' B messages, ' + WS_SECONDS + ' s, median of ' + ROUNDS);
console.log('  ws server      ' + nw.toFixed(0).padStart(8) + ' msg/s   ' + wsLib.map((x) => x.toFixed(0)).join(' / '));
console.log('  ringnet        ' + ow.toFixed(0).padStart(8) + ' msg/s   ' + ourWs.map((x) => x.toFixed(0)).join(' / '));
console.log('  ratio          ' + (ow / nw).toFixed(2) + '×');
}
console.log('bundle sizes (ES5, minified; gzip in brackets)');
for (const b of await bundleSizes()) console.log('  ' + b.name.padEnd(36) + (b.bytes / 1024).toFixed(1).padStart(6) + ' KB  (' + (b.gz / 1024).toFixed(1) + ' KB)');
