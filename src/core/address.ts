/** Parsing of the address strings `listen` and `connect` take. */
import { indexOfText } from './text.js';

export interface Address {
  host: string;
  port: number;
}

/**
 * The peer of a socket that has none, or none it reports: an idle slot's, an Espruino-accepted socket's, an unbound
 * datagram socket's. One object shared by all (on the device each is variables): it is never written, only replaced.
 */
export const NO_ADDRESS: Address = { host: '', port: 0 };

export interface Endpoint extends Address {
  /** Lower-case scheme without "://": "tcp", "udp", "mqtt", "http", "ws" … */
  scheme: string;
  /** The path part of a URL ("/" when absent). Protocols read it; the core ignores it. */
  path: string;
}

function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * Parses `scheme://host:port/path`, `host:port`, `:port`, `port`, `[::1]:port`.
 * A missing host means every interface for listen ("0.0.0.0") and loopback for
 * connect; `defaultPorts` maps schemes to ports that may be omitted.
 * Throws an Error naming the address when it cannot be understood.
 */
export function parseAddress(url: string, defaultHost: string, defaultPorts?: { [scheme: string]: number }): Endpoint {
  // Every failure sets `why` and leaves the loop for the one throw below. Not a helper closure: on Espruino a
  // function made in a call and kept in its scope is a cycle that only a garbage collection frees, and the
  // interpreter left each connect's (about 50 variables) until memory ran low.
  let why = '';
  const sep = indexOfText(url, '://'); // out of the loop: there the build inlines it (a function object less on the device)
  do {
    let rest = url;
    let scheme = 'tcp';
    if (sep >= 0) {
      scheme = rest.substring(0, sep).toLowerCase();
      if (scheme.length === 0) {
        why = 'empty scheme';
        break;
      }
      rest = rest.substring(sep + 3);
    }
    let path = '/';
    const slash = rest.indexOf('/');
    if (slash >= 0) {
      path = rest.substring(slash);
      rest = rest.substring(0, slash);
    }
    let host = '';
    let portText = '';
    if (rest.charAt(0) === '[') {
      const close = rest.indexOf(']');
      if (close < 0) {
        why = 'unclosed [';
        break;
      }
      host = rest.substring(1, close);
      const after = rest.substring(close + 1);
      if (after.length > 0) {
        if (after.charAt(0) !== ':') {
          why = 'expected ":" after ]';
          break;
        }
        portText = after.substring(1);
      }
    } else if (isDigits(rest)) {
      portText = rest;
    } else {
      const colon = rest.lastIndexOf(':');
      if (colon >= 0) {
        if (rest.indexOf(':') !== colon) {
          why = 'IPv6 hosts go in brackets';
          break;
        }
        host = rest.substring(0, colon);
        portText = rest.substring(colon + 1);
      } else {
        host = rest;
      }
    }
    let port: number;
    if (portText.length === 0) {
      const fallback = defaultPorts ? defaultPorts[scheme] : undefined;
      if (fallback === undefined) {
        why = 'no port';
        break;
      }
      port = fallback;
    } else {
      port = isDigits(portText) ? +portText : -1;
      if (port < 0 || port > 65535) {
        why = port < 0 ? 'port is not a number' : 'port out of range';
        break;
      }
    }
    for (let i = 0; i < host.length && !why; i++) {
      const c = host.charCodeAt(i);
      if (c <= 32 || c === 47 || c === 64 || c === 91 || c === 93) why = 'bad character in host';
    }
    if (!why) return { scheme: scheme, host: host.length ? host : defaultHost, port: port, path: path };
  } while (false);
  throw new Error('bad address "' + url + '": ' + why);
}
