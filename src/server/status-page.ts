//! The /targets status page: one self-contained HTML document (inline CSS and script, nothing fetched
//! from elsewhere) that draws the /targets JSON and refreshes itself from targets.json. Also owns the
//! choice between the page and the JSON for a request's Accept header.
//!
//! No value from the document is ever written into HTML here: the document travels as a JSON data
//! block (with `<`, `>`, `&` escaped so nothing can close the block), and the page's script puts every
//! value into the DOM with textContent. Container names and labels are user data.

import { STATUS_PAGE_SCRIPT } from './status-page-script.js';

/** How often the page fetches targets.json. */
export const STATUS_REFRESH_MS = 3000;

interface MediaRange {
  type: string;
  subtype: string;
  q: number;
  index: number;
}

function parseAccept(header: string): MediaRange[] {
  const out: MediaRange[] = [];
  let index = 0;
  for (const part of header.split(',')) {
    const [range = '', ...params] = part.split(';');
    const [type = '', subtype = ''] = range.trim().toLowerCase().split('/');
    if (type === '' || subtype === '') continue;
    let q = 1;
    for (const p of params) {
      const [k, v] = p.split('=');
      if (k?.trim().toLowerCase() === 'q') {
        const n = Number(v?.trim());
        q = Number.isFinite(n) ? Math.min(1, Math.max(0, n)) : 0;
      }
    }
    out.push({ type, subtype, q, index: index++ });
  }
  return out;
}

/**
 * How much a client wants a media type: the q of the most specific range that matches it (RFC 9110),
 * then that range's position (earlier is better), as a pair to compare.
 */
function rank(ranges: readonly MediaRange[], type: string, subtype: string): [number, number] {
  let best: MediaRange | undefined;
  let bestSpecificity = -1;
  for (const r of ranges) {
    const specificity =
      r.type === type && r.subtype === subtype ? 2 : r.type === type && r.subtype === '*' ? 1 : 0;
    if (specificity === 0 && !(r.type === '*' && r.subtype === '*')) continue;
    if (specificity > bestSpecificity) {
      best = r;
      bestSpecificity = specificity;
    }
  }
  return best === undefined ? [0, Number.NEGATIVE_INFINITY] : [best.q, -best.index];
}

/**
 * Whether a client asking for /targets with this Accept header gets the HTML page rather than JSON.
 * Browsers list text/html first, so they get the page. A bare wildcard (curl's and fetch's default)
 * and no header at all get JSON, so scripts keep working; ties go to JSON.
 */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  const ranges = parseAccept(accept);
  const html = rank(ranges, 'text', 'html');
  const json = rank(ranges, 'application', 'json');
  if (html[0] <= 0) return false;
  // Higher q wins; at equal q the range listed first; the same range (a wildcard) means JSON.
  return html[0] !== json[0] ? html[0] > json[0] : html[1] > json[1];
}

/** JSON that is safe inside a `<script type="application/json">` block and in any HTML context. */
export function embedJson(value: unknown): string {
  return (JSON.stringify(value) ?? 'null').replace(
    /[<>&\u2028\u2029]/g,
    c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** The Content-Security-Policy of the page: its own inline code (by nonce) and same-origin fetches only. */
export function statusPageCsp(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export interface StatusPageOptions {
  /** The /targets document the page shows before its first refresh. */
  document: unknown;
  /** Base64 nonce of this response, also given in its Content-Security-Policy. */
  nonce: string;
  /** @default STATUS_REFRESH_MS */
  refreshMs?: number;
}

const FAVICON =
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='3' fill='%23f46800'/%3E%3Cpath d='M4 5h8M4 8h6M4 11h4' stroke='white' stroke-width='1.6' stroke-linecap='round'/%3E%3C/svg%3E";

/** The whole page. */
export function renderStatusPage(o: StatusPageOptions): string {
  const refreshMs = Math.max(500, Math.round(o.refreshMs ?? STATUS_REFRESH_MS));
  // The nonce is base64 from randomBytes, but it lands in attributes: keep it to base64's alphabet.
  const nonce = o.nonce.replace(/[^A-Za-z0-9+/=]/g, '');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>docktail · targets</title>
<link rel="icon" href="${FAVICON}">
<style nonce="${nonce}">${STATUS_PAGE_CSS}</style>
</head>
<body>
<header class="top">
  <div class="brand"><span class="logo" aria-hidden="true"></span>docktail <span id="version" class="muted"></span></div>
  <span id="ready" class="pill"></span>
  <span class="spacer"></span>
  <span id="live" class="live"><span class="dot" aria-hidden="true"></span><span id="updated">loading…</span></span>
</header>
<main>
  <div id="banner" class="banner" role="status" hidden></div>
  <ul id="reasons" class="reasons" hidden></ul>
  <section id="summary" class="cards" aria-label="Summary"></section>
  <section>
    <h2>Loki clients</h2>
    <div class="panel"><table id="clients">
      <thead><tr><th>Push URL</th><th>Status</th><th>Last push</th><th class="n">Sent</th><th class="n">Pending</th><th class="n">Retries</th><th>Dropped</th><th>Last error</th></tr></thead>
      <tbody></tbody>
    </table></div>
  </section>
  <section>
    <div class="section-head">
      <h2>Targets <span id="count" class="muted"></span></h2>
      <input id="filter" type="search" placeholder="Filter: name, label, state…" aria-label="Filter targets" autocomplete="off">
    </div>
    <div class="panel"><table id="targets">
      <thead><tr><th>Container</th><th>State</th><th>Labels</th><th>Last line</th><th class="n">Lines</th><th class="n">Bytes</th><th class="n">Cursor lag</th><th>Last error</th></tr></thead>
      <tbody></tbody>
    </table>
    <p id="empty" class="empty" hidden></p></div>
  </section>
</main>
<footer class="muted">Refreshes every ${refreshMs / 1000} s · <a href="targets.json">targets.json</a> · <a href="metrics">metrics</a> · <a href="ready">ready</a></footer>
<noscript><p class="banner">This page draws itself with JavaScript. The same data is at <a href="targets.json">targets.json</a>.</p></noscript>
<script type="application/json" id="initial">${embedJson(o.document)}</script>
<script nonce="${nonce}">const REFRESH_MS = ${refreshMs};
${STATUS_PAGE_SCRIPT}</script>
</body>
</html>
`;
}

const STATUS_PAGE_CSS = `
:root {
  --bg: #f5f6f8; --panel: #fff; --fg: #1f2328; --muted: #656d76; --line: #d8dee4; --head: #f0f2f5;
  --accent: #f46800; --chip: #eef1f4; --chip-k: #57606a;
  --ok: #1a7f37; --ok-bg: #dafbe1; --warn: #9a6700; --warn-bg: #fff3c4; --bad: #cf222e; --bad-bg: #ffebe9;
  --info: #0969da; --info-bg: #ddf4ff; --odd: #8250df; --odd-bg: #f3e8ff; --off: #57606a; --off-bg: #eaeef2;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --panel: #161b22; --fg: #e6edf3; --muted: #8d96a0; --line: #30363d; --head: #1c2128;
    --chip: #21262d; --chip-k: #8d96a0;
    --ok: #3fb950; --ok-bg: #12361f; --warn: #d29922; --warn-bg: #3b2e0a; --bad: #f85149; --bad-bg: #42161a;
    --info: #58a6ff; --info-bg: #0c2d4f; --odd: #bc8cff; --odd-bg: #2e1f4d; --off: #8d96a0; --off-bg: #262c34;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", "DejaVu Sans", sans-serif; }
a { color: var(--info); }
.muted { color: var(--muted); }
.mono, .chip, code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 12.5px; }
.top { position: sticky; top: 0; z-index: 2; display: flex; align-items: center; gap: 12px; padding: 10px 24px;
  background: var(--panel); border-bottom: 1px solid var(--line); }
.brand { font-weight: 650; font-size: 17px; display: flex; align-items: center; gap: 8px; }
.brand .muted { font-weight: 400; font-size: 13px; }
.logo { width: 18px; height: 18px; border-radius: 4px; background: var(--accent); display: inline-block; }
.spacer { flex: 1; }
.live { display: inline-flex; align-items: center; gap: 6px; color: var(--muted); font-size: 13px; }
.live .dot { width: 8px; height: 8px; border-radius: 50%; background: var(--ok); }
.live.stale .dot { background: var(--bad); }
.live.stale { color: var(--bad); }
main { padding: 16px 24px 8px; max-width: 1680px; margin: 0 auto; }
h2 { font-size: 15px; margin: 22px 0 8px; font-weight: 650; }
h2 .muted { font-weight: 400; }
.pill, .badge { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 12.5px; font-weight: 600;
  white-space: nowrap; background: var(--off-bg); color: var(--off); }
.ok { background: var(--ok-bg); color: var(--ok); }
.warn { background: var(--warn-bg); color: var(--warn); }
.bad { background: var(--bad-bg); color: var(--bad); }
.info { background: var(--info-bg); color: var(--info); }
.odd { background: var(--odd-bg); color: var(--odd); }
.banner { margin: 0 0 12px; padding: 8px 12px; border-radius: 6px; background: var(--bad-bg); color: var(--bad);
  border: 1px solid var(--bad); }
.reasons { margin: 0 0 12px; padding: 8px 12px 8px 30px; border-radius: 6px; background: var(--warn-bg);
  color: var(--warn); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 22px; font-weight: 650; font-variant-numeric: tabular-nums; margin-top: 2px; }
.card .value.bad-text { color: var(--bad); }
.card .sub { color: var(--muted); font-size: 12.5px; margin-top: 2px; }
.card .sub .badge { margin: 2px 4px 0 0; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 7px 12px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--head); font-size: 12px; font-weight: 600; color: var(--muted); text-transform: uppercase;
  letter-spacing: .03em; white-space: nowrap; }
tbody tr:last-child td { border-bottom: 0; }
tbody tr:hover td { background: color-mix(in srgb, var(--head) 60%, transparent); }
.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.section-head { display: flex; align-items: end; justify-content: space-between; gap: 12px; }
#filter { margin: 0 0 8px; padding: 6px 10px; width: min(340px, 60vw); border: 1px solid var(--line);
  border-radius: 6px; background: var(--panel); color: var(--fg); font: inherit; }
.name { font-weight: 600; overflow-wrap: break-word; }
.c-name { min-width: 190px; }
.sub { color: var(--muted); font-size: 12px; }
.toggle { all: unset; cursor: pointer; display: inline-flex; gap: 6px; align-items: baseline; }
.toggle:focus-visible { outline: 2px solid var(--info); outline-offset: 2px; border-radius: 3px; }
.toggle .caret { color: var(--muted); width: 10px; font-size: 11px; }
.c-name .sub { padding-left: 16px; white-space: nowrap; }
tr.expanded td { border-bottom-color: transparent; }
tr.detail td { background: var(--head); padding: 10px 16px 12px 28px; }
.meta-row { display: flex; flex-wrap: wrap; gap: 12px 48px; }
.meta-box h3 { margin: 0 0 4px; font-size: 12px; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
dl.meta { display: grid; grid-template-columns: max-content minmax(0, 60ch); gap: 2px 14px; margin: 0; }
dl.meta dt { color: var(--muted); font-size: 12.5px; }
dl.meta dd { margin: 0; word-break: break-all; }
.chips { display: flex; flex-wrap: wrap; gap: 4px; max-width: 560px; }
.chip { background: var(--chip); border-radius: 4px; padding: 0 6px; white-space: nowrap; max-width: 100%;
  overflow: hidden; text-overflow: ellipsis; }
.chip .k { color: var(--chip-k); }
.err { color: var(--bad); max-width: 380px; display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical;
  overflow: hidden; word-break: break-word; }
.lag-warn { color: var(--warn); font-weight: 600; }
.lag-bad { color: var(--bad); font-weight: 600; }
.empty { margin: 0; padding: 18px; text-align: center; color: var(--muted); }
footer { padding: 16px 24px 24px; text-align: center; font-size: 12.5px; }
`;
