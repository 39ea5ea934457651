/** Manager timers: functions run from poll() when their time comes. */

export interface Timer {
  /** Stops it; safe to call more than once, and from inside its own function. */
  cancel(): void;
}

interface Entry extends Timer {
  due: number;
  period: number;
  repeat: boolean;
  fn: () => void;
  live: boolean;
}

export class Timers {
  private readonly list: Entry[] = [];

  add(now: number, ms: number, fn: () => void, repeat: boolean): Timer {
    const entry: Entry = {
      due: now + ms,
      period: ms,
      repeat: repeat,
      fn: fn,
      live: true,
      cancel: function () {
        entry.live = false;
      },
    };
    this.list.push(entry);
    return entry;
  }

  /** Runs every timer due at `now`, once each; a repeating timer keeps its phase. A throw is counted in `errors`, never propagated. */
  runDue(now: number, errors: { timerErrors: number; lastTimerError: string }): void {
    const list = this.list;
    const n = list.length;
    for (let i = 0; i < n; i++) {
      const t = list[i];
      if (!t.live || t.due > now) continue;
      if (t.repeat) {
        t.due += t.period > 0 ? t.period : 1;
        if (t.due <= now) t.due = now + (t.period > 0 ? t.period : 1); // fell behind: skip missed runs, never burst
      } else {
        t.live = false;
      }
      try {
        t.fn();
      } catch (e) {
        errors.timerErrors++;
        errors.lastTimerError = String(e);
      }
    }
    for (let i = list.length - 1; i >= 0; i--) if (!list[i].live) list.splice(i, 1);
  }

  /** The earliest due time, or -1 when none is set. */
  nextDue(): number {
    let best = -1;
    for (let i = 0; i < this.list.length; i++) {
      const t = this.list[i];
      if (t.live && (best < 0 || t.due < best)) best = t.due;
    }
    return best;
  }
}
