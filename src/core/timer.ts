/**
 * Manager timers: functions run from poll() when their time comes. The
 * manager keeps the list and runs it; a timer is plain data plus the one
 * shared `cancel` method (on Espruino each function object costs RAM, so no
 * closure per timer).
 */
export class Timer {
  /** When it runs next, on the manager's clock. */
  due: number;
  /** Its period; 0 for a one-shot timer. */
  readonly period: number;
  readonly fn: () => void;
  /** False once cancelled or, for a one-shot timer, once it ran. */
  live = true;

  constructor(due: number, period: number, fn: () => void) {
    this.due = due;
    this.period = period;
    this.fn = fn;
  }

  /** Stops it; safe to call more than once, and from inside its own function. */
  cancel(): void {
    this.live = false;
  }
}
