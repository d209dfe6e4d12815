//! The code-point sets behind Go regex classes, for the translator in go-regex.ts: Perl (`\d`, `\s`,
//! `\w`) and POSIX (`[:alpha:]`) classes as ranges, sorting/merging and complementing ranges, Go's
//! `(?i)` case folding (SimpleFold orbits), and the JS names of Go's Unicode classes (`\p{Greek}`).

/** An inclusive range of code points. */
export type Range = readonly [number, number];

const R = (lo: string, hi = lo): Range => [lo.codePointAt(0)!, hi.codePointAt(0)!];
export const PERL: Record<string, Range[]> = {
  d: [R('0', '9')],
  s: [R('\t', '\n'), R('\f', '\r'), R(' ')],
  w: [R('0', '9'), R('A', 'Z'), R('_'), R('a', 'z')],
};
export const POSIX: Record<string, Range[]> = {
  alnum: [R('0', '9'), R('A', 'Z'), R('a', 'z')],
  alpha: [R('A', 'Z'), R('a', 'z')],
  ascii: [[0, 0x7f]],
  blank: [R('\t'), R(' ')],
  cntrl: [
    [0, 0x1f],
    [0x7f, 0x7f],
  ],
  digit: [R('0', '9')],
  graph: [R('!', '~')],
  lower: [R('a', 'z')],
  print: [R(' ', '~')],
  punct: [R('!', '/'), R(':', '@'), R('[', '`'), R('{', '~')],
  space: [R('\t', '\r'), R(' ')],
  upper: [R('A', 'Z')],
  word: [R('0', '9'), R('A', 'Z'), R('_'), R('a', 'z')],
  xdigit: [R('0', '9'), R('A', 'F'), R('a', 'f')],
};

/** Sorted, merged ranges. */
export function normalize(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const out: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

export function complement(ranges: readonly Range[], max: number): Range[] {
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of normalize(ranges)) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= max) out.push([next, max]);
  return out;
}

// Fold pairs that JS's toLowerCase/toUpperCase do not connect (Unicode simple case folding,
// which Go's SimpleFold follows): K/Kelvin sign, s/long s, Å/Angstrom sign, Greek symbol forms.
// biome-ignore format: a table reads better in rows.
const FOLD_PAIRS = [
  [0x6b, 0x212a], [0x73, 0x17f], [0xe5, 0x212b], [0xdf, 0x1e9e], [0x3c9, 0x2126], [0x3b2, 0x3d0],
  [0x3b5, 0x3f5], [0x3b8, 0x3d1], [0x3b9, 0x345], [0x3b9, 0x1fbe], [0x3ba, 0x3f0], [0x3c0, 0x3d6],
  [0x3c1, 0x3f1], [0x3c3, 0x3c2], [0x3c6, 0x3d5],
] as const;
const FOLD_EXTRA = new Map<number, number[]>();
for (const [a, b] of FOLD_PAIRS) {
  FOLD_EXTRA.set(a, [...(FOLD_EXTRA.get(a) ?? []), b]);
  FOLD_EXTRA.set(b, [...(FOLD_EXTRA.get(b) ?? []), a]);
}
const foldCache = new Map<number, number[]>();

/** The code points Go's (?i) treats as equal to `cp` (its SimpleFold orbit), `cp` first. */
export function foldSet(cp: number): number[] {
  if (cp < 0x41 || cp > 0x1e943) return [cp]; // Go's minFold/maxFold
  const cached = foldCache.get(cp);
  if (cached) return cached;
  const seen = new Set([cp]);
  const queue = [cp];
  for (let x = queue.pop(); x !== undefined; x = queue.pop()) {
    const ch = String.fromCodePoint(x);
    const lower = ch.toLowerCase();
    const upper = ch.toUpperCase();
    const next = [...(FOLD_EXTRA.get(x) ?? [])];
    // Multi-character mappings (ß → SS) are full case mapping, not folding: skip them.
    if ([...lower].length === 1) next.push(lower.codePointAt(0)!);
    if ([...upper].length === 1) next.push(upper.codePointAt(0)!);
    for (const y of next) {
      if (!seen.has(y)) {
        seen.add(y);
        queue.push(y);
      }
    }
  }
  let result = [cp];
  if (seen.size > 1) {
    // Case mapping reaches a little further than case folding (ı → I → i); JS's `iu` matching uses
    // simple case folding, so it filters the candidates down to the true orbit.
    const same = new RegExp(`^\\u{${cp.toString(16)}}$`, 'iu');
    result = [...seen].filter(x => x === cp || same.test(String.fromCodePoint(x)));
  }
  foldCache.set(cp, result);
  return result;
}

export function foldRanges(ranges: readonly Range[]): Range[] {
  const out: Range[] = [...ranges];
  for (const [lo, hi] of ranges) {
    if (lo <= 0x41 && hi >= 0x1e943) continue; // covers every folding code point already
    for (let cp = Math.max(lo, 0x41); cp <= Math.min(hi, 0x1e943); cp++) {
      for (const v of foldSet(cp)) if (v !== cp) out.push([v, v]);
    }
  }
  return out;
}

const propertyCache = new Map<string, string | undefined>();

/** The JS form of a Go Unicode class name (category, script, Any, ASCII…), if JS knows it. */
export function jsProperty(name: string): string | undefined {
  if (propertyCache.has(name)) return propertyCache.get(name);
  // Go looks names up case-insensitively, ignoring `_`, `-` and spaces ("greek" is "Greek").
  const canonical = name
    .replace(/[_\- ]/g, '')
    .replace(/^(.)(.*)$/s, (_, a: string, b: string) => a.toUpperCase() + b.toLowerCase());
  const special: Record<string, string> = { Any: 'Any', Assigned: 'Assigned', Ascii: 'ASCII', Lc: 'LC' };
  const compiles = (p: string): boolean => {
    try {
      new RegExp(`\\p{${p}}`, 'u');
      return true;
    } catch {
      return false;
    }
  };
  let found = special[canonical];
  for (const candidate of [name, canonical]) {
    if (found || candidate === '') break;
    if (compiles(`General_Category=${candidate}`)) found = candidate;
    else if (compiles(`Script=${candidate}`)) found = `Script=${candidate}`;
  }
  propertyCache.set(name, found);
  return found;
}
