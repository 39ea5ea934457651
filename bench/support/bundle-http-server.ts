/** Bundle-size entry for bench/http: what a device serving a dashboard carries. */
export { httpListen } from '../../src/protocols/http/server.js';
export { HttpRouter } from '../../src/protocols/http/router.js';
export { serveStatic } from '../../src/protocols/http/static.js';
export { requireBasicAuth } from '../../src/protocols/http/auth.js';
