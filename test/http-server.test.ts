/**
 * The ringnet HTTP server on the Node driver, against real clients: Debian's
 * curl and undici. Keep-alive, pipelining, streamed bodies both ways, static
 * files (gzip variants), the router, Basic auth, and TLS.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync, gunzipSync } from 'node:zlib';
import { Agent, Client, request } from 'undici';
import { makeApp, streamLine } from './support/http-app.js';
import type { AppStats } from './support/http-app.js';
import { curl, makeCert, raw, serve } from './support/http-env.js';
import type { Cert, Served } from './support/http-env.js';

let files: string;
let big: Buffer;
let server: Served;
const stats: AppStats = { accepts: 0, requests: [] };

before(async () => {
  files = mkdtempSync(join(tmpdir(), 'ringnet-files-'));
  mkdirSync(join(files, 'css'));
  writeFileSync(join(files, 'index.html'), '<h1>device</h1>\n');
  writeFileSync(join(files, 'css', 'app.css'), 'body { color: red }\n');
  writeFileSync(join(files, 'app.js'), 'console.log("plain");\n');
  writeFileSync(join(files, 'app.js.gz'), gzipSync('console.log("gzipped");\n'));
  writeFileSync(join(files, 'only.json.gz'), gzipSync('{"only":"gz"}'));
  writeFileSync(join(files, 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
  big = Buffer.alloc(300 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 9)) & 255;
  writeFileSync(join(files, 'big.bin'), big);
  writeFileSync(join(files, 'secret.txt'), 'outside\n');
  // A small send ring (2 KB) so that every long response must resume on SEND.
  server = await serve((mgr) => makeApp(mgr, files, stats), {
    mgr: { pools: { default: { conns: 12, recvBytes: 4096, sendBytes: 2048 } } },
    limits: { headerBytes: 4096, headerCount: 40, bodyBytes: 8 * 1024 * 1024 },
    bufferBytes: 2048,
    headerTimeoutMs: 2000,
    idleTimeoutMs: 5000,
  });
});

after(() => {
  server.stop();
  rmSync(files, { recursive: true, force: true });
});

test('curl: GET, HEAD, HTTP/1.0, and a small POST delivered whole', async () => {
  const get = await curl(['-i', server.url + '/hello']);
  assert.equal(get.code, 0, get.stderr);
  assert.match(get.stdout, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(get.stdout, /Content-Length: 10\r\n/);
  assert.ok(get.stdout.endsWith('\r\n\r\nhello GET\n'));

  const head = await curl(['-I', server.url + '/hello']);
  assert.match(head.stdout, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(head.stdout, /Content-Length: 11\r\n/); // what GET would have sent ("hello HEAD\n")

  const old = await curl(['-i', '--http1.0', server.url + '/hello']);
  assert.match(old.stdout, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(old.stdout, /Connection: close\r\n/);

  const post = await curl(['--data-binary', 'temperature=21.5', server.url + '/echo']);
  assert.equal(post.stdout, 'temperature=21.5');
});

test('curl: keep-alive carries several requests on one connection', async () => {
  const before = stats.accepts;
  const r = await curl(['-v', server.url + '/hello', server.url + '/item/7/part/b', server.url + '/hello']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'hello GET\n7/bhello GET\n');
  assert.match(r.stderr, /Re-using existing connection/);
  assert.equal(stats.accepts - before, 1);
});

test('curl: a chunked upload streams through the handler (Expect: 100-continue)', async () => {
  const body = Buffer.alloc(1024 * 1024 + 77);
  for (let i = 0; i < body.length; i++) body[i] = (i * 13) & 255;
  const dir = mkdtempSync(join(tmpdir(), 'ringnet-up-'));
  const f = join(dir, 'body.bin');
  writeFileSync(f, body);
  try {
    const chunked = await curl(['-H', 'Transfer-Encoding: chunked', '-H', 'Content-Type: application/octet-stream', '--data-binary', '@' + f, server.url + '/upload']);
    assert.equal(chunked.stdout, body.length + ' ' + createHash('sha256').update(body).digest('hex'));
    const length = await curl(['-v', '-H', 'Expect: 100-continue', '--data-binary', '@' + f, server.url + '/upload']);
    assert.equal(length.stdout, body.length + ' ' + createHash('sha256').update(body).digest('hex'));
    assert.match(length.stderr, /HTTP\/1\.1 100 Continue/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('undici: an upload mirrored back chunk by chunk through a 2 KB send ring (deferred chunks, no copies)', async () => {
  const body = Buffer.alloc(400 * 1024);
  for (let i = 0; i < body.length; i++) body[i] = (i * 29 + (i >> 8)) & 255;
  const r = await request(server.url + '/mirror', { method: 'POST', body });
  assert.equal(r.statusCode, 200);
  assert.ok(Buffer.from(await r.body.arrayBuffer()).equals(body));
  // a whole body (2 KB buffer limit, 2 KB send ring) answered with itself, by reference
  const small = Buffer.alloc(2000, 0x42);
  const back = await request(server.url + '/reflect', { method: 'POST', body: small });
  assert.ok(Buffer.from(await back.body.arrayBuffer()).equals(small));
});

test('curl: a long chunked response written as the 2 KB send ring drains', async () => {
  const r = await curl(['-i', server.url + '/stream?n=3000']);
  assert.match(r.stdout, /Transfer-Encoding: chunked\r\n/);
  let want = '';
  for (let i = 0; i < 3000; i++) want += streamLine(i);
  assert.equal(r.stdout.substring(r.stdout.indexOf('\r\n\r\n') + 4), want);
});

test('curl: a body over the buffer limit that the handler does not stream is 413', async () => {
  const r = await curl(['-i', '--data-binary', 'x'.repeat(5000), server.url + '/echo']);
  assert.match(r.stdout, /^HTTP\/1\.1 413 /);
});

test('static files: content types, index, gzip variants, HEAD, 404, no way out of the root', async () => {
  const index = await curl(['-i', server.url + '/files/']);
  assert.match(index.stdout, /Content-Type: text\/html; charset=utf-8\r\n/);
  assert.match(index.stdout, /Cache-Control: max-age=60\r\n/);
  assert.ok(index.stdout.endsWith('<h1>device</h1>\n'));

  const css = await curl(['-i', server.url + '/files/css/app.css']);
  assert.match(css.stdout, /Content-Type: text\/css/);

  const png = await curl(['-s', '-o', '-', '-w', '%{content_type}', server.url + '/files/logo.png']);
  assert.ok(png.stdout.endsWith('image/png'));

  const gz = await curl(['-i', '-H', 'Accept-Encoding: gzip', server.url + '/files/app.js']);
  assert.match(gz.stdout, /Content-Encoding: gzip\r\n/);
  assert.match(gz.stdout, /Vary: Accept-Encoding\r\n/);
  const gzBody = Buffer.from(gz.stdout.substring(gz.stdout.indexOf('\r\n\r\n') + 4), 'latin1');
  assert.equal(gunzipSync(gzBody).toString(), 'console.log("gzipped");\n');

  const compressed = await curl(['--compressed', server.url + '/files/app.js']);
  assert.equal(compressed.stdout, 'console.log("gzipped");\n');

  const plain = await curl(['-i', '-H', 'Accept-Encoding: identity', server.url + '/files/app.js']);
  assert.doesNotMatch(plain.stdout, /Content-Encoding/);
  assert.ok(plain.stdout.endsWith('console.log("plain");\n'));

  const onlyGz = await curl(['--compressed', server.url + '/files/only.json']);
  assert.equal(onlyGz.stdout, '{"only":"gz"}');
  const refused = await curl(['-i', '-H', 'Accept-Encoding: identity', server.url + '/files/only.json']);
  assert.match(refused.stdout, /^HTTP\/1\.1 406 /);

  const head = await curl(['-I', server.url + '/files/big.bin']);
  assert.match(head.stdout, new RegExp('Content-Length: ' + big.length + '\\r\\n'));
  assert.match(head.stdout, /Content-Type: application\/octet-stream/);

  assert.match((await curl(['-i', server.url + '/files/nope.txt'])).stdout, /^HTTP\/1\.1 404 /);
  // curl would normalise "..": send the raw request line
  const escape = await raw(server.port, 'GET /files/../secret.txt HTTP/1.1\r\nHost: x\r\n\r\n', { done: (d) => d.indexOf('\r\n\r\n') > 0 });
  assert.match(escape.data, /^HTTP\/1\.1 400 /);
  const encoded = await raw(server.port, 'GET /files/%2e%2e/secret.txt HTTP/1.1\r\nHost: x\r\n\r\n', { done: (d) => d.indexOf('\r\n\r\n') > 0 });
  assert.match(encoded.data, /^HTTP\/1\.1 400 /);
});

test('static files: 300 KB through a 2 KB send ring arrives byte for byte (curl and undici)', async () => {
  const r = await curl(['-s', '-o', '-', server.url + '/files/big.bin']);
  assert.ok(Buffer.from(r.stdout, 'latin1').equals(big));
  const u = await request(server.url + '/files/big.bin');
  assert.equal(u.statusCode, 200);
  assert.ok(Buffer.from(await u.body.arrayBuffer()).equals(big));
});

test('router: 404 for unknown paths, 405 with Allow for a wrong method, path parameters', async () => {
  assert.match((await curl(['-i', server.url + '/nothing'])).stdout, /^HTTP\/1\.1 404 /);
  const wrong = await curl(['-i', '-X', 'DELETE', server.url + '/hello']);
  assert.match(wrong.stdout, /^HTTP\/1\.1 405 /);
  assert.match(wrong.stdout, /Allow: GET\r\n/);
  assert.equal((await curl([server.url + '/item/abc/part/9'])).stdout, 'abc/9');
});

test('basic auth: 401 with a challenge, then accepted credentials', async () => {
  const none = await curl(['-i', server.url + '/admin']);
  assert.match(none.stdout, /^HTTP\/1\.1 401 /);
  assert.match(none.stdout, /WWW-Authenticate: Basic realm="ringnet test", charset="UTF-8"\r\n/);
  const bad = await curl(['-i', '-u', 'admin:wrong', server.url + '/admin']);
  assert.match(bad.stdout, /^HTTP\/1\.1 401 /);
  const good = await curl(['-u', 'admin:s3cret:x', server.url + '/admin']);
  assert.equal(good.stdout, 'welcome admin\n');
});

test('undici: keep-alive pool, pipelining in order, headers case-insensitive', async () => {
  const client = new Client(server.url, { pipelining: 4 });
  try {
    const before = stats.accepts;
    const paths = ['/slow/60', '/hello', '/slow/10', '/item/1/part/2', '/hello'];
    const replies = await Promise.all(paths.map((p) => client.request({ path: p, method: 'GET' }).then((r) => r.body.text())));
    assert.deepEqual(replies, ['slow /slow/60\n', 'hello GET\n', 'slow /slow/10\n', '1/2', 'hello GET\n']);
    assert.equal(stats.accepts - before, 1);
    const h = await client.request({ path: '/headers?x=1', method: 'GET', headers: { 'X-MiXeD-CaSe': 'v' } });
    const json = (await h.body.json()) as { headers: { [k: string]: string }; query: string };
    assert.equal(json.headers['x-mixed-case'], 'v');
    assert.equal(json.query, 'x=1');
  } finally {
    await client.close();
  }
});

test('undici: a streamed upload (chunked) and a streamed download', async () => {
  const parts: Buffer[] = [];
  for (let i = 0; i < 50; i++) parts.push(Buffer.alloc(4000 + i, i));
  const whole = Buffer.concat(parts);
  async function* gen() {
    for (const p of parts) yield p;
  }
  const up = await request(server.url + '/upload', { method: 'POST', body: Readable.from(gen()) });
  assert.equal(await up.body.text(), whole.length + ' ' + createHash('sha256').update(whole).digest('hex'));
  const down = await request(server.url + '/stream?n=500');
  let want = '';
  for (let i = 0; i < 500; i++) want += streamLine(i);
  assert.equal(await down.body.text(), want);
});

test('TLS: https with a certificate made by openssl, checked by curl and undici', async () => {
  let cert: Cert | null = null;
  let tlsServer: Served | null = null;
  try {
    cert = await makeCert();
    const tstats: AppStats = { accepts: 0, requests: [] };
    tlsServer = await serve((mgr) => makeApp(mgr, null, tstats), { scheme: 'https', tls: { cert: cert.cert, key: cert.key } });
    const r = await curl(['--cacert', cert.certFile, tlsServer.url + '/hello', tlsServer.url + '/stream?n=200']);
    assert.equal(r.code, 0, r.stderr);
    let want = 'hello GET\n';
    for (let i = 0; i < 200; i++) want += streamLine(i);
    assert.equal(r.stdout, want);
    const unverified = await curl([tlsServer.url + '/hello']);
    assert.notEqual(unverified.code, 0); // curl refuses an unknown CA: the certificate is really checked
    const agent = new Agent({ connect: { ca: cert.cert } });
    const u = await request(tlsServer.url + '/echo', { method: 'POST', body: 'over tls', dispatcher: agent });
    assert.equal(await u.body.text(), 'over tls');
    await agent.close();
  } finally {
    if (tlsServer) tlsServer.stop();
    if (cert) cert.remove();
  }
});
