/**
 * Manager timers: functions run from poll() when their time comes. The
 * manager keeps the list and runs it; a timer is plain data plus the one
 * shared `cancel` method. Its function gets the timer's `arg`, so one
 * module-level function serves every instance that arms it (on Espruino each
 * function object costs RAM, so no closure per timer or per owner).
 */
export class Timer {
  /** When it runs next, on the manager's clock. */
  due: number;
  /** Its period; 0 for a one-shot timer. */
  readonly period: number;
  readonly fn: (arg: any) => void;
  /** What `fn` is called with. */
  readonly arg: any;
  /** 1 until cancelled or, for a one-shot timer, until it ran; then 0 (a number, not a boolean: a variable less on the device). */
  live = 1;

  constructor(due: number, period: number, fn: (arg: any) => void, arg: any) {
    this.due = due;
    this.period = period;
    this.fn = fn;
    this.arg = arg;
  }

  /** Stops it; safe to call more than once, and from inside its own function. */
  cancel(): void {
    this.live = 0;
  }
}
