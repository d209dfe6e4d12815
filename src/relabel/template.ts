//! Go's `Regexp.Expand` templates (`$1`, `${name}`, `$$`) as relabel `replacement` uses them: parsed
//! once at config load, expanded per match against the group names from translateGoRegex (go-regex.ts).

/** A parsed template: literal text, a group number, or a group name. */
export type TemplatePart = string | number | { readonly name: string };

const NAME = /[\p{L}\p{Nd}_]+/uy;

/**
 * Parses a Go `Regexp.Expand` template: `$1`, `${1}`, `$name`, `${name}`, `$$`. As in Go, a name is
 * the longest run of letters, digits and `_` (so `$1x` names the group `1x`, which is usually
 * missing and expands to ''), and a `$` not followed by a valid reference stays literal.
 */
export function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = '';
  let i = 0;
  for (;;) {
    const dollar = template.indexOf('$', i);
    if (dollar < 0) break;
    text += template.slice(i, dollar);
    i = dollar + 1;
    if (template[i] === '$') {
      text += '$';
      i++;
      continue;
    }
    const brace = template[i] === '{';
    NAME.lastIndex = brace ? i + 1 : i;
    const m = NAME.exec(template);
    const end = m ? NAME.lastIndex : -1;
    if (!m || (brace && template[end] !== '}')) {
      text += '$';
      continue;
    }
    if (text) parts.push(text);
    text = '';
    parts.push(groupRef(m[0]));
    i = brace ? end + 1 : end;
  }
  text += template.slice(i);
  if (text) parts.push(text);
  return parts;
}

/** Go's rule: all ASCII digits, no leading zero, below 1e8 → a number; otherwise a name. */
function groupRef(name: string): number | { name: string } {
  let num = 0;
  for (const ch of name) {
    if (ch < '0' || ch > '9' || num >= 1e8) return { name };
    num = num * 10 + Number(ch);
  }
  return name.length > 1 && name[0] === '0' ? { name } : num;
}

/**
 * Expands parsed template parts against a match. Names resolve through `groupNames` (Go's
 * SubexpNames, from translateGoRegex) to the first group of that name that took part in the match;
 * without them, through `match.groups`. Missing or non-participating groups expand to ''.
 */
export function expandTemplate(
  parts: readonly TemplatePart[],
  match: RegExpExecArray,
  groupNames?: readonly string[],
): string {
  let out = '';
  for (const part of parts) {
    if (typeof part === 'string') out += part;
    else if (typeof part === 'number') out += match[part] ?? '';
    else if (groupNames) {
      for (let g = 1; g < groupNames.length; g++) {
        if (groupNames[g] === part.name && match[g] !== undefined) {
          out += match[g];
          break;
        }
      }
    } else out += match.groups?.[part.name] ?? '';
  }
  return out;
}

/** `parseTemplate` + `expandTemplate` in one call (parse once instead where a template is reused). */
export function expandReplacement(
  template: string,
  match: RegExpExecArray,
  groupNames?: readonly string[],
): string {
  return expandTemplate(parseTemplate(template), match, groupNames);
}
