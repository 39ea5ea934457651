/** Text edits of a bundle by source range, for the build's rewriting steps (flatten.ts, params.ts). */

export interface Edit {
  start: number;
  end: number;
  text: string;
}

/** `code[from, to)` with the `edits` (non-overlapping ranges) that fall inside it replaced. */
export function applyEdits(code: string, edits: Edit[], from = 0, to = code.length): string {
  const sorted = edits.slice().sort((a, b) => a.start - b.start);
  let out = '';
  let at = from;
  for (const e of sorted) {
    if (e.start < from || e.end > to) continue;
    out += code.slice(at, e.start) + e.text;
    at = e.end;
  }
  return out + code.slice(at, to);
}
