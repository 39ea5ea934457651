/**
 * Breaks the lines terser leaves too long.
 *
 * An exception on Espruino copies its whole source line into RAM, so the gate
 * refuses lines over MAX_LINE. Terser breaks lines only between statements;
 * one long expression (a chain of `?:` returns) stays on one line. This step
 * breaks such a line after an operator token (`?` `:` `,` `&&` `||` `+` …),
 * where a line break never ends a statement, once it has LINE_TARGET
 * characters. Shorter lines are left as they are.
 */
import { tokenizer } from 'acorn';
import { LINE_TARGET, MAX_LINE } from './gate.js';

const BREAK_AFTER: { [label: string]: boolean } = { '?': true, ':': true, ',': true, '||': true, '&&': true, '+/-': true, '==/!=/===/!==': true };

export function breakLongLines(code: string): string {
  let longest = 0;
  for (let at = 0, nl; at < code.length; at = nl + 1) {
    nl = code.indexOf('\n', at);
    if (nl < 0) nl = code.length;
    if (nl - at > longest) longest = nl - at;
  }
  if (longest <= MAX_LINE) return code;
  const breaks: number[] = [];
  let lineStart = 0;
  let from = 0;
  for (const token of tokenizer(code, { ecmaVersion: 5 })) {
    const nl = code.lastIndexOf('\n', token.end - 1);
    if (nl >= from) lineStart = nl + 1; // a newline before or inside this token (comments, terser's own breaks)
    from = token.end;
    if (!BREAK_AFTER[token.type.label] || token.end - lineStart < LINE_TARGET) continue;
    const lineEnd = code.indexOf('\n', token.end);
    if ((lineEnd < 0 ? code.length : lineEnd) - lineStart <= MAX_LINE) continue;
    breaks.push(token.end);
    lineStart = token.end;
  }
  let out = '';
  let at = 0;
  for (const b of breaks) {
    out += code.slice(at, b) + '\n';
    at = b;
  }
  return out + code.slice(at);
}
