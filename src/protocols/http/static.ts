/**
 * Static files from a `FileStore` (a folder on Node, Espruino's Storage on
 * the device; both implementations live in src/drivers). Files stream from
 * the store through the send ring in `fileChunkBytes` steps; a precompressed
 * `name.gz` is sent instead of `name` when the client accepts gzip.
 */
import type { HttpRequest } from './server.js';
import type { FileStore } from './writer.js';
import { indexOfText } from '../../core/text.js';

export type { FileStore } from './writer.js';

export interface StaticOptions {
  /** URL path prefix served (default "/"); the rest of the path names the file. */
  prefix?: string;
  /** Prepended to file names in the store (a folder, or a Storage name prefix). */
  root?: string;
  /** File for paths ending in "/" (default "index.html"). */
  index?: string;
  /** Send `name.gz` with Content-Encoding: gzip when it exists and the client accepts it (default true). */
  gzip?: boolean;
  /** Cache-Control value, if any. */
  cacheControl?: string;
}


/** The Content-Type for a file name, from its extension. */
export function contentTypeOf(name: string): string {
  const dot = name.lastIndexOf('.');
  const slash = name.lastIndexOf('/');
  if (dot < 0 || dot < slash) return 'application/octet-stream';
  // A switch, not a table: on the device a function's text costs nothing, and the table was about 90 variables.
  switch (name.substring(dot + 1).toLowerCase()) {
    case 'html':
    case 'htm':
      return 'text/html; charset=utf-8';
    case 'css':
      return 'text/css; charset=utf-8';
    case 'js':
    case 'mjs':
      return 'text/javascript; charset=utf-8';
    case 'json':
    case 'map':
      return 'application/json';
    case 'txt':
      return 'text/plain; charset=utf-8';
    case 'csv':
      return 'text/csv; charset=utf-8';
    case 'xml':
      return 'application/xml';
    case 'svg':
      return 'image/svg+xml';
    case 'png':
      return 'image/png';
    case 'jpg':
    case 'jpeg':
      return 'image/jpeg';
    case 'gif':
      return 'image/gif';
    case 'webp':
      return 'image/webp';
    case 'ico':
      return 'image/x-icon';
    case 'wasm':
      return 'application/wasm';
    case 'pdf':
      return 'application/pdf';
    case 'woff':
      return 'font/woff';
    case 'woff2':
      return 'font/woff2';
    case 'gz':
      return 'application/gzip';
  }
  return 'application/octet-stream';
}

/** Whether an Accept-Encoding value allows gzip (absent: anything is acceptable). */
export function acceptsGzip(accept: string | undefined): boolean {
  if (accept === undefined) return true;
  const l = accept.toLowerCase();
  let at = 0;
  while (at <= l.length) {
    let end = l.indexOf(',', at);
    if (end < 0) end = l.length;
    const item = l.substring(at, end);
    at = end + 1;
    const semi = item.indexOf(';');
    const coding = (semi < 0 ? item : item.substring(0, semi)).trim();
    if (coding !== 'gzip' && coding !== '*') continue;
    if (semi < 0) return true;
    const q = indexOfText(item, 'q=', semi);
    return q < 0 || +item.substring(q + 2).trim() > 0;
  }
  return false;
}

function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * A URL path (below a prefix) as a safe store name: %XX decoded, and null for
 * anything that could leave the served root (`..`, `.`, empty segments,
 * backslashes, NUL) or is malformed.
 */
export function safeName(path: string): string | null {
  let out = '';
  for (let i = 0; i < path.length; i++) {
    let c = path.charCodeAt(i);
    if (c === 37) {
      const a = hex(path.charCodeAt(i + 1));
      const b = hex(path.charCodeAt(i + 2));
      if (a < 0 || b < 0) return null;
      c = a * 16 + b;
      i += 2;
    }
    if (c === 0 || c === 92) return null;
    out += String.fromCharCode(c);
  }
  if (out.length === 0) return out;
  const parts = out.split('/');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p === '..' || p === '.' || (p.length === 0 && i < parts.length - 1)) return null;
  }
  return out;
}

/**
 * Answers `req` with the stored file `name` (GET or HEAD). Returns false,
 * sending nothing, when neither `name` nor `name.gz` exists.
 */
export function serveFile(req: HttpRequest, store: FileStore, name: string, opts?: StaticOptions): boolean {
  const o = opts || {};
  const gz = o.gzip !== false;
  const plainSize = store.size(name);
  const gzSize = gz ? store.size(name + '.gz') : -1;
  if (plainSize < 0 && gzSize < 0) return false;
  let lines = 'Content-Type: ' + contentTypeOf(name) + '\r\n';
  let file = name;
  let size = plainSize;
  if (gzSize >= 0) {
    lines += 'Vary: Accept-Encoding\r\n';
    if (acceptsGzip(req.header('accept-encoding'))) {
      file = name + '.gz';
      size = gzSize;
      lines += 'Content-Encoding: gzip\r\n';
    } else if (plainSize < 0) {
      req.res.send(406, 'only a gzip copy of this file is stored\n', lines);
      return true;
    }
  }
  if (o.cacheControl) lines += 'Cache-Control: ' + o.cacheControl + '\r\n';
  lines += 'Content-Length: ' + size + '\r\n';
  const res = req.res;
  res.head(200, lines);
  res.writeFile(store, file, 0, size);
  res.end();
  return true;
}

/**
 * Serves GET/HEAD requests under `opts.prefix` from the store. Returns false
 * (nothing sent) for other methods, other paths, and missing files, so the
 * caller can answer 404 or try something else; an unsafe path gets 400 here.
 */
export function serveStatic(req: HttpRequest, store: FileStore, opts?: StaticOptions): boolean {
  const o = opts || {};
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const prefix = o.prefix || '/';
  if (req.path.substring(0, prefix.length) !== prefix) return false;
  const rest = safeName(req.path.substring(prefix.length));
  if (rest === null) {
    req.res.send(400, 'bad path\n', { 'Content-Type': 'text/plain' });
    return true;
  }
  const name = (o.root || '') + (rest.length === 0 || rest.charAt(rest.length - 1) === '/' ? rest + (o.index || 'index.html') : rest);
  return serveFile(req, store, name, o);
}
