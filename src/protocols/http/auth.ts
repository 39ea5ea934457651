/** HTTP Basic authentication (RFC 7617) for server handlers. */
import { base64Decode } from '../../core/base64.js';
import type { HttpRequest } from './server.js';

export interface BasicCredentials {
  user: string;
  password: string;
}

/** The user and password of an `Authorization: Basic …` header, or null when absent or malformed. */
export function basicAuth(req: HttpRequest): BasicCredentials | null {
  const h = req.header('authorization');
  if (!h || h.length < 6 || h.substring(0, 6).toLowerCase() !== 'basic ') return null;
  const decoded = base64Decode(h.substring(6).trim());
  if (decoded === null) return null;
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { user: decoded.substring(0, colon), password: decoded.substring(colon + 1) };
}

/**
 * True when `check` accepts the request's credentials. Otherwise answers 401
 * with a challenge for `realm` and returns false: the handler just returns.
 *
 *   if (!requireBasicAuth(req, 'device', (u, p) => u === 'admin' && p === pin)) return;
 */
export function requireBasicAuth(req: HttpRequest, realm: string, check: (user: string, password: string) => boolean): boolean {
  const cred = basicAuth(req);
  if (cred && check(cred.user, cred.password)) return true;
  req.res.send(401, 'authentication required\n', {
    'WWW-Authenticate': 'Basic realm="' + realm.split('"').join('').split('\\').join('') + '", charset="UTF-8"',
    'Content-Type': 'text/plain',
  });
  return false;
}
