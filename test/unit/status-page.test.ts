// The /targets route's choice between the status page and JSON, the JSON-only routes, and the page's
// safety: the document is embedded so that no value can close its block, and the script runs only by the
// nonce the response's Content-Security-Policy names. Served by the real HttpServer on 127.0.0.1.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../src/core/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { HttpServer } from '../../src/server/http.js';
import { embedJson, prefersHtml, renderStatusPage } from '../../src/server/status-page.js';

const HOSTILE = '</script><script>alert(1)</script><!-- \u2028 & </SCRIPT >';

describe('prefersHtml', () => {
  const cases: Array<[string | undefined, boolean, string]> = [
    [undefined, false, 'no Accept header'],
    ['', false, 'empty'],
    ['*/*', false, 'curl and fetch default'],
    ['application/json', false, 'explicit JSON'],
    ['text/html', true, 'explicit HTML'],
    [
      'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
      true,
      'Chromium / Firefox navigation',
    ],
    ['application/json, text/html', false, 'both at q=1: the first listed wins'],
    ['text/html, application/json', true, 'both at q=1: the first listed wins'],
    ['text/html;q=0.5, application/json', false, 'JSON has the higher q'],
    ['text/html, application/json;q=0.9', true, 'HTML has the higher q'],
    ['text/html;q=0', false, 'q=0 refuses HTML'],
    ['text/*', true, 'a text wildcard takes HTML'],
    ['text/html;q=0.8, */*', false, 'the wildcard gives JSON q=1'],
    ['application/*, text/html', false, 'application/* is as good and listed first'],
    ['TEXT/HTML', true, 'case-insensitive'],
    ['text/html;q=bogus, application/json;q=0.1', false, 'an unreadable q counts as 0'],
  ];
  for (const [accept, expected, why] of cases) {
    test(`${JSON.stringify(accept)} → ${expected ? 'HTML' : 'JSON'} (${why})`, () => {
      assert.equal(prefersHtml(accept), expected);
    });
  }
});

describe('embedJson and renderStatusPage', () => {
  test('no value can end the data block or a comment; the JSON reads back unchanged', () => {
    const doc = { targets: [{ name: HOSTILE, labels: { stdout: { [HOSTILE]: HOSTILE } } }] };
    const embedded = embedJson(doc);
    assert.doesNotMatch(embedded, /[<>&\u2028\u2029]/);
    assert.deepEqual(JSON.parse(embedded), doc);

    const html = renderStatusPage({ document: doc, nonce: 'abc123==' });
    // Exactly the page's own two script blocks, however the document is made.
    assert.equal(html.match(/<\/script/gi)?.length, 2);
    assert.equal(html.match(/<script/gi)?.length, 2);
    assert.equal(html.match(/<!--/g), null);
    const block = /<script type="application\/json" id="initial">([^<]*)<\/script>/.exec(html)?.[1];
    assert.deepEqual(JSON.parse(block ?? ''), doc);
  });

  test('self-contained: no external URL, and every script and style carries the nonce', () => {
    const html = renderStatusPage({ document: {}, nonce: 'n0nce+/=' });
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//);
    assert.doesNotMatch(html, /@import|url\(/);
    assert.match(html, /<style nonce="n0nce\+\/=">/);
    assert.match(html, /<script nonce="n0nce\+\/=">const REFRESH_MS = 3000;/);
    assert.match(renderStatusPage({ document: {}, nonce: 'x', refreshMs: 5000 }), /REFRESH_MS = 5000;/);
    // A nonce is only ever base64; anything else is removed rather than written into an attribute.
    assert.match(renderStatusPage({ document: {}, nonce: 'a"b<c' }), /<style nonce="abc">/);
  });
});

describe('HTTP routes', () => {
  const doc = { ready: { ready: true, reasons: [] }, clients: [], targets: [{ name: HOSTILE }] };
  let server: HttpServer;
  let base: string;

  before(async () => {
    server = new HttpServer({
      address: '127.0.0.1',
      port: 0,
      metrics: new Metrics(),
      logger: createLogger({ level: 'error', write: () => {} }),
      ready: () => ({ ready: true, reasons: [] }),
      targets: () => doc,
      beforeScrape: () => {},
    });
    base = `http://127.0.0.1:${await server.listen()}`;
  });
  after(() => server.close());

  const get = (path: string, accept?: string) =>
    fetch(`${base}${path}`, { headers: accept === undefined ? {} : { Accept: accept }, redirect: 'manual' });
  const browser = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

  const routes: Array<[string, string | undefined, 'html' | 'json']> = [
    ['/targets', undefined, 'json'],
    ['/targets', '*/*', 'json'],
    ['/targets', 'application/json', 'json'],
    ['/targets', browser, 'html'],
    ['/targets?format=json', browser, 'json'],
    ['/targets?format=html', 'application/json', 'html'],
    ['/targets.json', browser, 'json'],
    ['/targets.json?format=html', browser, 'json'],
  ];
  for (const [path, accept, kind] of routes) {
    test(`GET ${path} with Accept ${accept ?? '(none)'} → ${kind}`, async () => {
      const res = await get(path, accept);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      if (path.startsWith('/targets?') || path === '/targets')
        assert.equal(res.headers.get('vary'), 'Accept');
      const body = await res.text();
      if (kind === 'json') {
        assert.match(res.headers.get('content-type') ?? '', /^application\/json; charset=utf-8$/);
        assert.deepEqual(JSON.parse(body), doc);
        return;
      }
      assert.match(res.headers.get('content-type') ?? '', /^text\/html; charset=utf-8$/);
      const csp = res.headers.get('content-security-policy') ?? '';
      const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1];
      assert.ok(nonce, csp);
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /connect-src 'self'/);
      assert.ok(body.includes(`<script nonce="${nonce}">`), 'the script runs by the header nonce');
      assert.equal(body.match(/<\/script/gi)?.length, 2, 'the hostile name did not add a script end');
    });
  }

  test('every HTML response has a fresh nonce', async () => {
    const csp = async () => (await get('/targets', browser)).headers.get('content-security-policy');
    assert.notEqual(await csp(), await csp());
  });

  test('/ redirects to /targets; HEAD has headers and no body', async () => {
    const root = await get('/');
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/targets');
    const head = await fetch(`${base}/targets`, { method: 'HEAD', headers: { Accept: browser } });
    assert.equal(head.status, 200);
    assert.match(head.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(await head.text(), '');
  });
});
