/**
 * The Espruino sandbox reproduces what was measured on the real interpreter
 * (2v29); each test pins one behaviour, so a driver that relies on Node's
 * behaviour instead fails here, in CI, without the interpreter.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EspruinoSandbox } from '../src/cli/sandbox.js';
import { indexOfText } from '../src/core/text.js';

function run(code: string, opts?: { chunkBytes?: number; wifi?: boolean }): EspruinoSandbox {
  const sb = new EspruinoSandbox({ chunkBytes: (opts && opts.chunkBytes) || 536, wifi: opts && opts.wifi });
  sb.load(code);
  return sb;
}

test('sandbox: only Espruino globals and built-ins', () => {
  const sb = run(
    'print([typeof Map, typeof Set, typeof WeakMap, typeof Symbol, typeof Proxy, typeof Reflect, typeof BigInt, typeof Buffer, typeof TextEncoder, typeof RangeError, typeof queueMicrotask, typeof setImmediate].join());' +
      'print([typeof Number.isInteger, typeof Math.imul, typeof Math.trunc, typeof Array.from, typeof Object.freeze, typeof Promise.race, typeof Promise.prototype.finally, typeof [].at, typeof [].keys, typeof "".trimStart, typeof Date.UTC, typeof ArrayBuffer.isView, typeof Uint8Array.from].join());' +
      'print([typeof E, typeof require, typeof getTime, typeof setTimeout, typeof Promise, typeof Object.assign, typeof [].includes, typeof "".padStart, typeof DataView, typeof InternalError].join());',
  );
  assert.deepEqual(sb.errors, []);
  assert.equal(sb.output[0], Array(12).fill('undefined').join());
  assert.equal(sb.output[1], Array(13).fill('undefined').join());
  assert.equal(sb.output[2], 'object,function,function,function,function,function,function,function,function,function');
});

test('sandbox: E converts between bytes and binary strings', () => {
  const sb = run('var s = E.toString(new Uint8Array([0, 255, 65]).subarray(1)); var u = E.toUint8Array("\\x00\\xffA"); print(s.length + " " + s.charCodeAt(0) + " " + u.length + " " + u[1] + " " + (u instanceof Uint8Array));');
  assert.deepEqual(sb.errors, []);
  assert.equal(sb.output[0], '2 255 3 255 true');
});

test('sandbox: typed-array set() copies a binary string, slice() returns an Array, apply() takes at most 256 arguments', () => {
  const sb = run(
    'var u = new Uint8Array(4); u.set("ab\\xff", 1); print(u.join());' +
      'print(Array.isArray(new Uint8Array(3).slice(1)));' +
      'var a = []; for (var i = 0; i < 300; i++) a.push(65);' +
      'try { String.fromCharCode.apply(null, a); print("no limit"); } catch (e) { print("limit"); }' +
      'print(String.fromCharCode.apply(null, a.slice(0, 256)).length);',
  );
  assert.deepEqual(sb.errors, []);
  assert.deepEqual(sb.output, ['0,97,98,255', 'true', 'limit', '256']);
});

test('sandbox: a regex built at run time with a feature Espruino never matches is reported', () => {
  const sb = run('var r = new RegExp("a{2}"); print(r.test("aa"));');
  assert.equal(sb.errors.length, 1);
  assert.match(sb.errors[0], /never match/);
});

test('sandbox: timers run on a virtual clock; a throwing interval is reported and removed', () => {
  const sb = run('var n = 0; var t0 = Date.now(); setInterval(function () { n++; if (n === 3) throw new Error("boom"); }, 10); setTimeout(function () { print(n + " " + (Date.now() - t0)); }, 100);');
  sb.runFor(200);
  assert.deepEqual(sb.output, ['3 100']);
  assert.equal(sb.errors.length, 2);
  assert.match(sb.errors[0], /boom/);
  assert.match(sb.errors[1], /interval removed/);
});

const SERVER =
  'var net = require("net"); var got = ""; var drains = 0; var sizes = []; var sock;' +
  'net.createServer(function (s) { sock = s;' +
  '  s.on("data", function (d) { sizes.push(d.length); got += d; });' +
  '  s.on("drain", function () { drains++; });' +
  '  s.on("close", function () { print("closed " + got.length); });' +
  '}).listen(8000);';

test('sandbox: data arrives as binary strings of at most one chunk, asynchronously', () => {
  const sb = run(SERVER + 'setTimeout(function () { print(sizes.join() + " " + typeof got + " " + got.charCodeAt(600)); }, 50);', { chunkBytes: 268 });
  sb.runFor(1);
  const peer = sb.connect(8000);
  assert.ok(peer);
  const bytes = new Uint8Array(700);
  bytes[600] = 200;
  peer.write(bytes);
  sb.runFor(60);
  assert.deepEqual(sb.errors, []);
  assert.equal(sb.output[0], '268,268,164 string 200');
});

test('sandbox: write() always returns false, takes strings, writes a typed array as its text, and drain follows the flush', () => {
  const sb = run(SERVER + 'setTimeout(function () { print(sock.write("ab\\xff") + " " + drains); sock.write(new Uint8Array([1, 2])); }, 10); setTimeout(function () { print("drains " + drains); }, 40);');
  sb.runFor(1);
  const peer = sb.connect(8000);
  sb.runFor(50);
  assert.deepEqual(sb.errors, []);
  assert.deepEqual(sb.output, ['false 0', 'drains 1']);
  assert.deepEqual(Array.from(peer!.received()), [97, 98, 255, 49, 44, 50]); // "1,2"
});

test('sandbox: a refused connect throws at once (an InternalError, not an Error)', () => {
  const sb = run('try { require("net").connect({ host: "127.0.0.1", port: 9 }); print("no throw"); } catch (e) { print(e.message + " " + (e instanceof Error) + " " + (e instanceof InternalError)); }');
  assert.deepEqual(sb.output.slice(-1), ['Unable to create socket false true']);
});

test('sandbox: a connect callback together with on("connect") is fatal, as the interpreter asserts', () => {
  const sb = run('var c = require("net").connect({ host: "127.0.0.1", port: 7000 }, function () {}); c.on("connect", function () {});', {});
  assert.equal(sb.fatalError, null); // nothing listens: the connect threw before
  const sb2 = new EspruinoSandbox({ chunkBytes: 536 });
  sb2.listen(7000, () => undefined);
  sb2.load('var c = require("net").connect({ host: "127.0.0.1", port: 7000 }, function () {}); c.on("connect", function () {});');
  assert.match(String(sb2.fatalError), /callback AND on\('connect'\)/);
});

test('sandbox: outbound connect reports connect once, then data flows both ways', () => {
  const sb = new EspruinoSandbox({ chunkBytes: 536 });
  sb.listen(7000, (peer) => {
    peer.onData = (d) => peer.write(d); // echo
  });
  sb.load('var c = require("net").connect({ host: "127.0.0.1", port: 7000 }); var got = "";' + 'c.on("connect", function () { print("connect"); c.write("hi"); }); c.on("data", function (d) { got += d; if (got === "hi") print("echoed"); });');
  sb.runFor(20);
  assert.deepEqual(sb.errors, []);
  assert.deepEqual(sb.output, ['connect', 'echoed']);
});

test('sandbox: the peer half-closing closes the whole socket and drops what the device had not sent', () => {
  const sb = run(SERVER + 'var pending = false;');
  sb.runFor(1);
  const peer = sb.connect(8000)!;
  peer.write('x');
  sb.runFor(5);
  sb.load('sock.write("reply");'); // queued on the device...
  peer.end(); // ...while the peer half-closes in the same loop pass
  sb.runFor(10);
  assert.equal(peer.closed, true);
  assert.ok(sb.output.indexOf('closed 1') >= 0);
  assert.equal(peer.receivedBytes, 0, 'the reply was dropped');
  sb.load('sock.write("late");');
  assert.match(sb.errors[sb.errors.length - 1], /This socket is closed/);
});

test('sandbox: dgram delivers string datagrams with the sender address', () => {
  const sb = run('var d = require("dgram").createSocket("udp4"); d.on("message", function (m, info) { print(m + " " + info.address + " " + info.size); d.send("re:" + m, info.port, info.address); }); d.bind(5000);');
  const u = sb.udpPeer(6000);
  u.send('ping', 5000);
  sb.runFor(10);
  assert.deepEqual(sb.output, ['ping 127.0.0.1 4']);
  assert.equal(Buffer.from(u.messages[0].data).toString(), 're:ping');
});

test('sandbox: no Wifi module unless asked for, as on the Linux build; Storage holds JSON', () => {
  const sb = new EspruinoSandbox({ chunkBytes: 536, storage: { 'a.json': '{"x":1}' } });
  sb.load('print(process.env.MODULES.split(",").indexOf("Wifi"), require("Storage").readJSON("a.json").x + " " + require("Storage").readJSON("none.json", true));');
  sb.runFor(1);
  assert.deepEqual(sb.output, ['-1 1 undefined']);
  sb.load('setTimeout(function () { try { require("Wifi"); } catch (e) { print(e.message); } }, 1);');
  sb.runFor(2);
  assert.deepEqual(sb.output.slice(1), ['Module "Wifi" not found']);
  assert.deepEqual(sb.errors, []);
});

test('sandbox: a require() that fails while the bundle boots is reported (its exception copies code into RAM)', () => {
  const sb = new EspruinoSandbox({ chunkBytes: 536 });
  sb.load('try { require("Wifi"); } catch (e) { print("caught"); }');
  assert.deepEqual(sb.output, ['caught']);
  assert.match(sb.errors.join('\n'), /require\("Wifi"\) of a missing module while the bundle boots/);
  const withWifi = new EspruinoSandbox({ chunkBytes: 536, wifi: true });
  withWifi.load('print(process.env.MODULES.split(",").indexOf("Wifi") >= 0, typeof require("Wifi").connect);');
  assert.deepEqual(withWifi.output, ['true function']);
  assert.deepEqual(withWifi.errors, []);
});

test('sandbox: String indexOf "finds" a needle whose start ends the string, as 2v29 does', () => {
  const sb = new EspruinoSandbox({ chunkBytes: 536 });
  sb.load('print("abc,".indexOf(",W"), "abcab".indexOf("abx", 1), "ab".indexOf("abc"), "a,b".indexOf(",b"), "abc".indexOf("x"), "xab".lastIndexOf("abc"));');
  assert.deepEqual(sb.output, ['3 3 -1 1 -1 -1']);
});

test('indexOfText gives whole matches only, on the sandbox\'s indexOf as on Node\'s', () => {
  const sb = new EspruinoSandbox({ chunkBytes: 536 });
  const cases = '[["abc,", ",W"], ["host:", "://"], ["a\\r", "\\r\\n"], ["a,b", ",b"], ["x://y:/", "://", 2], ["gzip;q", "q=", 4]]';
  sb.load('var f = ' + indexOfText.toString() + '; print(JSON.stringify(' + cases + '.map(function (c) { return f(c[0], c[1], c[2]); })));');
  assert.deepEqual(sb.output, ['[-1,-1,-1,1,-1,-1]']);
  assert.deepEqual([indexOfText('abc,', ',W'), indexOfText('a,b', ',b'), indexOfText('x://y', '://', 2)], [-1, 1, -1]);
});
