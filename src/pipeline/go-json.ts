//! JSON text as Promtail writes it with json-iterator's default config (the json and pack stages):
//! like JSON.stringify, except that `<`, `>`, `&`, U+2028 and U+2029 are escaped (`\u003c`…), and
//! backspace and form feed are written `\u0008` and `\u000c` rather than `\b` and `\f`.

const NEEDS_GO_ESCAPE = /[<>&\u2028\u2029\b\f]/;
/** In JSON.stringify output: an escaped backslash (kept), `\b`, `\f`, or a character Go escapes. */
const GO_ESCAPES = /\\[\\bf]|[<>&\u2028\u2029]/g;
const REPLACEMENTS: Readonly<Record<string, string>> = {
  '\\\\': '\\\\',
  '\\b': '\\u0008',
  '\\f': '\\u000c',
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

function goEscape(json: string): string {
  return json.replace(GO_ESCAPES, m => REPLACEMENTS[m]!);
}

/** A JSON string literal for `s`, as json-iterator writes it. */
export function goJsonString(s: string): string {
  const json = JSON.stringify(s);
  return NEEDS_GO_ESCAPE.test(s) ? goEscape(json) : json;
}

/** A parsed JSON value (object, array…) written back as json-iterator writes it. */
export function goJsonMarshal(value: unknown): string {
  const json = JSON.stringify(value);
  return /[<>&\u2028\u2029]|\\[bf]/.test(json) ? goEscape(json) : json;
}
