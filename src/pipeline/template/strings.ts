//! Go's `strings` functions that Promtail's template stage exposes (ToLower, ToUpper, Replace, Trim…)
//! with Go's semantics where JavaScript's built-ins differ: per-rune simple case mapping (no `ß` → `SS`),
//! Go's `unicode.IsSpace` set for TrimSpace (no BOM, but U+0085), and rune-wise empty-pattern Replace.

// biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range is the point.
const ASCII = /^[\x00-\x7f]*$/;

/** Go's strings.ToUpper / ToLower: each code point mapped on its own (simple case mapping). */
export function goChangeCase(s: string, upper: boolean): string {
  if (ASCII.test(s)) return upper ? s.toUpperCase() : s.toLowerCase();
  let out = '';
  for (const ch of s) {
    if (!upper && ch === '\u0130') {
      out += 'i'; // Go maps U+0130 to a plain 'i'; JavaScript adds a combining dot.
      continue;
    }
    const mapped = upper ? ch.toUpperCase() : ch.toLowerCase();
    // Mappings to several code points (ß → SS) are special casing, which Go does not apply.
    out += mapped.length === ch.length || [...mapped].length === 1 ? mapped : ch;
  }
  return out;
}

/** Go's strings.Replace(s, old, new, n): at most n replacements (all when n < 0). */
export function goReplace(s: string, old: string, replacement: string, n: number): string {
  if (old === replacement || n === 0) return s;
  if (old === '') {
    // Matches at the start and after each code point: up to runeCount+1 replacements.
    const runes = [...s];
    const limit = n < 0 ? runes.length + 1 : Math.min(n, runes.length + 1);
    let out = '';
    for (let i = 0; i < runes.length; i++) out += (i < limit ? replacement : '') + runes[i];
    return limit > runes.length ? out + replacement : out;
  }
  let out = '';
  let start = 0;
  for (let done = 0; n < 0 || done < n; done++) {
    const at = s.indexOf(old, start);
    if (at < 0) break;
    out += s.slice(start, at) + replacement;
    start = at + old.length;
  }
  return out + s.slice(start);
}

function cutsetOf(cutset: string): Set<string> {
  return new Set(cutset);
}

/** Go's strings.TrimLeft(s, cutset): leading code points that are in cutset removed. */
export function goTrimLeft(s: string, cutset: string): string {
  if (s === '' || cutset === '') return s;
  const set = cutsetOf(cutset);
  let i = 0;
  for (const ch of s) {
    if (!set.has(ch)) break;
    i += ch.length;
  }
  return s.slice(i);
}

/** Go's strings.TrimRight(s, cutset): trailing code points that are in cutset removed. */
export function goTrimRight(s: string, cutset: string): string {
  if (s === '' || cutset === '') return s;
  const set = cutsetOf(cutset);
  let end = s.length;
  while (end > 0) {
    const lo = s.charCodeAt(end - 1);
    const w = lo >= 0xdc00 && lo <= 0xdfff && end >= 2 && s.charCodeAt(end - 2) >= 0xd800 ? 2 : 1;
    if (!set.has(s.slice(end - w, end))) break;
    end -= w;
  }
  return s.slice(0, end);
}

export function goTrim(s: string, cutset: string): string {
  return goTrimRight(goTrimLeft(s, cutset), cutset);
}

/** Go's unicode.IsSpace. */
const GO_SPACE =
  '\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';

export function goTrimSpace(s: string): string {
  return goTrim(s, GO_SPACE);
}

/** Sprig's `substr start end s`, on UTF-8 bytes as Go slices strings; Go's panics become errors. */
export function goSubstr(start: number, end: number, s: string): string | Error {
  const bytes = ASCII.test(s) ? undefined : Buffer.from(s, 'utf8');
  const len = bytes === undefined ? s.length : bytes.length;
  let from = start;
  let to = end;
  if (start < 0) from = 0;
  else if (end < 0 || end > len) to = len;
  if (to < 0 || to > len || from > to) return new Error(`slice bounds out of range [${from}:${to}]`);
  return bytes === undefined ? s.slice(from, to) : bytes.subarray(from, to).toString('utf8');
}

/**
 * spf13/cast's ToInt64 of a string, as sprig's `add` applies it: Go's ParseInt(s, 0, 0) after dropping
 * a zero fraction (`7.0`); 0 when that fails.
 */
export function castStringToInt64(s: string): bigint {
  let text = s;
  const zeroFraction = /^(.*)\.0+$/.exec(text);
  if (zeroFraction) text = zeroFraction[1]!;
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(
    text.replaceAll(/(?<=[0-9a-fA-F])_(?=[0-9a-fA-F])/g, ''),
  );
  if (!m) return 0n;
  const body = m[2]!;
  const n =
    /^0[xXoObB]/.test(body) || body.length === 1 ? BigInt(body.toLowerCase()) : BigInt(`0o${body.slice(1)}`);
  const v = m[1] === '-' ? -n : n;
  return v > 0x7fff_ffff_ffff_ffffn || v < -0x8000_0000_0000_0000n ? 0n : v;
}
