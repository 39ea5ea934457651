/**
 * The telemetry dashboard server: the page (from a file store: Storage on the
 * device, a folder on the host), `/api/status` as JSON, and `/ws`, a
 * WebSocket feed of every reading as it is taken.
 */
import type { Connection } from '../../src/core/connection.js';
import { Ev } from '../../src/core/events.js';
import type { Manager } from '../../src/core/manager.js';
import { HttpRouter } from '../../src/protocols/http/router.js';
import { httpListen } from '../../src/protocols/http/server.js';
import type { HttpServerOptions } from '../../src/protocols/http/server.js';
import { serveFile } from '../../src/protocols/http/static.js';
import type { FileStore } from '../../src/protocols/http/writer.js';
import type { WebSocket } from '../../src/protocols/ws/websocket.js';
import { wsUpgrade } from '../../src/protocols/ws/server.js';
import type { WsServerOptions } from '../../src/protocols/ws/server.js';

/** The page's name in the file store (a `.gz` twin is served to browsers that accept gzip). */
export const DASHBOARD_FILE = 'dashboard.html';

export interface DashboardOptions {
  /** Where to listen: http://0.0.0.0:80 on the device. */
  url: string;
  files: FileStore;
  /** What `/api/status` answers. */
  status: () => unknown;
  http?: HttpServerOptions;
  /** The `/ws` feed's limits (a board profile's `ws`: messageBytes as maxMessage, fragments as maxFragments). */
  ws?: WsServerOptions;
}

export class Dashboard {
  readonly listener: Connection | null;
  /** Live viewers. Bounded by the connection pool, like every connection. */
  private readonly viewers: WebSocket[] = [];
  /** Readings a slow viewer missed because its send ring was full (live data is not queued). */
  skipped = 0;

  constructor(mgr: Manager, o: DashboardOptions) {
    const self = this;
    const router = new HttpRouter();
    router.get('/', function (req, res) {
      if (!serveFile(req, o.files, DASHBOARD_FILE)) res.send(404, 'dashboard not installed\n', { 'Content-Type': 'text/plain' });
    });
    router.get('/api/status', function (req, res) {
      res.send(200, JSON.stringify(o.status()), { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    });
    router.get('/ws', function (req) {
      const ws = wsUpgrade(req, function (c, ev, data) {
        if (ev === Ev.CLOSE) self.forget(c);
      }, o.ws);
      if (ws) self.viewers.push(ws);
    });
    this.listener = httpListen(mgr, o.url, router.handler, o.http);
  }

  /** Sends one reading to every viewer; one that cannot take it now misses it. */
  broadcast(json: string): void {
    for (let i = 0; i < this.viewers.length; i++) {
      if (!this.viewers[i].send(json)) this.skipped++;
    }
  }

  get viewerCount(): number {
    return this.viewers.length;
  }

  private forget(c: Connection): void {
    for (let i = this.viewers.length - 1; i >= 0; i--) {
      if (this.viewers[i].c === c) this.viewers.splice(i, 1);
    }
  }
}
