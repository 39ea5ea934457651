/** The outbox stores: the Node file store and the Espruino Storage store (against a StorageFile stand-in with flash rules). */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeFileStore } from '../src/drivers/node-store.js';
import { EspruinoStore } from '../src/drivers/espruino-store.js';
import type { StorageFileLike, StorageLike } from '../src/drivers/espruino-store.js';
import { PacketType } from '../src/protocols/mqtt/codec.js';
import type { QoS } from '../src/protocols/mqtt/codec.js';
import { Field, Outbox } from '../src/protocols/mqtt/outbox.js';
import { journal } from '../src/protocols/mqtt/store.js';
import type { AppendLog } from '../src/core/append-log.js';
import type { OutboxOptions } from '../src/protocols/mqtt/outbox.js';

const dir = mkdtempSync(join(tmpdir(), 'ringnet-store-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function entries(store: AppendLog): number[][] {
  const out: number[][] = [];
  store.load((b) => out.push(Array.from(b)));
  return out;
}

/** An outbox restored from, and journaling to, `store`. */
function stored(o: OutboxOptions & { store: AppendLog; compactFactor?: number }): Outbox {
  const ob = new Outbox(o);
  ob.journal = journal(ob, o.store, o.compactFactor);
  return ob;
}

function liveIds(ob: Outbox): number[] {
  const ids: number[] = [];
  ob.scan((at) => {
    if (!(ob.buf[at] & 1)) ids.push(ob.info(at, Field.ID));
    return false;
  });
  return ids;
}

/** Runs `n` QoS 1/2 messages through an outbox; every third stays unacknowledged. Returns the ids left. */
function traffic(ob: Outbox, n: number, firstId: number): void {
  for (let i = 0; i < n; i++) {
    const at = ob.add({ type: PacketType.PUBLISH, topic: 'm/' + i, payload: 'v' + i, qos: (1 + (i % 2)) as QoS, retain: false, dup: false, id: firstId + i });
    if (i % 3 !== 0) ob.finish(at);
    else if (i % 2) ob.release(at);
  }
}

test('file store: entries come back after a restart; a torn last entry is cut off and appends go on', () => {
  const path = join(dir, 'a.log');
  const s1 = new NodeFileStore(path);
  s1.append(Uint8Array.from([0, 1, 2]));
  s1.append(Uint8Array.from([1, 0, 7]));
  s1.close();
  appendFileSync(path, Buffer.from([0, 0, 0, 9, 1, 2])); // the process died 2 bytes into a 9-byte entry
  const s2 = new NodeFileStore(path);
  assert.deepEqual(entries(s2), [
    [0, 1, 2],
    [1, 0, 7],
  ]);
  s2.append(Uint8Array.from([2, 0, 8]));
  s2.close();
  assert.deepEqual(entries(new NodeFileStore(path)), [
    [0, 1, 2],
    [1, 0, 7],
    [2, 0, 8],
  ]);
});

test('file store: an outbox restarts from it, and compaction keeps the file bounded', () => {
  const path = join(dir, 'b.log');
  const store = new NodeFileStore(path);
  const ob = stored({ bytes: 2000, count: 500, store, compactFactor: 2 });
  traffic(ob, 3000, 1);
  store.close();
  assert.ok(statSync(path).size < 3 * 2000 + 3000, 'file size ' + statSync(path).size);
  const again = stored({ bytes: 2000, count: 500, store: new NodeFileStore(path) });
  assert.deepEqual(liveIds(again), liveIds(ob));
  assert.ok(liveIds(again).length > 0);
  assert.throws(() => readFileSync(path + '.tmp'), 'no temporary file left behind');
});

/** Espruino's StorageFile, as far as the store uses it, with flash's rules: append only, no 0xFF, erase to reuse. */
class FakeFlash implements StorageLike {
  files: { [name: string]: string } = {};
  erases = 0;
  bytesWritten = 0;
  /** Throw on the write after this many (a reset mid-write). */
  failAfter = -1;

  open(name: string, mode: string): StorageFileLike {
    const flash = this;
    let pos = 0;
    return {
      write(data: string) {
        assert.equal(mode, 'a');
        assert.equal(data.indexOf('\xff'), -1, 'StorageFile cannot hold 0xFF');
        if (flash.failAfter === 0) throw new Error('reset');
        if (flash.failAfter > 0) flash.failAfter--;
        flash.files[name] = (flash.files[name] || '') + data;
        flash.bytesWritten += data.length;
      },
      readLine() {
        const all = flash.files[name] || '';
        if (pos >= all.length) return undefined;
        const nl = all.indexOf('\n', pos);
        const end = nl < 0 ? all.length : nl + 1;
        const line = all.substring(pos, end);
        pos = end;
        return line;
      },
      erase() {
        if (flash.files[name] !== undefined) flash.erases++;
        delete flash.files[name];
      },
    };
  }
}

test('Espruino store: an outbox restarts from flash with every unfinished message and its PUBREC state', () => {
  const flash = new FakeFlash();
  const ob = stored({ bytes: 1000, count: 100, store: new EspruinoStore(flash, 'mqob') });
  traffic(ob, 60, 500);
  const again = stored({ bytes: 1000, count: 100, store: new EspruinoStore(flash, 'mqob') });
  assert.deepEqual(liveIds(again), liveIds(ob));
  const released: number[] = [];
  again.scan((at) => {
    if (!(again.buf[at] & 1) && again.info(at, Field.RELEASED) === 1) released.push(again.info(at, Field.ID));
    return false;
  });
  assert.deepEqual(released, liveIds(ob).filter((id) => (id - 500) % 2 === 1));
});

test('Espruino store: flash is erased once per compaction, never per message, and stays bounded', () => {
  const flash = new FakeFlash();
  const ob = stored({ bytes: 500, count: 50, store: new EspruinoStore(flash, 'mqob'), compactFactor: 4 });
  traffic(ob, 5000, 1);
  const inUse = Object.keys(flash.files).reduce((n, k) => n + flash.files[k].length, 0);
  assert.ok(flash.erases < 5000 / 20, 'erases: ' + flash.erases);
  assert.ok(flash.erases > 5, 'compactions happened: ' + flash.erases);
  assert.ok(inUse < 4 * 500 * 1.5 + 1000, 'flash in use: ' + inUse);
  assert.equal(Object.keys(flash.files).length, 1, 'one live file');
  const again = stored({ bytes: 500, count: 50, store: new EspruinoStore(flash, 'mqob') });
  assert.deepEqual(liveIds(again), liveIds(ob));
});

test('Espruino store: a reset in the middle of a compaction leaves the previous log in charge', () => {
  const flash = new FakeFlash();
  const store = new EspruinoStore(flash, 'mqob');
  const ob = stored({ bytes: 400, count: 50, store });
  traffic(ob, 20, 1);
  const before = liveIds(ob);
  flash.failAfter = 3; // the compaction's new file gets its header and two entries, then the power goes
  assert.throws(() => store.rewrite((append) => ob.scan((at) => (append(ob.buf.subarray(at, at + ob.info(at, Field.SIZE))), false))));
  flash.failAfter = -1;
  const again = stored({ bytes: 400, count: 50, store: new EspruinoStore(flash, 'mqob') });
  assert.deepEqual(liveIds(again), before);
  assert.equal(Object.keys(flash.files).length, 1, 'the unfinished file was erased at load');
});
