/** Formatting an outgoing HTTP/1.1 head: header lines, the status line, chunk framing. */
import { indexOfText } from '../../core/text.js';
import { isToken, trimOws } from './message.js';

/** Headers to write: an object (values are written as given) or ready "Name: value\r\n" lines. */
export type HttpHeaders = { [name: string]: string | number } | string;

/**
 * The reason phrase of a status code. A switch, not a table: on the device a
 * function's text costs nothing, and a table of these was an object of about
 * 100 variables held for good.
 */
export function reasonPhrase(status: number): string {
  switch (status) {
    case 100:
      return 'Continue';
    case 101:
      return 'Switching Protocols';
    case 200:
      return 'OK';
    case 201:
      return 'Created';
    case 202:
      return 'Accepted';
    case 204:
      return 'No Content';
    case 206:
      return 'Partial Content';
    case 301:
      return 'Moved Permanently';
    case 302:
      return 'Found';
    case 303:
      return 'See Other';
    case 304:
      return 'Not Modified';
    case 307:
      return 'Temporary Redirect';
    case 308:
      return 'Permanent Redirect';
    case 400:
      return 'Bad Request';
    case 401:
      return 'Unauthorized';
    case 403:
      return 'Forbidden';
    case 404:
      return 'Not Found';
    case 405:
      return 'Method Not Allowed';
    case 406:
      return 'Not Acceptable';
    case 408:
      return 'Request Timeout';
    case 409:
      return 'Conflict';
    case 411:
      return 'Length Required';
    case 413:
      return 'Content Too Large';
    case 414:
      return 'URI Too Long';
    case 415:
      return 'Unsupported Media Type';
    case 417:
      return 'Expectation Failed';
    case 426:
      return 'Upgrade Required';
    case 429:
      return 'Too Many Requests';
    case 431:
      return 'Request Header Fields Too Large';
    case 500:
      return 'Internal Server Error';
    case 501:
      return 'Not Implemented';
    case 502:
      return 'Bad Gateway';
    case 503:
      return 'Service Unavailable';
    case 504:
      return 'Gateway Timeout';
    case 505:
      return 'HTTP Version Not Supported';
  }
  return 'Status ' + status;
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
