// Bad input from both sides, against the docktail process: an engine (a fake one on a unix socket, as
// the real one cannot be made to misbehave on demand) that sends malformed events and answers 404, 500
// or garbage about some containers, and a receiver that answers with HTML pages. Each problem is logged
// and counted, the agent keeps going, and the good containers' lines arrive exactly once.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { LokiReceiver } from '../fakes/loki-receiver.js';
import { startLokiReceiver } from '../fakes/loki-receiver.js';
import type { AgentProcess } from '../harness/agent.js';
import { startAgent } from '../harness/agent.js';
import { compareDelivery } from '../harness/compare.js';
import type { TruthLine } from '../harness/docker.js';
import { entriesFor, metricValue, portOf, report, sleep } from '../harness/faults.js';
import { runLabel, tempDir, writeTestConfig } from '../harness/setup.js';

const BASE = 1795235073;
const hex = (c: string) => c.repeat(64);

interface FakeContainer {
  id: string;
  name: string;
  /** What GET /containers/{id}/json answers. */
  inspect: 'ok' | 404 | 500 | 'garbage';
  /** What GET /containers/{id}/logs answers. */
  logs: 'ok' | 500 | 'garbage';
  lines: string[];
  listed: boolean;
}

/** `2026-…Z` of line i of a container. */
function stamp(i: number): string {
  return `${new Date((BASE + i) * 1000).toISOString().slice(0, 19)}.${String(1000 + i).padStart(9, '0')}Z`;
}

function frame(type: number, payload: string): Buffer {
  const body = Buffer.from(payload);
  const head = Buffer.alloc(8);
  head[0] = type;
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
}

/** An engine that misbehaves in chosen ways; everything it is asked is recorded. */
class FakeEngine {
  readonly socket: string;
  readonly requests: string[] = [];
  readonly containers: FakeContainer[];
  readonly #dir: string;
  readonly #server: Server;
  #events: ServerResponse | undefined;

  constructor(containers: FakeContainer[]) {
    this.containers = containers;
    this.#dir = mkdtempSync(join(tmpdir(), 'docktail-bad-engine-'));
    this.socket = join(this.#dir, 'docker.sock');
    this.#server = createServer((req, res) => {
      this.#answer(req, res);
    });
  }

  listen(): Promise<void> {
    return new Promise(resolve => this.#server.listen(this.socket, resolve));
  }

  /** Writes raw text into the open events stream. */
  event(text: string): void {
    this.#events?.write(text);
  }

  count(pattern: RegExp): number {
    return this.requests.filter(r => pattern.test(r)).length;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise(resolve => this.#server.close(resolve));
    rmSync(this.#dir, { recursive: true, force: true });
  }

  /** Answers one request; true once answered (or, for /events, kept open). */
  #answer(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname.replace(/^\/v\d+\.\d+/, '');
    this.requests.push(path);
    const json = (status: number, body: unknown): boolean => {
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
      return true;
    };
    if (path === '/version') return json(200, { ApiVersion: '1.45', MinAPIVersion: '1.24' });
    if (path === '/networks') return json(200, []);
    if (path === '/events') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      this.#events = res;
      return true;
    }
    if (path === '/containers/json') {
      const filters = JSON.parse(url.searchParams.get('filters') ?? '{}') as Record<string, string[]>;
      const listed = this.containers.filter(c => c.listed && (!filters.id || filters.id.includes(c.id)));
      return json(
        200,
        listed.map(c => ({
          Id: c.id,
          Names: [`/${c.name}`],
          State: 'exited',
          Labels: {},
          Ports: [],
          HostConfig: { NetworkMode: 'none' },
          NetworkSettings: { Networks: {} },
        })),
      );
    }
    const m = /^\/containers\/([^/]+)\/(json|logs)$/.exec(path);
    const c = m ? this.containers.find(x => x.id === m[1]) : undefined;
    if (!m || !c) return json(404, { message: 'page not found' });
    if (m[2] === 'json') {
      if (c.inspect === 404) return json(404, { message: `No such container: ${c.id}` });
      if (c.inspect === 500) return json(500, { message: 'boom: the engine is unwell' });
      if (c.inspect === 'garbage') {
        res.writeHead(200).end('<html>not json at all');
        return true;
      }
      return json(200, {
        Id: c.id,
        Name: `/${c.name}`,
        Config: { Tty: false, Labels: {} },
        State: { Status: 'exited', Running: false, StartedAt: '2026-11-21T00:00:00Z' },
      });
    }
    if (c.logs === 500) return json(500, { message: 'logs exploded' });
    res.writeHead(200, { 'Content-Type': 'application/vnd.docker.multiplexed-stream' });
    if (c.logs === 'garbage') {
      res.end(Buffer.from('HTTP/1.1 200 OK\r\n\x00\xff\xfe garbage'));
      return true;
    }
    // `since` is inclusive, as the engine's.
    const since = Number(url.searchParams.get('since') ?? '0');
    const out: Buffer[] = [];
    c.lines.forEach((line, i) => {
      if (BASE + i + (1000 + i) / 1e9 >= since) out.push(frame(1, `${stamp(i)} ${line}\n`));
    });
    res.end(Buffer.concat(out));
    return true;
  }
}

function truthOf(c: FakeContainer): TruthLine[] {
  return c.lines.map((line, i) => ({ stream: 'stdout', ts: stamp(i), line }));
}

/** The value of `name{labels}` summed over the matching series. */
async function metricSum(agent: AgentProcess, name: string, labels: string): Promise<number> {
  const text = await fetch(`http://127.0.0.1:${portOf(agent)}/metrics`).then(r => r.text());
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) && line.includes(labels))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

const count = (agent: AgentProcess, pattern: RegExp) => agent.stderr.filter(l => pattern.test(l)).length;

async function setup(receiverOptions?: (r: LokiReceiver) => void) {
  const containers: FakeContainer[] = [
    { id: hex('a'), name: 'good', inspect: 'ok', logs: 'ok', lines: ['g1', 'g2', 'g3'], listed: true },
    { id: hex('b'), name: 'late', inspect: 'ok', logs: 'ok', lines: ['l1', 'l2'], listed: false },
    { id: hex('c'), name: 'inspect500', inspect: 500, logs: 'ok', lines: ['x'], listed: true },
    { id: hex('d'), name: 'inspectgarbage', inspect: 'garbage', logs: 'ok', lines: ['x'], listed: true },
    { id: hex('e'), name: 'logs500', inspect: 'ok', logs: 500, lines: ['x'], listed: true },
    { id: hex('f'), name: 'logsgarbage', inspect: 'ok', logs: 'garbage', lines: ['x'], listed: true },
    { id: hex('0'), name: 'gone', inspect: 404, logs: 'ok', lines: ['x'], listed: true },
  ];
  const engine = new FakeEngine(containers);
  await engine.listen();
  const receiver = await startLokiReceiver();
  receiverOptions?.(receiver);
  const dir = tempDir('bad-input');
  const config = writeTestConfig({
    dir,
    receiverUrl: receiver.url,
    runLabel: runLabel(),
    dockerHost: `unix://${engine.socket}`,
    refreshInterval: '1h',
  });
  const agent = startAgent({ args: [`-config.file=${config}`] });
  return { engine, receiver, agent, containers };
}

describe('bad input', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const c of cleanup) await c();
  });

  test('an engine sending malformed events and answering 404/500/garbage: logged, counted, the rest shipped once', async t => {
    const { engine, receiver, agent, containers } = await setup();
    cleanup.push(
      () => agent.stop(),
      () => receiver.close(),
      () => engine.close(),
    );
    await agent.waitForLog(/first discovery done/);
    // Malformed events, then a real one for a container that appears.
    engine.event('{not json\n[1,2]\n{"Type":"container","Action":"start"}\n\n\u001e\r\n');
    containers[1]!.listed = true;
    engine.event(
      `{"Type":"container","Action":"start","Actor":{"ID":"${hex('b')}","Attributes":{"name":"late"}},"time":${BASE + 5},"timeNano":${BASE + 5}000000000}\n`,
    );
    await receiver.waitFor(() => entriesFor(receiver, ['good', 'late']).length >= 5, 15_000);
    await sleep(4000);

    for (const c of containers.slice(0, 2)) {
      const d = compareDelivery(truthOf(c), entriesFor(receiver, [c.name]));
      report(t, d, { container: c.name });
      assert.deepEqual([d.lost, d.duplicated, d.unexpected], [0, 0, 0], c.name);
    }
    const host = `host="unix://${engine.socket}"`;
    const figures = {
      malformed_events_logged: count(agent, /malformed docker event skipped/),
      engine_api_errors: await metricSum(agent, 'docktail_discovery_errors_total', host),
      inspect_failures_logged: count(agent, /cannot inspect the container; retrying/),
      inspect500_requests: engine.count(new RegExp(`/containers/${hex('c')}/json`)),
      logs500_reconnects: await metricValue(agent, 'docktail_follow_reconnects_total', 'container="logs500"'),
      garbage_reconnects: await metricValue(
        agent,
        'docktail_follow_reconnects_total',
        'container="logsgarbage"',
      ),
      unreadable_logged: count(agent, /unreadable log stream/),
      open_failures_logged: count(agent, /could not open the log stream/),
    };
    t.diagnostic(JSON.stringify(figures));
    assert.equal(figures.malformed_events_logged, 3);
    assert.equal(figures.inspect_failures_logged, 2, 'once per container, not at every retry');
    assert.ok(figures.engine_api_errors >= 3 + 2, 'malformed events and failed inspects are counted');
    // Retried with a growing pause (0.5 s, 1 s, 2 s…), not in a tight loop.
    assert.ok(
      figures.inspect500_requests >= 2 && figures.inspect500_requests <= 8,
      `${figures.inspect500_requests} inspects`,
    );
    assert.ok(figures.logs500_reconnects >= 1 && figures.open_failures_logged >= 1);
    assert.ok(figures.garbage_reconnects >= 1 && figures.unreadable_logged >= 1);
    const targets = (await fetch(`http://127.0.0.1:${portOf(agent)}/targets`).then(r => r.json())) as {
      targets: Array<{ name: string; state: string; lastError?: string }>;
    };
    const broken = targets.targets.find(x => x.name === 'inspect500');
    assert.equal(broken?.state, 'retrying');
    assert.match(broken?.lastError ?? '', /boom: the engine is unwell/);
    assert.equal(agent.proc.exitCode, null, 'docktail keeps running');
    const ready = await fetch(`http://127.0.0.1:${portOf(agent)}/ready`);
    assert.equal(ready.status, 200, 'one bad container does not make the agent unready');
  });

  test('a receiver answering HTML pages (502 from a proxy, 404 from a web UI): logged, counted, the agent keeps going', async t => {
    const page = (title: string) =>
      `<!DOCTYPE html>\n<html>\n<head><title>${title}</title></head>\n<body><center><h1>${title}</h1></center><hr><center>nginx</center></body>\n</html>\n`;
    const { engine, receiver, agent, containers } = await setup(r =>
      r.failWith(502, { count: 3, body: page('502 Bad Gateway') }),
    );
    cleanup.push(
      () => agent.stop(),
      () => receiver.close(),
      () => engine.close(),
    );
    await agent.waitForLog(/first discovery done/);
    await receiver.waitFor(() => entriesFor(receiver, ['good']).length >= 3, 15_000);
    const d = compareDelivery(truthOf(containers[0]!), entriesFor(receiver, ['good']));
    const retries = await metricValue(agent, 'docktail_push_retries_total', 'reason="502"');
    const retryLog = agent.stderr.find(l => /error sending batch, will retry/.test(l)) ?? '';
    report(t, d, { retries_502: retries });
    t.diagnostic(retryLog);
    assert.deepEqual([d.lost, d.duplicated, d.unexpected], [0, 0, 0]);
    assert.ok(retries >= 3, `${retries} retries counted`);
    assert.match(retryLog, /status=502/);
    assert.match(retryLog, /502 Bad Gateway \(an HTML page/, 'the page title, not `<!DOCTYPE html>`');

    // A web UI at the URL instead of Loki: 404 is not retried; the batch is dropped, logged and counted.
    receiver.failWith(404, { count: 1, body: page('404 Not Found') });
    containers[1]!.listed = true;
    engine.event(
      `{"Type":"container","Action":"start","Actor":{"ID":"${hex('b')}","Attributes":{"name":"late"}},"time":${BASE + 5},"timeNano":${BASE + 5}000000000}\n`,
    );
    await agent.waitForLog(/Loki rejected a batch; its entries are dropped/, 15_000);
    const dropped = await metricValue(agent, 'docktail_dropped_entries_total', 'reason="ingester_error"');
    const dropLog = agent.stderr.find(l => /Loki rejected a batch/.test(l)) ?? '';
    t.diagnostic(`dropped_entries=${dropped} ${dropLog}`);
    assert.equal(dropped, 2, 'the two lines of the rejected batch are counted as dropped');
    assert.match(dropLog, /404 Not Found \(an HTML page/);
    assert.equal(agent.proc.exitCode, null);
    assert.equal(await agent.stop('SIGTERM'), 0, 'and stops cleanly');
  });
});
