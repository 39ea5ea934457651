/** WebSocket (RFC 6455) for ringnet: server upgrade, client, and the frame codec under them. */
export { WsEv, WebSocket, WsMessage, wsOf, wsProtocol } from './websocket.js';
export type { WsEvents, WsHandler, WsOptions, WsCloseInfo } from './websocket.js';
export { wsUpgrade } from './server.js';
export type { WsServerOptions } from './server.js';
export { wsConnect } from './client.js';
export type { WsClientOptions } from './client.js';
export { WsReader, WsOp, WsClose, WsStep, validCloseCode, writeFrameHeader, frameHeaderLength, maskInPlace } from './codec.js';
export { acceptKey } from './handshake.js';
export { sha1 } from './sha1.js';
