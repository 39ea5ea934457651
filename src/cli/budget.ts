/**
 * A board's static memory budget for one bundle: what ringnet allocates once
 * at start and never more — every pool's rings (one arena, see Manager) plus
 * the fixed state of each protocol the bundle contains.
 */
import type { BoardProfile } from '../../boards/profile.js';
import { TOKEN_TABLE_BYTES } from '../protocols/http/message.js';
import { SNTP_PACKET_BYTES } from '../protocols/sntp/codec.js';
import { peerVars } from '../drivers/espruino.js';

export interface Budget {
  /** `perSlot` is set when the app passed rings of its own sizes for the pool: then its bytes are what it allocated. */
  pools: { name: string; conns: number; recvBytes: number; sendBytes: number; bytes: number; perSlot?: number }[];
  protocols: { name: string; what: string; bytes: number }[];
  total: number;
  /**
   * Not static: interpreter memory (in bytes of the board's variables) one peer may take at
   * once under the Espruino driver (`peerVars`: held, arriving, in flight and
   * being written, as strings, plus its overhead). The driver asks for this
   * much free memory before it accepts a peer.
   */
  perPeer: number;
}

/**
 * Fixed buffers a protocol allocates from the board's limits, by its directory
 * under src/protocols. A protocol that keeps its state in the connection's
 * rings adds nothing here; one that allocates (an outbox, a reassembly
 * buffer) says so in this table.
 */
export const PROTOCOL_STATE: { [protocol: string]: { what: string; bytes: (b: BoardProfile) => number } } = {
  mqtt: { what: 'outbox', bytes: (b) => b.mqtt.outboxBytes },
  http: { what: 'token table', bytes: () => TOKEN_TABLE_BYTES },
  sntp: { what: 'packet, per request', bytes: () => SNTP_PACKET_BYTES },
};

/**
 * The board's pools a device app allocates: `default` always; the others only
 * when the bundle contains the module (a path prefix) that uses them, so an
 * app without MQTT or datagrams passes only `{ default: board.pools.default }`.
 * A test boots every bundle and checks this table against what it allocated.
 */
export const POOL_USERS: { [pool: string]: string } = {
  mqtt: 'src/protocols/mqtt/',
  udp: 'src/drivers/espruino-udp.ts',
};

function usesPool(pool: string, modules: string[]): boolean {
  const user = POOL_USERS[pool];
  if (user === undefined) return true;
  for (const m of modules) if (m.replace(/\\/g, '/').indexOf(user) === 0) return true;
  return false;
}

/**
 * The budget of `board` for a bundle made of `modules` (paths relative to the
 * project root). `allocated`, when known (the bytes of typed arrays the bundle
 * allocated in the sandbox as it started), tells whether the app passed the
 * `default` pool at all (a client-only app, telemetry without its dashboard,
 * leaves it out) and which protocol state survived minification; no module
 * list says either. An app that passes its default slots rings of its own
 * sizes allocates less than the board's pools: then the total is what it
 * allocated, and that pool's `perSlot` what each slot took.
 */
export function staticBudget(board: BoardProfile, modules: string[], allocated?: number): Budget {
  const pools: Budget['pools'] = [];
  let total = 0;
  for (const name of Object.keys(board.pools)) {
    if (!usesPool(name, modules)) continue;
    const p = board.pools[name];
    const bytes = p.conns * (p.recvBytes + p.sendBytes);
    pools.push({ name: name, conns: p.conns, recvBytes: p.recvBytes, sendBytes: p.sendBytes, bytes: bytes });
    total += bytes;
  }
  const state = protocolState(board, modules);
  const protocols = state.protocols;
  total += state.total;
  if (allocated !== undefined && allocated < total) {
    // What the modules could allocate, less what the bundle did not: the default pool (an app that only
    // connects passes the pools it uses) and a protocol's state whose code the minifier dropped.
    const optional: { bytes: number; drop: () => void }[] = [];
    for (const p of pools) if (p.name === 'default') optional.push({ bytes: p.bytes, drop: () => pools.splice(pools.indexOf(p), 1) });
    for (const p of protocols) optional.push({ bytes: p.bytes, drop: () => protocols.splice(protocols.indexOf(p), 1) });
    let explained = false;
    for (let set = 1; set < 1 << optional.length && !explained; set++) {
      let sum = 0;
      for (let i = 0; i < optional.length; i++) if (set & (1 << i)) sum += optional[i].bytes;
      if (sum !== total - allocated) continue;
      for (let i = 0; i < optional.length; i++) if (set & (1 << i)) optional[i].drop();
      explained = true;
    }
    // Otherwise the app sized its default slots' rings itself (the echo's hold one network chunk each way): what it
    // allocated is what it holds, the rest of the board's budget as the board has it.
    const own = pools.filter((p) => p.name === 'default')[0];
    if (!explained && own && own.bytes > total - allocated) {
      own.bytes -= total - allocated;
      own.perSlot = own.bytes / own.conns;
    }
    total = allocated;
  }
  const size = board.variableBytes || 16;
  return { pools: pools, protocols: protocols, total: total, perPeer: peerVars(board.net, size) * size };
}

/** The fixed state of each protocol in `modules` (PROTOCOL_STATE). */
function protocolState(board: BoardProfile, modules: string[]): { protocols: Budget['protocols']; total: number } {
  const protocols: Budget['protocols'] = [];
  let total = 0;
  const seen: { [name: string]: boolean } = {};
  for (const m of modules) {
    const parts = m.split(/[\\/]/);
    if (parts[0] !== 'src' || parts[1] !== 'protocols' || parts.length < 4) continue;
    const name = parts[2];
    if (seen[name] || !PROTOCOL_STATE[name]) continue;
    seen[name] = true;
    const bytes = PROTOCOL_STATE[name].bytes(board);
    protocols.push({ name: name, what: PROTOCOL_STATE[name].what, bytes: bytes });
    total += bytes;
  }
  return { protocols: protocols, total: total };
}

/**
 * Costs in variables, fitted to bundles booted from flash on Espruino 2v29's
 * Linux builds with a device's memory layout (docs/device-cost.md has the
 * cost model and test/device-interpreter.test.ts the runs): a function object
 * about 6.25 on average (4 at the top level, plus its name, plus its share of
 * prototypes and the objects it keeps), 0.92 more for each parameter it still
 * declares (params.ts moves most into locals), a pooled connection with its
 * two ring objects about 45 (its life in the bits of one number, "no value"
 * undefined, not null: 60 before; a slot never used is about 8 fewer, as its
 * empty fields are not written, which the estimate does not count: it errs
 * high), an accepted socket about 40, and a base of 147 for the interpreter,
 * the driver, the listener and the manager. Refitted when the esp8266
 * telemetry had come to +4.6% (7.2, 35 and 129 before) so that every run
 * stays inside the band test/device-interpreter.test.ts asserts (-2% .. +5%);
 * refitted again (6.6 before) when the HTTP code's status and MIME tables
 * became switches: they were about 190 variables of the dashboard build that
 * the per-function average had carried. docs/device-cost.md has the latest
 * runs against it.
 */
export const VARS_PER_FUNCTION = 6.25;
/** A declared parameter, kept by its function object (0.92 measured on 2v29: docs/device-cost.md). */
export const VARS_PER_PARAM = 0.92;
const VARS_PER_CONNECTION = 45;
const SOCKET_VARS = 40;
const BASE_VARS = 147;

/**
 * Variables a protocol's long-lived objects take beyond their buffers (the
 * MQTT client with its session and outbox fields; the SNTP clock and its
 * retry state): about 160 together, the part of esp32 telemetry's idle usage
 * (4,052 measured when fitted) that functions, connections and buffers did not explain.
 * Fitted on that one run, split by their fields.
 */
const PROTOCOL_OBJECT_VARS: { [protocol: string]: number } = { mqtt: 130, sntp: 30 };

export interface RamEstimate {
  /** Variables the bundle takes once started and idle: function objects, connections, static buffers, the rest. */
  idle: number;
  functions: number;
  /** Parameters the functions still declare: the ones params.ts could not move into locals. */
  params: number;
  connections: number;
  /**
   * What the bundle may grow by at its worst: one more peer, its socket and what the driver lets it take
   * (`peerVars`), for an app that accepts; for one that only connects (its connections open when it is idle),
   * what the driver lets one of them hold (`peerVars` held only).
   */
  peer: number;
  /** The variables of the target: the board's, or `--set variables=N`; undefined on the host. */
  board: number | undefined;
  /** Bytes per variable the estimate used. */
  variableBytes: number;
  /** Whether idle and one peer at its worst fit the target (always true without a count). */
  fits: boolean;
}

/**
 * An estimate of a bundle's RAM on the device (from flash), from its function
 * objects and budget; `variables` overrides the board's count (a larger
 * target, e.g. an ESP32 with PSRAM); `accepts` (default true) whether the app
 * listens for peers.
 */
export function ramEstimate(board: BoardProfile, budget: Budget, shape: { functions: number; params: number }, variables?: number, accepts?: boolean): RamEstimate {
  const functions = shape.functions;
  let connections = 0;
  for (const p of budget.pools) connections += p.conns;
  const size = board.variableBytes || 16;
  let state = 0;
  for (const p of budget.protocols) state += PROTOCOL_OBJECT_VARS[p.name] || 0;
  const idle = Math.round(functions * VARS_PER_FUNCTION + shape.params * VARS_PER_PARAM) + connections * VARS_PER_CONNECTION + Math.ceil(budget.total / size) + state + BASE_VARS;
  const peer = accepts === false ? peerVars(board.net, size, true) : SOCKET_VARS + peerVars(board.net, size);
  const target = variables || board.variables;
  return { idle: idle, functions: functions, params: shape.params, connections: connections, peer: peer, board: target, variableBytes: size, fits: target === undefined || idle + peer <= target };
}
