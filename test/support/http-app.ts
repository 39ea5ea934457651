/** A small application on the ringnet HTTP server, used by the server tests against real clients. */
import { createHash } from 'node:crypto';
import type { AnyHandler } from '../../src/core/connection.js';
import { Ev } from '../../src/core/events.js';
import type { Manager } from '../../src/core/manager.js';
import { FolderFiles } from '../../src/drivers/node-files.js';
import { requireBasicAuth } from '../../src/protocols/http/auth.js';
import { HttpEv } from '../../src/protocols/http/events.js';
import { HttpRouter } from '../../src/protocols/http/router.js';
import type { HttpHandler, HttpRequest } from '../../src/protocols/http/server.js';
import { serveStatic } from '../../src/protocols/http/static.js';

export interface AppStats {
  accepts: number;
  requests: string[];
}

/** A deterministic line of the /stream response. */
export function streamLine(i: number): string {
  return 'line ' + i + ' ' + 'abcdefghijklmnopqrstuvwxyz'.repeat(2) + '\n';
}

/** The app's handler for httpListen; counts accepted connections and request heads in `stats`. */
export function makeApp(mgr: Manager, filesRoot: string | null, stats: AppStats): HttpHandler {
  const r = new HttpRouter();
  r.get('/hello', (req, res) => {
    res.send(200, 'hello ' + req.method + '\n', { 'Content-Type': 'text/plain' });
  });
  r.post('/echo', (req, res) => {
    res.send(200, req.body.slice(), { 'Content-Type': 'application/octet-stream' });
  });
  r.get('/headers', (req, res) => {
    const out: { [k: string]: string } = {};
    for (let i = 0; i < req.names.length; i++) out[req.names[i]] = req.values[i];
    res.send(200, JSON.stringify({ method: req.method, path: req.path, query: req.query, version: req.version, headers: out }), { 'Content-Type': 'application/json' });
  });
  // Streams the upload through a hash; answers with its length and digest.
  const uploads = new Map<HttpRequest, { n: number; hash: ReturnType<typeof createHash> }>();
  r.post(
    '/upload',
    (req, res, ev) => {
      if (ev === HttpEv.HEADERS) uploads.set(req, { n: 0, hash: createHash('sha256') });
      else if (ev === HttpEv.BODY) {
        const u = uploads.get(req)!;
        u.n += req.chunk.length;
        u.hash.update(req.chunk);
      } else if (ev === HttpEv.END) {
        const u = uploads.get(req)!;
        uploads.delete(req);
        res.send(200, u.n + ' ' + u.hash.digest('hex'), { 'Content-Type': 'text/plain' });
      }
    },
    { stream: true },
  );
  // Streams the upload straight back: each chunk is written from the receive ring as it arrives
  // (or deferred while earlier data is still going out).
  r.post(
    '/mirror',
    (req, res, ev) => {
      if (ev === HttpEv.HEADERS) res.head(200, { 'Content-Type': 'application/octet-stream' });
      else if (ev === HttpEv.BODY) {
        if (!res.write(req.chunk)) req.deferUntilWritable();
      } else if (ev === HttpEv.END) res.end();
    },
    { stream: true },
  );
  // Answers with the request body itself, sent from the receive ring (larger than the send ring).
  r.post('/reflect', (req, res) => {
    res.send(200, req.body, { 'Content-Type': 'application/octet-stream' });
  });
  // A long chunked response written as the send ring drains (WRITABLE).
  const streams = new Map<HttpRequest, number>();
  r.get('/stream', (req, res, ev) => {
    const total = +(req.query.split('=')[1] || '1000');
    let i = ev === HttpEv.WRITABLE ? streams.get(req)! : 0;
    if (ev !== HttpEv.WRITABLE) res.head(200, { 'Content-Type': 'text/plain' });
    while (i < total && res.write(streamLine(i))) i++;
    streams.set(req, i);
    if (i === total) {
      streams.delete(req);
      res.end();
    }
  });
  r.get('/slow/:ms', (req, res) => {
    const path = req.path;
    mgr.timer(+req.params.ms, () => res.send(200, 'slow ' + path + '\n'), false);
  });
  r.get('/admin', (req, res) => {
    if (!requireBasicAuth(req, 'ringnet test', (u, p) => u === 'admin' && p === 's3cret:x')) return;
    res.send(200, 'welcome admin\n');
  });
  r.get('/item/:id/part/:part', (req, res) => {
    res.send(200, req.params.id + '/' + req.params.part);
  });
  if (filesRoot) {
    const files = new FolderFiles(filesRoot);
    r.add('GET', '/files/*', (req, res) => {
      if (!serveStatic(req, files, { prefix: '/files/', cacheControl: 'max-age=60' })) res.send(404, 'no such file\n');
    });
  }
  const routed = r.handler as AnyHandler;
  const counting: AnyHandler = (c, ev, data) => {
    if (ev === Ev.ACCEPT) stats.accepts++;
    if (ev === HttpEv.HEADERS) stats.requests.push(data.method + ' ' + data.target);
    routed(c, ev, data);
  };
  return counting as HttpHandler;
}
