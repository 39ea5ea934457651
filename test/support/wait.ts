/** Waiting in tests: sleeping, polling a condition, and loopback ports. */
import * as dgram from 'node:dgram';
import * as net from 'node:net';

// The CLI needs it too (its broker goes on a free port), so it lives there.
export { freePort } from '../../src/cli/mosquitto.js';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves once `done()` holds, polling every `everyMs`; rejects after `maxMs`, naming `what`. */
export async function until(done: () => boolean | Promise<boolean>, maxMs = 5000, what = 'a condition', everyMs = 2): Promise<void> {
  const end = Date.now() + maxMs;
  while (!(await done())) {
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await sleep(everyMs);
  }
}

/** Whether nothing listens on `port` (on every address), found by listening there a moment. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '0.0.0.0', () => s.close(() => resolve(true)));
  });
}

/** A loopback UDP port nothing is bound to right now. */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}
