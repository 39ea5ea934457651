/**
 * HTTP event numbers (100–199). What each carries is in the event maps beside
 * their payload types: HttpServerEvents in server.ts, HttpClientEvents in
 * client.ts, so that `switch (ev)` in a handler narrows `data`.
 */

export enum HttpEv {
  // ---- server (httpListen) ----
  /** A request head arrived. Respond now, call `req.stream()` to receive a large body, or wait for MESSAGE. */
  HEADERS = 100,
  /** Streamed request body: `req.chunk` holds the next bytes (valid during the event). */
  BODY = 101,
  /** The streamed request body is complete. */
  END = 102,
  /** The whole request: `req.body` holds its body (valid during the event). */
  MESSAGE = 103,
  /** `req.res` has sent what it held and takes more writes. */
  WRITABLE = 104,
  /** A request was refused before the handler saw it; data: the status answered (400, 408, 413, 431 …). */
  REJECTED = 105,

  // ---- client (httpRequest) ----
  /** The response head arrived: status and headers. */
  RESPONSE = 110,
  /** Response body: `res.chunk` holds the next bytes (valid during the event). */
  RESPONSE_BODY = 111,
  /** The response is complete; the connection closes after it. */
  RESPONSE_END = 112,
}
