/** The echo server on Node: `node build/examples/echo/host.js [port]`. */
import { Manager } from '../../src/core/manager.js';
import { NodeDriver } from '../../src/drivers/node.js';
import { startEcho } from './app.js';

const port = process.argv[2] || '8000';
const mgr = new Manager(new NodeDriver());
const listener = startEcho(mgr, 'tcp://0.0.0.0:' + port);
mgr.run();
console.log('echo server on tcp://0.0.0.0:' + (listener ? listener.remote.port : port) + ' (Ctrl-C stops it)');
process.on('SIGINT', function () {
  mgr.shutdown();
  process.exit(0);
});
