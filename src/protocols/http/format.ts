/** Formatting an outgoing HTTP/1.1 head: header lines, the status line, chunk framing. */
import { indexOfText } from '../../core/text.js';
import { isToken, trimOws } from './message.js';

/** Headers to write: an object (values are written as given) or ready "Name: value\r\n" lines. */
export type HttpHeaders = { [name: string]: string | number } | string;

const REASONS: { [code: number]: string } = {
  100: 'Continue',
  101: 'Switching Protocols',
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  206: 'Partial Content',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  304: 'Not Modified',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  411: 'Length Required',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  417: 'Expectation Failed',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] || 'Status ' + status;
}

/**
 * Header lines for `headers`, each ending in CRLF. A name that is not a token
 * or a value holding CR, LF or NUL throws: writing it would let a value inject
 * header lines (response splitting).
 */
export function headerLines(headers: HttpHeaders | undefined): string {
  if (!headers) return '';
  if (typeof headers === 'string') {
    if (headers.length === 0) return '';
    if (headers.substring(headers.length - 2) !== '\r\n') throw new Error('header lines must end in CRLF');
    return headers;
  }
  let out = '';
  const names = Object.keys(headers);
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const value = String(headers[name]);
    if (!isToken(name)) throw new Error('bad header name "' + name + '"');
    if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0 || value.indexOf('\0') >= 0) throw new Error('bad value for header ' + name);
    out += name + ': ' + value + '\r\n';
  }
  return out;
}

/** Whether `lines` (from `headerLines`) set header `name` (lower-case). */
export function linesHave(lines: string, name: string): boolean {
  if (lines.length === 0) return false;
  const l = lines.toLowerCase();
  let at = 0;
  while (at < l.length) {
    const colon = l.indexOf(':', at);
    if (colon < 0) return false;
    if (l.substring(at, colon) === name) return true;
    const eol = indexOfText(l, '\r\n', colon);
    if (eol < 0) return false;
    at = eol + 2;
  }
  return false;
}

/** The value of header `name` (lower-case) in `lines`, or null. */
export function linesValue(lines: string, name: string): string | null {
  const l = lines.toLowerCase();
  let at = 0;
  while (at < l.length) {
    const colon = l.indexOf(':', at);
    if (colon < 0) return null;
    const eol = indexOfText(l, '\r\n', colon);
    if (eol < 0) return null;
    if (l.substring(at, colon) === name) return trimOws(lines.substring(colon + 1, eol));
    at = eol + 2;
  }
  return null;
}

/** "HTTP/1.1 200 OK\r\n". */
export function statusLine(status: number, reason?: string): string {
  return 'HTTP/1.1 ' + status + ' ' + (reason || reasonPhrase(status)) + '\r\n';
}

/** The line that starts a chunk of `n` bytes. */
export function chunkStart(n: number): string {
  return n.toString(16) + '\r\n';
}

/** Ends the last chunk's data, or follows a chunk's data. */
export const CHUNK_END = '\r\n';
/** The zero-size chunk and the empty trailer that end a chunked body. */
export const LAST_CHUNK = '0\r\n\r\n';
