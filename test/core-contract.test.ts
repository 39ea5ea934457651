/**
 * The event contract (docs/design.md), run unchanged on the Node driver (real
 * loopback sockets) and on the simulator.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Flag, USER_FLAGS } from '../src/core/connection.js';
import type { Connection, Protocol } from '../src/core/connection.js';
import { ErrorCode, Ev } from '../src/core/events.js';
import { Manager } from '../src/core/manager.js';
import { parseAddress } from '../src/core/address.js';
import { NodeDriver } from '../src/drivers/node.js';
import { worlds } from './support/worlds.js';
import type { World } from './support/worlds.js';
import { Trace, drain, watchPolls } from './support/trace.js';
import { until } from './support/wait.js';

/** A port nothing listens on: bind one, then close it. */
function deadPort(w: World): number {
  const probe = w.server.listen('tcp://127.0.0.1:0', () => {}) as Connection;
  const port = probe.remote.port;
  probe.close();
  w.server.poll();
  return port;
}

for (const { name, make } of worlds) {
  describe('event contract on ' + name, () => {
    test('outbound CONNECT → … → CLOSE and inbound ACCEPT → … → CLOSE, with payloads', async () => {
      const w = make();
      try {
        const st = new Trace(w.server);
        const ct = new Trace(w.client);
        let serverGot = '';
        const listener = w.server.listen(
          'tcp://0.0.0.0:0',
          st.handler((c, ev) => {
            if (ev === Ev.RECV) {
              serverGot += drain(c);
              if (serverGot === 'hello') {
                c.send('world!');
                c.end();
              }
            }
          }),
        ) as Connection;
        assert.ok(listener.flags & Flag.LISTENING);
        let clientGot = '';
        const c = w.client.connect(
          'tcp://' + w.serverHost + ':' + listener.remote.port,
          ct.handler((c2, ev, data) => {
            if (ev === Ev.CONNECT && data === 0) c2.send('hello');
            if (ev === Ev.RECV) clientGot += drain(c2);
          }),
        ) as Connection;
        assert.ok(c.flags & Flag.CONNECTING, 'CONNECTING until CONNECT');
        await w.until(() => ct.of(c.id, 'CLOSE').length === 1, 5000, 'client CLOSE');
        await w.until(() => st.conns().length === 2 && st.of(st.conns()[1], 'CLOSE').length === 1, 5000, 'server CLOSE');
        assert.equal(clientGot, 'world!');
        assert.equal(serverGot, 'hello');
        assert.equal(c.flags & Flag.CONNECTING, 0);

        const out = ct.names(c.id);
        assert.equal(out[0], 'CONNECT');
        assert.equal(ct.of(c.id, 'CONNECT')[0].data, 0);
        assert.equal(out[out.length - 1], 'CLOSE');
        assert.equal(out.filter((e) => e === 'CLOSE').length, 1);
        for (const e of out.slice(1, -1)) assert.ok(['RECV', 'SEND', 'TIMER'].indexOf(e) >= 0, 'unexpected ' + e);
        const recvd = ct.of(c.id, 'RECV').reduce((n, e) => n + (e.data as number), 0);
        assert.equal(recvd, 6, 'RECV counts add up to the bytes received');
        const sent = ct.of(c.id, 'SEND').reduce((n, e) => n + (e.data as number), 0);
        assert.equal(sent, 5, 'SEND counts add up to the bytes flushed');

        const inbound = st.conns()[1];
        const seen = st.names(inbound);
        assert.equal(seen[0], 'ACCEPT');
        const remote = st.of(inbound, 'ACCEPT')[0].data as { host: string; port: number };
        assert.ok(remote.host.length > 0 && remote.port > 0, 'ACCEPT carries the peer address');
        assert.equal(seen[seen.length - 1], 'CLOSE');
        assert.equal(seen.filter((e) => e === 'CLOSE').length, 1);
        assert.equal(st.outsidePoll + ct.outsidePoll, 0, 'no handler ran outside poll()');
      } finally {
        w.close();
      }
    });

    test('POLL reaches every open connection once per poll, TIMER fires once and cancels, timers repeat and cancel', async () => {
      const w = make({ client: { pollMs: 10 } });
      try {
        const ct = new Trace(w.client);
        const polls = watchPolls(w.client);
        const listener = w.server.listen('tcp://0.0.0.0:0', () => {}) as Connection;
        const pollIds: number[] = [];
        const c = w.client.connect(
          'tcp://' + w.serverHost + ':' + listener.remote.port,
          ct.handler((c2, ev) => {
            if (ev === Ev.CONNECT) c2.setTimer(50);
            if (ev === Ev.POLL) pollIds.push(polls.count());
          }),
        ) as Connection;
        // setTimer(-1) and clearTimer() cancel a pending TIMER.
        const cancelled = [-1, 0].map((how) =>
          w.client.connect(
            'tcp://' + w.serverHost + ':' + listener.remote.port,
            ct.handler((c2, ev) => {
              if (ev !== Ev.CONNECT) return;
              c2.setTimer(20);
              if (how < 0) c2.setTimer(-1);
              else c2.clearTimer();
            }),
          ) as Connection,
        );
        let ticks = 0;
        let once = 0;
        const t = w.client.timer(10, () => {
          if (++ticks === 3) t.cancel();
        }, true);
        w.client.timer(5, () => once++, false);
        const given: string[] = [];
        w.client.timer(5, (who: string) => given.push(who), false, 'an owner'); // one function can serve many owners
        const never = w.client.timer(20, () => assert.fail('a cancelled timer ran'), false);
        never.cancel();
        await w.until(() => ct.of(c.id, 'TIMER').length === 1 && ticks >= 3, 5000, 'TIMER');
        const opened = ct.of(c.id, 'CONNECT')[0].at;
        const fired = ct.of(c.id, 'TIMER')[0].at;
        assert.ok(fired - opened >= 49, 'TIMER no earlier than asked: ' + (fired - opened));
        await w.idle(80);
        assert.equal(ct.of(c.id, 'TIMER').length, 1, 'one-shot');
        for (const x of cancelled) {
          assert.equal(ct.of(x.id, 'CONNECT').length, 1);
          assert.equal(ct.of(x.id, 'TIMER').length, 0, 'a cancelled TIMER does not come');
        }
        assert.equal(ticks, 3, 'a cancelled repeating timer stops');
        assert.equal(once, 1);
        assert.deepEqual(given, ['an owner'], 'a timer function gets its arg');
        for (let i = 1; i < pollIds.length; i++) assert.equal(pollIds[i], pollIds[i - 1] + 1, 'one POLL per poll, none skipped');
        assert.ok(pollIds.length > 3);
      } finally {
        w.close();
      }
    });

    test('a throwing handler gets ERROR then CLOSE and the manager keeps serving', async () => {
      const w = make();
      try {
        const st = new Trace(w.server);
        const listener = w.server.listen(
          'tcp://0.0.0.0:0',
          st.handler((c, ev) => {
            if (ev === Ev.RECV) {
              const text = drain(c);
              if (text === 'boom') throw new Error('handler exploded');
              c.send('ok:' + text);
            }
          }),
        ) as Connection;
        const url = 'tcp://' + w.serverHost + ':' + listener.remote.port;
        let closed1 = false;
        w.client.connect(url, (c, ev) => {
          if (ev === Ev.CONNECT) c.send('boom');
          if (ev === Ev.CLOSE) closed1 = true;
        });
        await w.until(() => closed1, 5000, 'first client closed');
        const victim = st.conns()[1];
        const tail = st.names(victim).slice(-2);
        assert.deepEqual(tail, ['ERROR', 'CLOSE']);
        assert.deepEqual(st.of(victim, 'ERROR')[0].data, { code: ErrorCode.HANDLER, message: 'handler exploded' });
        let reply = '';
        w.client.connect(url, (c, ev) => {
          if (ev === Ev.CONNECT) c.send('again');
          if (ev === Ev.RECV) reply += drain(c);
        });
        await w.until(() => reply === 'ok:again', 5000, 'second client served');
        assert.equal(w.server.stats.handlerErrors, 1);
      } finally {
        w.close();
      }
    });

    test('a refused connect is CONNECT(REFUSED) then CLOSE, nothing else', async () => {
      const w = make();
      try {
        const port = deadPort(w);
        const ct = new Trace(w.client);
        const c = w.client.connect('tcp://' + w.serverHost + ':' + port, ct.handler()) as Connection;
        await w.until(() => ct.of(c.id, 'CLOSE').length === 1, 5000, 'CLOSE');
        assert.deepEqual(ct.names(c.id, true), ['CONNECT', 'CLOSE']);
        assert.equal(ct.of(c.id, 'CONNECT')[0].data, ErrorCode.REFUSED);
        assert.equal(c.send('late'), false, 'sending on a closed connection is false, not a throw');
      } finally {
        w.close();
      }
    });

    test('a port already in use: the second listener gets ERROR then CLOSE, the first keeps working', async () => {
      const w = make();
      try {
        const first = w.server.listen('tcp://0.0.0.0:0', (c, ev) => {
          if (ev === Ev.RECV) c.send(drain(c));
        }) as Connection;
        const lt = new Trace(w.server);
        const second = w.server.listen('tcp://0.0.0.0:' + first.remote.port, lt.handler()) as Connection;
        await w.until(() => lt.of(second.id, 'CLOSE').length === 1, 5000, 'second listener closed');
        assert.deepEqual(lt.names(second.id), ['ERROR', 'CLOSE']);
        let echoed = '';
        w.client.connect('tcp://' + w.serverHost + ':' + first.remote.port, (c, ev) => {
          if (ev === Ev.CONNECT) c.send('still here');
          if (ev === Ev.RECV) echoed += drain(c);
        });
        await w.until(() => echoed === 'still here', 5000, 'echo');
      } finally {
        w.close();
      }
    });

    test('pool exhaustion: the extra inbound connection is refused and counted; connect returns null', async () => {
      const w = make({ server: { pools: { default: { conns: 2, recvBytes: 256, sendBytes: 256 } } }, client: { pools: { default: { conns: 3, recvBytes: 256, sendBytes: 256 } } } });
      try {
        const listener = w.server.listen('tcp://0.0.0.0:0', (c, ev) => {
          if (ev === Ev.RECV) c.send(drain(c));
        }) as Connection;
        const url = 'tcp://' + w.serverHost + ':' + listener.remote.port;
        const ct = new Trace(w.client);
        const a = w.client.connect(url, ct.handler()) as Connection;
        await w.until(() => ct.of(a.id, 'CONNECT').length === 1);
        const b = w.client.connect(url, ct.handler()) as Connection;
        await w.until(() => ct.of(b.id, 'CONNECT').length === 1);
        await w.idle(20);
        const c = w.client.connect(url, ct.handler()) as Connection;
        await w.until(() => ct.of(c.id, 'CLOSE').length === 1, 5000, 'the third is closed by the server');
        assert.equal(w.server.stats.refused, 1);
        assert.equal(w.server.freeSlots(), 0);
        assert.ok(w.client.connect(url, () => {}), 'the closed connection gave its slot back');
        assert.equal(w.client.connect(url, () => {}), null, 'the client pool is full too');
        assert.equal(w.client.stats.refused, 1);
        // The two admitted connections still work.
        let got = '';
        a.handler = (c2, ev) => {
          if (ev === Ev.RECV) got += drain(c2);
        };
        a.send('ping');
        await w.until(() => got === 'ping', 5000, 'echo on an admitted connection');
      } finally {
        w.close();
      }
    });

    test('flags: end() flushes then closes, close() drops, user bits are left alone', async () => {
      const w = make({ client: { pools: { default: { conns: 4, recvBytes: 1024, sendBytes: 8192 } } } });
      try {
        let received = 0;
        let serverClosed = false;
        const listener = w.server.listen('tcp://0.0.0.0:0', (c, ev, data) => {
          if (ev === Ev.RECV) {
            received += data;
            c.recv.discard(data);
          }
          if (ev === Ev.CLOSE) serverClosed = true;
        }) as Connection;
        const ct = new Trace(w.client);
        const payload = new Uint8Array(8000).fill(7);
        const c = w.client.connect(
          'tcp://' + w.serverHost + ':' + listener.remote.port,
          ct.handler((c2, ev) => {
            if (ev === Ev.CONNECT) {
              c2.flags |= 0x10000;
              assert.ok(c2.send(payload));
              c2.end();
              assert.ok(c2.flags & Flag.SEND_AND_CLOSE);
              assert.equal(c2.send('x'), false, 'nothing more is accepted once closing');
            }
          }),
        ) as Connection;
        await w.until(() => serverClosed, 5000, 'server sees the close');
        assert.equal(received, 8000, 'end() delivered every queued byte first');
        assert.equal(c.flags & USER_FLAGS, 0x10000, 'user bits untouched');
        // close(): CLOSE comes at the next poll and no SEND follows it.
        const d = w.client.connect('tcp://' + w.serverHost + ':' + listener.remote.port, ct.handler((c2, ev) => {
          if (ev === Ev.CONNECT) {
            c2.send(payload);
            c2.close();
          }
        })) as Connection;
        await w.until(() => ct.of(d.id, 'CLOSE').length === 1, 5000, 'close()');
        assert.deepEqual(ct.names(d.id), ['CONNECT', 'CLOSE']);
        // A protocol that writes its framing into `unsent` itself gets it out with send() and no argument.
        received = 0;
        const e = w.client.connect('tcp://' + w.serverHost + ':' + listener.remote.port, ct.handler((c2, ev) => {
          if (ev === Ev.CONNECT) {
            assert.equal(c2.send(), false, 'nothing waits yet');
            c2.unsent.writeString('framed by hand');
            assert.ok(c2.send());
          }
          if (ev === Ev.SEND) c2.end();
        })) as Connection;
        await w.until(() => received === 'framed by hand'.length && ct.of(e.id, 'CLOSE').length === 1, 5000, 'the hand-framed bytes sent, then closed');
        assert.ok(ct.names(e.id).indexOf('SEND') > 0);
      } finally {
        w.close();
      }
    });

    test('UDP: each datagram is one RECV, never merged; an oversized one is dropped and counted', async () => {
      const w = make({ server: { pools: { default: { conns: 2, recvBytes: 100, sendBytes: 256 } } } });
      try {
        const got: string[] = [];
        const port = await w.freeUdpPort();
        const server = w.server.listen('udp://0.0.0.0:' + port, (c, ev, data) => {
          if (ev === Ev.RECV) {
            const text = c.recv.toBinaryString();
            assert.equal(text.length, data);
            got.push(text);
            c.send('re:' + text); // to the sender of this datagram
          }
        }) as Connection;
        assert.ok(server.flags & Flag.UDP);
        const replies: string[] = [];
        const c = w.client.connect('udp://' + w.serverHost + ':' + port, (c2, ev) => {
          if (ev === Ev.CONNECT) {
            assert.ok(c2.send('one'));
            assert.ok(c2.send('two'));
            assert.ok(c2.send(), 'send() with nothing queued after datagrams says bytes wait');
            c2.send(); // asks for a poll and queues no (empty) datagram
            assert.ok(c2.send('x'.repeat(150))); // larger than the server's 100-byte ring
            assert.ok(c2.send('three'));
          }
          if (ev === Ev.RECV) replies.push(drain(c2));
        }) as Connection;
        assert.ok(c.flags & Flag.UDP);
        await w.until(() => got.length === 3 && replies.length === 3, 5000, 'datagrams');
        assert.deepEqual(got, ['one', 'two', 'three']);
        assert.deepEqual(replies, ['re:one', 're:two', 're:three']);
        await w.until(() => w.server.stats.datagramsDropped === 1, 2000, 'the drop counted');
      } finally {
        w.close();
      }
    });
  });
}

describe('addresses', () => {
  test('listen and connect reject bad addresses with an Error that names them', () => {
    const mgr = new Manager(new NodeDriver());
    for (const bad of ['tcp://host', 'tcp://h:99999', 'tcp://h:12x', 'ftp://h:1', 'tcp://a:b:1', '[::1', 'tcp://ho st:1']) {
      assert.throws(() => mgr.connect(bad, () => {}), (e: Error) => e.message.indexOf('"' + bad + '"') >= 0, bad);
    }
    assert.throws(() => mgr.listen('http://0.0.0.0:80', () => {}), /http/);
  });

  test('parseAddress: each form parses, and each failure says why', () => {
    const ports = { mqtt: 1883 };
    assert.deepEqual(parseAddress('mqtt://broker.local/x', '127.0.0.1', ports), { scheme: 'mqtt', host: 'broker.local', port: 1883, path: '/x' });
    assert.deepEqual(parseAddress('TCP://[::1]:80', 'h'), { scheme: 'tcp', host: '::1', port: 80, path: '/' });
    assert.deepEqual(parseAddress(':8000', '0.0.0.0'), { scheme: 'tcp', host: '0.0.0.0', port: 8000, path: '/' });
    assert.deepEqual(parseAddress('8000', '0.0.0.0'), { scheme: 'tcp', host: '0.0.0.0', port: 8000, path: '/' });
    assert.deepEqual(parseAddress('[fe80::1]', 'h', { tcp: 7 }), { scheme: 'tcp', host: 'fe80::1', port: 7, path: '/' });
    const why: [string, string][] = [
      ['://h:1', 'empty scheme'],
      ['tcp://[::1:80', 'unclosed ['],
      ['tcp://[::1]80', 'expected ":" after ]'],
      ['tcp://a:b:1', 'IPv6 hosts go in brackets'],
      ['tcp://host', 'no port'],
      ['tcp://h:12x', 'port is not a number'],
      ['tcp://h:65536', 'port out of range'],
      ['tcp://ho st:1', 'bad character in host'],
      ['tcp://a@b:1', 'bad character in host'],
    ];
    for (const [url, reason] of why) assert.throws(() => parseAddress(url, 'h'), { message: 'bad address "' + url + '": ' + reason }, url);
  });
});

describe('protocol layers', () => {
  test('a protocol given with its state to connect/listen sees every event before the handler, and its state as typed', async () => {
    const mgr = new Manager(new NodeDriver());
    mgr.run();
    try {
      const seen: string[] = [];
      interface Counter {
        events: number;
        name: string;
      }
      const counting: Protocol<Counter> = (c, ev) => {
        c.protocolState.events++; // typed: no cast
        if (ev === Ev.ACCEPT || ev === Ev.CONNECT || ev === Ev.CLOSE) seen.push(c.protocolState.name + ':' + Ev[ev]);
      };
      const server: Counter = { events: 0, name: 'listener' };
      const client: Counter = { events: 0, name: 'client' };
      const listener = mgr.listen('tcp://127.0.0.1:0', null, { protocol: counting, state: server }) as Connection;
      const c = mgr.connect('tcp://127.0.0.1:' + listener.remote.port, (c2, ev) => {
        if (ev === Ev.CONNECT || ev === Ev.CLOSE) seen.push('handler:' + Ev[ev]);
        if (ev === Ev.CONNECT) c2.close();
      }, { protocol: counting, state: client }) as Connection;
      await until(() => seen.indexOf('handler:CLOSE') >= 0, 5000, 'the client closed');
      assert.deepEqual(seen.filter((s) => s.indexOf('client') === 0 || s.indexOf('handler') === 0), ['client:CONNECT', 'handler:CONNECT', 'client:CLOSE', 'handler:CLOSE']);
      assert.ok(client.events >= 2, 'the protocol counted ' + client.events + ' events');
      assert.equal(c.protocolState, undefined, 'a released connection lets go of its protocol state');
      // A state of another type than the protocol's does not compile (checked by tsc; never run).
      const mismatched = () =>
        // @ts-expect-error: 'not a counter' is not a Counter
        mgr.connect('tcp://127.0.0.1:1', null, { protocol: counting, state: 'not a counter' });
      assert.equal(typeof mismatched, 'function');
    } finally {
      mgr.shutdown();
    }
  });
});
