//! A reader of .env files with Docker Compose's rules (compose-spec/compose-go, dotenv/parser.go), to
//! check what deploy/scripts/write-env.sh writes as compose will read it. Written from those rules:
//! - blank lines and lines starting with `#` are skipped; `export ` before a name is allowed;
//! - unquoted values end at the line's end or at ` #`, are trimmed, and `$VAR`/`${VAR}` are expanded;
//! - in quotes, `\` before the closing quote keeps the quote; before anything else it stays as written;
//! - single-quoted values are taken as they are;
//! - double-quoted values then have `\\`, `\"`, `\$`, `\n`, `\t`, `\r` unescaped, and `$VAR`/`${VAR}`
//!   expanded, where `$$` (or `\$`) is a literal `$`.

const ESCAPES: Record<string, string> = { '\\': '\\', '"': '"', n: '\n', t: '\t', r: '\r', $: '\0$' };

/** Expands `$NAME` and `${NAME…}`; `$$` and the `\0$` marker from `\$` become a literal `$`. */
function expand(value: string, lookup: (name: string) => string): string {
  return value.replace(
    /\0\$|\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (m, a, b) => (m === '\0$' || m === '$$' ? '$' : lookup(a ?? b)),
  );
}

/** Parses the text into name → value. Throws on what compose rejects (an unterminated quote). */
export function parseComposeEnv(text: string, lookup: (name: string) => string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    if (text[i] === '#') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl + 1;
      continue;
    }
    const key = /^(?:export\s+)?([A-Za-z0-9_.\-[\]]+)[ \t]*[=:][ \t]*/.exec(text.slice(i));
    if (!key) throw new Error(`bad line: ${text.slice(i, text.indexOf('\n', i))}`);
    i += key[0].length;
    const q = text[i];
    if (q !== "'" && q !== '"') {
      const nl = text.indexOf('\n', i);
      const line = text.slice(i, nl < 0 ? text.length : nl);
      i = nl < 0 ? text.length : nl + 1;
      out[key[1]!] = expand(line.split(' #')[0]!.trimEnd(), lookup);
      continue;
    }
    let raw = '';
    let j = i + 1;
    for (; j < text.length && text[j] !== q; j++) {
      if (text[j] === '\\' && j + 1 < text.length) {
        j++;
        raw += text[j] === q ? q : `\\${text[j]}`;
      } else raw += text[j];
    }
    if (j >= text.length) throw new Error(`unterminated quoted value for ${key[1]}`);
    i = j + 1;
    out[key[1]!] =
      q === "'"
        ? raw
        : expand(
            raw.replace(/\\([\\"ntr$])/g, (_, c: string) => ESCAPES[c]!),
            lookup,
          );
  }
  return out;
}
