/** The sandbox's timers: setTimeout/setInterval on the virtual clock, run as the interpreter's loop runs them. */
import type { Listener } from './network.js';

export interface TimerEntry {
  id: number;
  /** The loop pass that created it: a timer is never run in the pass that set it. */
  pass: number;
  due: number;
  period: number;
  fn: Listener;
  args: unknown[];
}

/**
 * One loop pass in this many skips its timers, as the interpreter's loop sometimes does (up to 3 chunks
 * between two polls). Matches the measured limits: an esp8266 echo keeps up with a 2 KB window, not 3 KB.
 */
export const JITTER_EVERY = 8;

/** What the timers use of the sandbox (EspruinoSandbox in ../sandbox.ts). */
export interface TimerHost {
  readonly realm: { Error: ErrorConstructor };
  timers: TimerEntry[];
  nextTimerId: number;
  readonly pass: number;
  readonly now: number;
  call(fn: Listener, self: unknown, args: unknown[], what: string): boolean;
  problem(message: string): void;
}

/** setTimeout (period -1) and setInterval: the timer id. */
export function addTimer(sb: TimerHost, fn: Listener, ms: number, period: number, args: unknown[]): number {
  if (typeof fn !== 'function') throw new sb.realm.Error('setTimeout needs a function');
  const id = sb.nextTimerId++;
  sb.timers.push({ id: id, pass: sb.pass, due: sb.now + Math.max(ms, 0), period: period, fn: fn, args: args });
  return id;
}

/** Runs the timers due that were set in an earlier loop pass, earliest first. */
export function runTimers(sb: TimerHost): void {
  const due = sb.timers.filter((t) => t.due <= sb.now && t.pass < sb.pass).sort((a, b) => a.due - b.due || a.id - b.id);
  for (const t of due) {
    if (sb.timers.indexOf(t) < 0) continue; // cleared by an earlier one
    if (t.period < 0) sb.timers = sb.timers.filter((x) => x !== t);
    else {
      t.due += t.period;
      t.pass = sb.pass;
    }
    const ok = sb.call(t.fn, undefined, t.args, t.period < 0 ? 'timeout' : 'interval');
    if (!ok && t.period >= 0) {
      sb.timers = sb.timers.filter((x) => x !== t);
      sb.problem('interval removed after its callback threw');
    }
  }
}
