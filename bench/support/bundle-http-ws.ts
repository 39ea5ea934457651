/** Bundle-size entry for bench/http: HTTP server and client, and WebSocket both ways. */
export { httpListen } from '../../src/protocols/http/server.js';
export { httpRequest } from '../../src/protocols/http/client.js';
export { HttpRouter } from '../../src/protocols/http/router.js';
export { serveStatic } from '../../src/protocols/http/static.js';
export { requireBasicAuth } from '../../src/protocols/http/auth.js';
export { wsUpgrade } from '../../src/protocols/ws/server.js';
export { wsConnect } from '../../src/protocols/ws/client.js';
