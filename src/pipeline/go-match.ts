//! Go's "all matches" iteration over a translated RE2 regex (go-regex.ts): `FindAll*` and
//! `ReplaceAll*` differ from JavaScript's `matchAll`/`replace` around empty matches (Go skips an empty
//! match that touches the previous match) and advance by code point, as Go advances by rune.

/** The same regex with the `g` flag (and `d` when `indices` is asked), for lastIndex-driven searches. */
export function globalRegex(re: RegExp, indices = false): RegExp {
  let flags = re.flags.replace(/[gyd]/g, '');
  flags += indices ? 'gd' : 'g';
  return new RegExp(re.source, flags);
}

/** Width in UTF-16 units of the code point at `i` (0 at the end of the string). */
function width(s: string, i: number): number {
  if (i >= s.length) return 0;
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return 2;
  }
  return 1;
}

/**
 * Go's `FindAllStringSubmatchIndex(s, -1)`: every successive non-overlapping match, leaving out an
 * empty match that starts where the previous match ended. `re` must carry the `g` flag.
 */
export function goFindAll(re: RegExp, input: string): RegExpExecArray[] {
  const out: RegExpExecArray[] = [];
  let pos = 0;
  let prevEnd = -1;
  while (pos <= input.length) {
    re.lastIndex = pos;
    const m = re.exec(input);
    if (m === null) break;
    const end = m.index + m[0].length;
    let accept = true;
    if (end === m.index) {
      // An empty match: Go tries it once where it is found, and then moves one code point on.
      if (m.index === prevEnd) accept = false;
      const w = width(input, end);
      pos = w > 0 ? end + w : input.length + 1;
    } else pos = end;
    prevEnd = end;
    if (accept) out.push(m);
  }
  return out;
}

/**
 * Go's `ReplaceAllString` family: text between matches is kept, each match becomes `replace(match)`,
 * except an empty match right after a previous match (Go: "not for a match of the empty string
 * immediately after another match"). `re` must carry the `g` flag.
 */
export function goReplaceAll(re: RegExp, src: string, replace: (m: RegExpExecArray) => string): string {
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= src.length) {
    re.lastIndex = searchPos;
    const m = re.exec(src);
    if (m === null) break;
    const start = m.index;
    const end = start + m[0].length;
    out += src.slice(lastMatchEnd, start);
    if (end > lastMatchEnd || start === 0) out += replace(m);
    lastMatchEnd = end;
    const w = width(src, searchPos);
    if (searchPos + w > end) searchPos += w;
    else if (searchPos + 1 > end) searchPos++;
    else searchPos = end;
  }
  return out + src.slice(lastMatchEnd);
}
