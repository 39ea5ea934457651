/**
 * The one wake-up rule of every driver (Driver.wake): the manager asks to be
 * polled within `ms`, and a driver keeps a single timer, armed for the
 * earliest deadline asked for. A wake due no sooner than the armed one changes
 * nothing; a sooner one re-arms it. A driver only says how to arm its timer.
 *
 * `wakeEarliest` is written as a method of the driver so a driver installs it
 * on its prototype as `wake` (on the device a wrapper would be one function
 * object more).
 */
import type { Poller } from './driver.js';

/** What a driver keeps for its wake-ups. */
export interface Waker {
  /** What the timer polls; while none is set, wakes are ignored. */
  poller: Poller | null;
  /** When the armed timer is due, on the driver's clock; undefined while none is armed. The driver clears it as the timer fires. */
  wakeDue?: number;
  now(): number;
  /** Arms the driver's one timer to poll in `ms` (0: as soon as it can), replacing the one armed. */
  armWake(ms: number): void;
}

export function wakeEarliest(this: Waker, ms: number): void {
  if (!this.poller) return;
  const due = this.now() + (ms > 0 ? ms : 0);
  if (this.wakeDue !== undefined && this.wakeDue <= due) return;
  this.wakeDue = due;
  this.armWake(ms);
}
