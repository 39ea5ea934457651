/**
 * A Ring whose storage counts the bytes written into it one index at a time:
 * what a codec moves, unmasks or rotates in place. Bulk writes through typed
 * array methods (`set`, as `Ring.write` does when bytes arrive) are not
 * counted, so the count is the codec's own work on bytes it already holds.
 *
 * Once the count passes `budget` a write throws: a quadratic path fails at
 * once instead of running for minutes behind the proxy.
 */
import { Ring } from '../../src/core/ring.js';

export interface CountingRing {
  ring: Ring;
  /** Bytes written into the storage by index so far. */
  writes(): number;
}

export function countingRing(capacity: number, budget: number): CountingRing {
  const store = new Uint8Array(capacity);
  let writes = 0;
  const bytes = new Proxy(store, {
    get(t, k) {
      const v = Reflect.get(t, k);
      return typeof v === 'function' ? v.bind(t) : v;
    },
    set(t, k, v) {
      if (++writes > budget) throw new Error('more than ' + budget + ' bytes moved inside the ring');
      return Reflect.set(t, k, v);
    },
  });
  return { ring: new Ring(bytes), writes: () => writes };
}
