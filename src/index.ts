/** The portable API: core only (runs on Espruino, Node and the simulator). Drivers are imported from their own modules. */
export { Ring } from './core/ring.js';
export { Ev, ErrorCode } from './core/events.js';
export type { CoreEvents, ErrorInfo } from './core/events.js';
export { Connection, Flag, USER_FLAGS } from './core/connection.js';
export type { Handler, AnyHandler, HandlerArgs, Protocol, WithState } from './core/connection.js';
export { Manager } from './core/manager.js';
export type { ManagerOptions, OpenOptions, PoolSpec, ManagerStats } from './core/manager.js';
export { parseAddress } from './core/address.js';
export type { Address, Endpoint } from './core/address.js';
export { SinkEvent } from './core/driver.js';
export type { Driver, DriverSocket, Sink, ListenHandle, Poller, TlsOptions } from './core/driver.js';
export type { Timer } from './core/timer.js';
export type { AppendLog } from './core/append-log.js';
