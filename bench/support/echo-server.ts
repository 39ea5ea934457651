/** An echo server in its own process, for bench/echo: `ringnet` (the echo example) or `raw` (node:net). */
import * as net from 'node:net';
import { Manager } from '../../src/core/manager.js';
import { NodeDriver } from '../../src/drivers/node.js';
import { startEcho } from '../../examples/echo/app.js';

const kind = process.argv[2];
const ring = Number(process.env.RING || 65536);
if (kind === 'raw') {
  const server = net.createServer((s) => s.pipe(s));
  server.listen(0, '127.0.0.1', () => {
    process.send!((server.address() as net.AddressInfo).port);
  });
} else {
  const mgr = new Manager(new NodeDriver({ readAheadBytes: ring }), { pools: { default: { conns: 8, recvBytes: ring, sendBytes: ring } } });
  const l = startEcho(mgr, 'tcp://127.0.0.1:0');
  mgr.run();
  const tell = () => (l!.remote.port ? process.send!(l!.remote.port) : setTimeout(tell, 5));
  tell();
}
