/** A loopback TCP proxy whose connections a test can reset at will (RST both ways), to break flows mid-stream. */
import * as net from 'node:net';

export interface ResettableProxy {
  port: number;
  /** Connections made through it so far. */
  connections: number;
  /** Bytes carried client → target so far. */
  bytesUp: number;
  /** Resets every live connection; returns how many. */
  resetAll(): number;
  close(): Promise<void>;
}

export function startProxy(targetPort: number): Promise<ResettableProxy> {
  const live: { a: net.Socket; b: net.Socket }[] = [];
  const proxy: ResettableProxy = {
    port: 0,
    connections: 0,
    bytesUp: 0,
    resetAll() {
      const all = live.splice(0, live.length);
      for (const p of all) {
        p.a.resetAndDestroy();
        p.b.resetAndDestroy();
      }
      return all.length;
    },
    close() {
      proxy.resetAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  const server = net.createServer((a) => {
    proxy.connections++;
    const b = net.connect(targetPort, '127.0.0.1');
    const pair = { a, b };
    live.push(pair);
    const drop = () => {
      const i = live.indexOf(pair);
      if (i >= 0) live.splice(i, 1);
      a.destroy();
      b.destroy();
    };
    a.on('data', (d) => {
      proxy.bytesUp += d.length;
    });
    a.pipe(b);
    b.pipe(a);
    a.on('error', drop);
    b.on('error', drop);
    a.on('close', drop);
    b.on('close', drop);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      proxy.port = (server.address() as net.AddressInfo).port;
      resolve(proxy);
    });
  });
}
