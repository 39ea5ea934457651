/**
 * String search that answers alike on Espruino and Node. Espruino 2v29's
 * String indexOf also "finds" a needle when the string's tail is only the start
 * of it ("abc,".indexOf(",W") is 3), so a search for more than one character
 * goes through here; the gate rejects `.indexOf("…")` of a longer literal.
 */

/** Offset of `needle` in `s` at or after `from`, or -1: only whole matches. */
export function indexOfText(s: string, needle: string, from?: number): number {
  const at = s.indexOf(needle, from);
  // A real match comes before any partial one at the end, so only a hit that runs past the end is false.
  return at >= 0 && at + needle.length <= s.length ? at : -1;
}
