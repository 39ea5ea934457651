/**
 * Servers for bench/http, each in its own process; prints nothing, sends its port to the parent.
 *   ringnet-http | node-http : GET → "hello world" (keep-alive)
 *   ringnet-ws   | ws        : WebSocket echo
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { Connection } from '../../src/core/connection.js';
import { Manager } from '../../src/core/manager.js';
import { NodeDriver } from '../../src/drivers/node.js';
import { HttpEv } from '../../src/protocols/http/events.js';
import { httpListen } from '../../src/protocols/http/server.js';
import type { HttpRequest } from '../../src/protocols/http/server.js';
import { wsUpgrade } from '../../src/protocols/ws/server.js';
import { WsEv } from '../../src/protocols/ws/websocket.js';
import type { WsMessage } from '../../src/protocols/ws/websocket.js';

const kind = process.argv[2];
const BODY = 'hello world';

function tellWhenBound(l: Connection): void {
  const tell = () => (l.remote.port ? process.send!(l.remote.port) : setTimeout(tell, 5));
  tell();
}

if (kind === 'node-http') {
  const server = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'text/plain');
    res.end(BODY);
  });
  server.keepAliveTimeout = 30000;
  server.listen(0, '127.0.0.1', () => process.send!((server.address() as AddressInfo).port));
} else if (kind === 'ws') {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (s) => s.on('message', (d: Buffer, binary: boolean) => s.send(d, { binary })));
  wss.on('listening', () => process.send!((wss.address() as AddressInfo).port));
} else {
  const mgr = new Manager(new NodeDriver(), { pools: { default: { conns: 80, recvBytes: 16384, sendBytes: 16384 } } });
  const l = httpListen(mgr, 'http://127.0.0.1:0', (c, ev, data) => {
    if (ev !== HttpEv.MESSAGE && ev !== HttpEv.HEADERS) return;
    const req = data as HttpRequest;
    if (kind === 'ringnet-ws') {
      if (ev === HttpEv.HEADERS)
        wsUpgrade(req, (c2, ev2, m) => {
          if (ev2 !== WsEv.MESSAGE) return;
          const msg = m as WsMessage;
          if (!msg.ws.send(msg.data, msg.binary)) msg.deferUntilWritable();
        }, {});
    } else if (ev === HttpEv.MESSAGE) {
      req.res.send(200, BODY, 'Content-Type: text/plain\r\n');
    }
  }, { idleTimeoutMs: 60000, limits: { headerBytes: 8192, headerCount: 64, bodyBytes: 65536 } }) as Connection;
  mgr.run();
  tellWhenBound(l);
}
