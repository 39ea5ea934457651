/**
 * Declares at the top of a function only the vars that need it there.
 *
 * Espruino makes a function's variable when its `var` statement runs, not
 * when the call starts (no hoisting). So a var used before that, outside the
 * block that declares it, or from a function inside, needs a declaration at
 * the top (the gate refuses the bundle otherwise); every other var is better
 * left where it is. Declared all at the top (terser's `hoist_vars`), every
 * local of a running function took a variable: poll()'s 21 while a timer it
 * ran took a reading, the locals of branches not taken, and those after the
 * call at the bottom of the stack. Which vars need it is the gate's own
 * analysis (gate.ts `lateVars`).
 */
import { lateVars } from './gate.js';
import { applyEdits } from './edits.js';
import type { Edit } from './edits.js';

export function declareLateVars(code: string): string {
  const edits: Edit[] = [];
  for (const { body, names } of lateVars(code)) {
    let at = body.type === 'Program' ? 0 : body.start + 1;
    for (const st of body.body) {
      if (st.type === 'ExpressionStatement' && st.directive) at = st.end; // after 'use strict'
      else break;
    }
    edits.push({ start: at, end: at, text: 'var ' + names.join(',') + ';' });
  }
  return applyEdits(code, edits);
}
