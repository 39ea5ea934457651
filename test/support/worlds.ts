/**
 * Runs the same test body on the Node driver (real loopback sockets) and on
 * the simulator (virtual clock): a World gives two managers and a way to wait.
 */
import { Manager } from '../../src/core/manager.js';
import type { ManagerOptions } from '../../src/core/manager.js';
import { NodeDriver } from '../../src/drivers/node.js';
import { SimNetwork } from '../../src/drivers/sim.js';
import type { SimHost, SimOptions } from '../../src/drivers/sim.js';
import { freeUdpPort, sleep, until } from './wait.js';

export interface World {
  readonly kind: 'node' | 'sim';
  readonly server: Manager;
  readonly client: Manager;
  /** Host part of a URL that reaches the server from the client. */
  readonly serverHost: string;
  /** Waits (real or simulated time) until `done()` holds; throws after `maxMs`. */
  until(done: () => boolean, maxMs?: number, what?: string): Promise<void>;
  /** Lets `ms` of (real or simulated) time pass. */
  idle(ms: number): Promise<void>;
  /** A UDP port free on the server host. */
  freeUdpPort(): Promise<number>;
  /** The simulator's hosts, or undefined on Node. */
  readonly sim?: { net: SimNetwork; server: SimHost; client: SimHost };
  close(): void;
}

export interface WorldOptions {
  server?: ManagerOptions;
  client?: ManagerOptions;
  sim?: SimOptions;
}

export function nodeWorld(opts?: WorldOptions): World {
  const o = opts || {};
  const server = new Manager(new NodeDriver(), o.server);
  const client = new Manager(new NodeDriver(), o.client);
  server.run();
  client.run();
  return {
    kind: 'node',
    server,
    client,
    serverHost: '127.0.0.1',
    until(done, maxMs, what) {
      return until(done, maxMs, what);
    },
    async idle(ms) {
      await sleep(ms);
    },
    freeUdpPort,
    close() {
      client.shutdown();
      server.shutdown();
    },
  };
}

export function simWorld(opts?: WorldOptions): World {
  const o = opts || {};
  const net = new SimNetwork(o.sim || { seed: 7 });
  const sh = net.host('server');
  const ch = net.host('client');
  const server = new Manager(sh, o.server);
  const client = new Manager(ch, o.client);
  server.run();
  client.run();
  return {
    kind: 'sim',
    server,
    client,
    serverHost: 'server',
    sim: { net, server: sh, client: ch },
    async until(done, maxMs, what) {
      if (!net.runWhile(done, maxMs || 60000)) throw new Error('timed out waiting for ' + (what || 'a condition') + ' (simulated)');
    },
    async idle(ms) {
      net.runFor(ms);
    },
    async freeUdpPort() {
      return sh.allocatePort();
    },
    close() {
      client.shutdown();
      server.shutdown();
      net.runFor(100);
    },
  };
}

export const worlds: { name: string; make: (opts?: WorldOptions) => World }[] = [
  { name: 'node', make: nodeWorld },
  { name: 'sim', make: simWorld },
];
