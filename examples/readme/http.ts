// examples/readme/http.ts
import { Manager } from 'ringnet';
import { NodeDriver } from 'ringnet/drivers/node';
import { FolderFiles } from 'ringnet/drivers/node-files'; // on the device: new StorageFiles(require('Storage'))
import { httpListen, HttpEv, HttpRouter, serveStatic, requireBasicAuth } from 'ringnet/protocols/http';
import { wsUpgrade, WsEv } from 'ringnet/protocols/ws';

const mgr = new Manager(new NodeDriver());
const files = new FolderFiles(process.env.WWW || './www');
const readings: { [id: string]: number } = { t1: 21.5, t2: 19.25 };
const api = new HttpRouter();
api.get('/api/sensors/:id', (req, res) => {
  const value = readings[req.params.id];
  if (value === undefined) res.send(404, 'no sensor ' + req.params.id);
  else res.send(200, JSON.stringify({ id: req.params.id, value }), { 'Content-Type': 'application/json' });
});
api.get('/admin', (req, res) => res.send(200, 'hello, admin'));
api.add('GET', '/*', (req, res) => {
  if (!serveStatic(req, files)) res.send(404, 'not found');
});

httpListen(mgr, 'http://127.0.0.1:' + (process.env.PORT || 80), (c, ev, req) => {
  if (ev === HttpEv.HEADERS && req.path === '/live') {
    wsUpgrade(req, (c2, ev2, data) => {
      if (ev2 === WsEv.MESSAGE) data.ws.send('got ' + data.text());
    }, { pingIntervalMs: 20000 });
    return;
  }
  if (ev === HttpEv.MESSAGE && req.path === '/admin' && !requireBasicAuth(req, 'device', (u, p) => u === 'admin' && p === process.env.PIN)) return;
  api.handler(c, ev, req);
}, { limits: { headerBytes: 2048, headerCount: 24, bodyBytes: 16384 }, headerTimeoutMs: 5000, idleTimeoutMs: 30000 });
mgr.run();
