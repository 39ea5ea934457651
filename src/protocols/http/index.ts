/** HTTP/1.1 for ringnet: server, client, static files, router, Basic auth, and the codec under them. */
export { HttpEv } from './events.js';
export type { HttpServerEvents, HttpClientEvents } from './events.js';
export { httpListen, httpServerOf, HttpRequest, HttpResponse, HttpServer } from './server.js';
export type { HttpHandler, HttpServerOptions } from './server.js';
export { httpRequest, HttpClientResponse, resolveUrl } from './client.js';
export type { HttpClientHandler, HttpRequestOptions } from './client.js';
export { serveFile, serveStatic, contentTypeOf, acceptsGzip, safeName } from './static.js';
export type { StaticOptions } from './static.js';
export type { FileStore } from './writer.js';
export { HttpRouter } from './router.js';
export type { RouteHandler } from './router.js';
export { basicAuth, requireBasicAuth } from './auth.js';
export type { BasicCredentials } from './auth.js';
export { HttpParser, HttpMessage, BodyKind, Step, DEFAULT_HTTP_LIMITS, headerLines, reasonPhrase, statusLine } from './codec.js';
export type { HttpLimits, HttpHeaders } from './codec.js';
export { base64Encode, base64Decode } from '../../core/base64.js';
export { utf8Binary, utf8Text, Utf8Validator } from '../utf8.js';
