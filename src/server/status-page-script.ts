//! The status page's browser script, as text: it reads the embedded /targets document, draws the
//! summary, the clients and the targets, and fetches targets.json every REFRESH_MS (declared by the page
//! before this text). Every value reaches the DOM through textContent or a DOM property, never as HTML.
//! Plain ES2020 with no template literals, so it can live inside this module's template string.

export const STATUS_PAGE_SCRIPT = String.raw`
'use strict';
(() => {
  const $ = id => document.getElementById(id);
  // Problems first: the states that need a look sort to the top.
  const RANK = { error: 0, retrying: 1, unsupported: 2, starting: 3, following: 4, stopped: 5, ended: 6 };
  const TONE = { following: 'ok', retrying: 'warn', error: 'bad', unsupported: 'odd', starting: 'info' };
  const open = new Set();
  let doc = readInitial();
  let skew = skewOf(doc);
  let lastOk = Date.now();
  let failure = '';

  function readInitial() {
    try { return JSON.parse($('initial').textContent || 'null') || {}; } catch (e) { return {}; }
  }
  function skewOf(d) {
    const t = Date.parse(d && d.now);
    return Number.isFinite(t) ? t - Date.now() : 0;
  }
  function serverNow() { return Date.now() + skew; }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function isNum(n) { return typeof n === 'number' && Number.isFinite(n); }
  function count(n) { return isNum(n) ? n.toLocaleString('en-US') : '–'; }
  function bytes(n) {
    if (!isNum(n) || n < 0) return '–';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? String(n) : n.toFixed(n < 10 ? 1 : 0)) + ' ' + units[i];
  }
  function span(s) {
    if (s < 60) return Math.floor(s) + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min';
    if (s < 86400) return (s / 3600).toFixed(s < 36000 ? 1 : 0) + ' h';
    return Math.floor(s / 86400) + ' d';
  }
  function toMs(t) { return typeof t === 'number' ? t : Date.parse(t); }
  function ago(t) {
    const ms = toMs(t);
    if (t === undefined || t === null || !Number.isFinite(ms)) return el('span', 'muted', '–');
    const s = Math.max(0, (serverNow() - ms) / 1000);
    const e = el('span', 'time', s < 2 ? 'just now' : span(s) + ' ago');
    e.title = new Date(ms).toISOString();
    return e;
  }
  function cell(content, cls) {
    const td = el('td', cls);
    if (content instanceof Node) td.append(content); else if (content !== undefined) td.textContent = String(content);
    return td;
  }
  function numCell(n, text) {
    const td = cell(text, 'n');
    if (isNum(n)) td.dataset.value = String(n);
    return td;
  }
  function errorCell(message) {
    if (!message) return cell(el('span', 'muted', '–'));
    const e = el('div', 'err', message);
    e.title = String(message);
    return cell(e);
  }
  function stateBadge(state) {
    const s = String(state || 'unknown');
    return el('span', 'badge ' + (TONE[s] || ''), s);
  }
  function lagText(s) {
    if (!isNum(s)) return '–';
    if (s < 0.001) return '0 s';
    return s < 10 ? s.toFixed(s < 1 ? 3 : 1) + ' s' : span(s);
  }

  /** One chip per label name; a name whose value differs by stream shows both values. */
  function labelChips(labels) {
    const box = el('div', 'chips');
    const streams = Object.keys(labels || {});
    const names = new Set();
    for (const s of streams) for (const k of Object.keys(labels[s] || {})) names.add(k);
    if (names.size === 0) { box.append(el('span', 'muted', 'no labels')); return box; }
    for (const k of Array.from(names).sort()) {
      const values = [];
      for (const s of streams) {
        const v = labels[s][k];
        if (v !== undefined && !values.includes(v)) values.push(v);
      }
      const chip = el('span', 'chip');
      chip.append(el('span', 'k', k + '='), el('span', 'v', values.join(' | ')));
      chip.title = streams.map(s => s + ': ' + k + '=' + (labels[s][k] === undefined ? '(none)' : labels[s][k])).join('\n');
      box.append(chip);
    }
    if (streams.length === 1) box.append(el('span', 'chip muted', streams[0] + ' only'));
    return box;
  }

  function metaList(pairs, mono) {
    const dl = el('dl', 'meta');
    for (const [k, v] of pairs) {
      const empty = v === '' || v === undefined || v === null;
      dl.append(el('dt', '', k), el('dd', empty ? 'muted' : mono ? 'mono' : '', empty ? '(empty)' : v));
    }
    return dl;
  }

  function keyOf(t) { return String(t.job) + '/' + String(t.id); }

  /** The row under an expanded target: its cursors and the labels discovery found, before relabelling. */
  function detailRow(t) {
    const tr = el('tr', 'detail');
    const td = el('td');
    td.colSpan = 8;
    const target = el('div', 'meta-box');
    target.append(el('h3', '', 'Target'), metaList([
      ['container id', t.id],
      ['job', t.job],
      ['committed cursor', t.cursor || '–'],
      ['read cursor', t.readCursor || '–'],
      ['lines in flight', count(t.inFlight)],
      ['reconnects', count(t.reconnects)],
    ], true));
    const discovered = t.discoveredLabels || {};
    const labels = el('div', 'meta-box');
    labels.append(el('h3', '', 'Discovered labels'),
      metaList(Object.keys(discovered).sort().map(k => [k, discovered[k]]), true));
    const box = el('div', 'meta-row');
    box.append(target, labels);
    td.append(box);
    tr.append(td);
    return tr;
  }

  function targetRow(t, into) {
    const key = keyOf(t);
    const expanded = open.has(key);
    const tr = el('tr', 'target');
    tr.dataset.id = String(t.id);
    tr.dataset.state = String(t.state);
    const toggle = el('button', 'toggle');
    toggle.type = 'button';
    toggle.dataset.key = key;
    toggle.setAttribute('aria-expanded', String(expanded));
    toggle.title = expanded ? 'Hide details' : 'Show cursors and discovered labels';
    toggle.append(el('span', 'caret', expanded ? '▾' : '▸'), el('span', 'name', t.name));
    const who = el('td', 'c-name');
    who.append(toggle, el('div', 'sub mono', String(t.id || '').slice(0, 12) + ' · ' + t.job));
    tr.append(who, cell(stateBadge(t.state), 'c-state'), cell(labelChips(t.labels), 'c-labels'));
    tr.append(cell(ago(t.lastLineAt), 'c-last'));
    const lines = numCell(t.lines, count(t.lines));
    lines.classList.add('c-lines');
    tr.append(lines, numCell(t.bytes, bytes(t.bytes)));
    const lag = numCell(t.cursorLagSeconds, lagText(t.cursorLagSeconds));
    if (t.cursorLagSeconds > 60) lag.classList.add('lag-bad');
    else if (t.cursorLagSeconds > 10) lag.classList.add('lag-warn');
    if (t.inFlight > 0) lag.append(el('div', 'sub', count(t.inFlight) + ' in flight'));
    tr.append(lag, errorCell(t.lastError));
    into.append(tr);
    if (expanded) {
      tr.classList.add('expanded');
      into.append(detailRow(t));
    }
  }

  function matches(t, q) {
    if (!q) return true;
    const hay = [t.name, t.id, t.job, t.state, t.lastError];
    for (const s of Object.keys(t.labels || {})) {
      for (const [k, v] of Object.entries(t.labels[s] || {})) hay.push(k + '=' + v);
    }
    return hay.some(h => h !== undefined && String(h).toLowerCase().includes(q));
  }

  function drawTargets() {
    const all = Array.isArray(doc.targets) ? doc.targets.slice() : [];
    all.sort((a, b) => (RANK[a.state] ?? 3.5) - (RANK[b.state] ?? 3.5) || String(a.name).localeCompare(String(b.name)));
    const q = $('filter').value.trim().toLowerCase();
    const shown = all.filter(t => matches(t, q));
    const body = document.createDocumentFragment();
    for (const t of shown) targetRow(t, body);
    $('targets').tBodies[0].replaceChildren(body);
    $('count').textContent = q ? shown.length + ' of ' + all.length : String(all.length);
    const empty = $('empty');
    empty.hidden = shown.length > 0;
    empty.textContent = all.length === 0 ? 'No containers match the scrape configs yet.' : 'No target matches the filter.';
  }

  function clientStatus(c) {
    if (c.failingSince !== undefined) {
      return el('span', 'badge bad', 'failing for ' + span(Math.max(0, (serverNow() - c.failingSince) / 1000)));
    }
    if (c.retrying) return el('span', 'badge warn', 'retrying');
    if (c.lastPushAt === undefined) return el('span', 'badge', 'no push yet');
    return el('span', 'badge ok', 'ok');
  }

  function drops(dropped) {
    const box = el('div', 'chips');
    const reasons = Object.keys(dropped || {}).filter(r => dropped[r] > 0).sort();
    if (reasons.length === 0) box.append(el('span', 'muted', 'none'));
    for (const r of reasons) {
      const chip = el('span', 'chip');
      chip.append(el('span', 'k', r + ' '), el('span', 'v', count(dropped[r])));
      box.append(chip);
    }
    return box;
  }

  function drawClients() {
    const clients = Array.isArray(doc.clients) ? doc.clients : [];
    const body = document.createDocumentFragment();
    for (const c of clients) {
      const tr = el('tr', 'client');
      tr.append(cell(el('span', 'mono', c.url)), cell(clientStatus(c), 'c-status'), cell(ago(c.lastPushAt)));
      const sent = numCell(c.sentEntries, count(c.sentEntries));
      sent.classList.add('c-sent');
      sent.append(el('div', 'sub', bytes(c.sentBytes)));
      tr.append(sent, numCell(c.pendingBytes, bytes(c.pendingBytes)), numCell(c.retries, count(c.retries)));
      tr.append(cell(drops(c.dropped)), errorCell(c.lastError));
      body.append(tr);
    }
    if (clients.length === 0) {
      const td = cell('No Loki client (dry run).', 'muted');
      td.colSpan = 8;
      const tr = el('tr');
      tr.append(td);
      body.append(tr);
    }
    $('clients').tBodies[0].replaceChildren(body);
  }

  function card(label, value, sub, bad) {
    const c = el('div', 'card');
    c.append(el('div', 'label', label), el('div', bad ? 'value bad-text' : 'value', value));
    if (sub instanceof Node) { const s = el('div', 'sub'); s.append(sub); c.append(s); }
    else if (sub !== undefined) c.append(el('div', 'sub', sub));
    return c;
  }

  function drawSummary() {
    const targets = Array.isArray(doc.targets) ? doc.targets : [];
    const clients = Array.isArray(doc.clients) ? doc.clients : [];
    const sum = (xs, f) => xs.reduce((a, x) => a + (isNum(f(x)) ? f(x) : 0), 0);
    const byState = {};
    for (const t of targets) byState[t.state] = (byState[t.state] || 0) + 1;
    const states = document.createDocumentFragment();
    for (const s of Object.keys(byState).sort((a, b) => (RANK[a] ?? 3.5) - (RANK[b] ?? 3.5))) {
      states.append(el('span', 'badge ' + (TONE[s] || ''), byState[s] + ' ' + s));
    }
    const dropped = sum(clients, c => sum(Object.keys(c.dropped || {}), r => c.dropped[r]));
    const retries = sum(clients, c => c.retries);
    $('summary').replaceChildren(
      card('Targets', count(targets.length), targets.length ? states : 'none yet'),
      card('Lines read', count(sum(targets, t => t.lines)), bytes(sum(targets, t => t.bytes))),
      card('Accepted by Loki', count(sum(clients, c => c.sentEntries)), bytes(sum(clients, c => c.sentBytes))),
      card('Dropped', count(dropped), count(retries) + ' retries', dropped > 0),
      card('Waiting for Loki', bytes(sum(clients, c => c.pendingBytes)), 'held in memory'),
    );
  }

  function drawHeader() {
    $('version').textContent = doc.version ? 'v' + doc.version : '';
    const ready = doc.ready || {};
    const pill = $('ready');
    pill.className = 'pill ' + (ready.ready ? 'ok' : 'bad');
    pill.textContent = ready.ready ? 'ready' : 'not ready';
    const reasons = Array.isArray(ready.reasons) ? ready.reasons : [];
    const list = $('reasons');
    list.replaceChildren(...reasons.map(r => el('li', '', r)));
    list.hidden = reasons.length === 0;
  }

  function drawLive() {
    const age = (Date.now() - lastOk) / 1000;
    const stale = failure !== '' || age > (3 * REFRESH_MS) / 1000;
    $('live').className = stale ? 'live stale' : 'live';
    $('updated').textContent = 'updated ' + (age < 2 ? 'just now' : span(age) + ' ago');
    const banner = $('banner');
    banner.hidden = !stale;
    banner.textContent = stale
      ? 'Cannot reach docktail (' + (failure || 'no answer') + '); showing data from ' + new Date(lastOk).toLocaleTimeString() + '.'
      : '';
  }

  function draw() {
    drawHeader();
    drawSummary();
    drawClients();
    drawTargets();
    drawLive();
  }

  async function refresh() {
    try {
      const res = await fetch('targets.json', { cache: 'no-store', headers: { Accept: 'application/json' } });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      doc = (await res.json()) || {};
      skew = skewOf(doc);
      lastOk = Date.now();
      failure = '';
    } catch (e) {
      failure = String((e && e.message) || e);
    }
    draw();
    setTimeout(refresh, REFRESH_MS);
  }

  $('targets').addEventListener('click', e => {
    const button = e.target instanceof Element ? e.target.closest('button.toggle') : null;
    if (!button || !button.dataset.key) return;
    const key = button.dataset.key;
    if (open.has(key)) open.delete(key); else open.add(key);
    drawTargets();
  });
  $('filter').addEventListener('input', drawTargets);
  draw();
  setInterval(drawLive, 1000);
  setTimeout(refresh, REFRESH_MS);
})();
`;
