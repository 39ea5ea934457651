/**
 * A small router for `httpListen`: routes by method and path pattern, and
 * answers 404 / 405 for what matches nothing. Patterns are literal segments,
 * `:name` segments (captured into `req.params.name`) and a final `*`
 * (the rest of the path, in `req.params['*']`).
 *
 *   const r = new HttpRouter();
 *   r.get('/api/sensors/:id', (req, res) => res.send(200, read(req.params.id)));
 *   httpListen(mgr, 'http://0.0.0.0:80', r.handler);
 *
 * Routes see whole requests (MESSAGE). A route that wants a large body
 * streamed is added with `stream: true`: it then sees HEADERS, BODY and END.
 */
import type { AnyHandler, Connection } from '../../core/connection.js';
import { HttpEv } from './events.js';
import type { HttpRequest, HttpResponse } from './server.js';

export type RouteHandler = (req: HttpRequest, res: HttpResponse, ev: HttpEv) => void;

interface Route {
  method: string;
  segments: string[];
  fn: RouteHandler;
  stream: boolean;
}

export class HttpRouter {
  private readonly routes: Route[] = [];
  /** Called when no route matches the path (default: 404). */
  notFound: RouteHandler = function (req, res) {
    res.send(404, 'not found\n', { 'Content-Type': 'text/plain' });
  };

  /** Adds a route; `method` "*" matches any method. */
  add(method: string, pattern: string, fn: RouteHandler, opts?: { stream?: boolean }): HttpRouter {
    this.routes.push({ method: method.toUpperCase(), segments: pattern.split('/'), fn: fn, stream: !!(opts && opts.stream) });
    return this;
  }

  get(pattern: string, fn: RouteHandler): HttpRouter {
    return this.add('GET', pattern, fn);
  }

  post(pattern: string, fn: RouteHandler, opts?: { stream?: boolean }): HttpRouter {
    return this.add('POST', pattern, fn, opts);
  }

  put(pattern: string, fn: RouteHandler, opts?: { stream?: boolean }): HttpRouter {
    return this.add('PUT', pattern, fn, opts);
  }

  delete(pattern: string, fn: RouteHandler): HttpRouter {
    return this.add('DELETE', pattern, fn);
  }

  /** The handler to give `httpListen` (or to call from one, with any event). */
  readonly handler: AnyHandler = (c: Connection, ev: number, req: HttpRequest) => {
    if (ev === HttpEv.HEADERS) {
      const r = this.match(req);
      if (r && r.stream) {
        req.stream();
        r.fn(req, req.res, ev);
      }
    } else if (ev === HttpEv.MESSAGE) {
      this.dispatch(req, ev);
    } else if (ev === HttpEv.BODY || ev === HttpEv.END || ev === HttpEv.WRITABLE) {
      const r = this.match(req);
      if (r) r.fn(req, req.res, ev);
    }
  };

  /** Runs the route for a whole request, or answers 404 / 405. */
  dispatch(req: HttpRequest, ev: HttpEv): void {
    const r = this.match(req);
    if (r) {
      r.fn(req, req.res, ev);
      return;
    }
    let allow = '';
    for (let i = 0; i < this.routes.length; i++) {
      const route = this.routes[i];
      if (route.method !== '*' && matchPath(route.segments, req.path, null)) allow += (allow ? ', ' : '') + route.method;
    }
    if (allow) req.res.send(405, 'method not allowed\n', { Allow: allow, 'Content-Type': 'text/plain' });
    else this.notFound(req, req.res, ev);
  }

  private match(req: HttpRequest): Route | null {
    for (let i = 0; i < this.routes.length; i++) {
      const r = this.routes[i];
      if (r.method !== '*' && r.method !== req.method && !(r.method === 'GET' && req.method === 'HEAD')) continue;
      if (matchPath(r.segments, req.path, req.params)) return r;
    }
    return null;
  }
}

/** Whether `path` fits the pattern's segments; fills `params` when given. */
function matchPath(segments: string[], path: string, params: { [name: string]: string } | null): boolean {
  const parts = path.split('/');
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    if (seg === '*' && i === segments.length - 1) {
      if (params) params['*'] = parts.slice(i).join('/');
      return true;
    }
    if (i >= parts.length) return false;
    if (seg.charAt(0) === ':') {
      if (parts[i].length === 0) return false;
      if (params) params[seg.substring(1)] = parts[i];
    } else if (seg !== parts[i]) {
      return false;
    }
  }
  return parts.length === segments.length;
}
