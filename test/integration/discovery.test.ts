// Discovery and the Docker client against the real test engine (events, lists, filters, errors), and
// against a small fake engine on a unix socket for what the real one cannot be made to do on demand:
// drop the events stream, send malformed lines, answer slowly, speak other API versions.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DockerError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import type {
  DiscoveredContainer,
  DiscoveryFilter,
  DiscoveryHandler,
} from '../../src/discovery/discovery.js';
import { Discovery } from '../../src/discovery/discovery.js';
import { type ContainerSummary, DockerClient } from '../../src/docker/client.js';
import { parseEvent, timeNanoToSince } from '../../src/docker/events.js';
import { chooseApiVersion } from '../../src/docker/version.js';
import { Metrics } from '../../src/metrics/metrics.js';
import {
  docker,
  dockerHost,
  removeContainers,
  runContainer,
  uniqueName,
  waitExit,
} from '../harness/docker.js';

type Call =
  | { call: 'upsert'; id: string; target: DiscoveredContainer; at: number }
  | { call: 'started' | 'died' | 'destroyed'; id: string; at: number }
  | { call: 'synced'; ids: ReadonlySet<string>; at: number };

/** A handler that records every call, and waits for one. */
class Recorder implements DiscoveryHandler {
  readonly calls: Call[] = [];
  #waiters: Array<() => void> = [];
  upsert(target: DiscoveredContainer): void {
    this.#push({ call: 'upsert', id: target.id, target, at: Date.now() });
  }
  started(id: string): void {
    this.#push({ call: 'started', id, at: Date.now() });
  }
  died(id: string): void {
    this.#push({ call: 'died', id, at: Date.now() });
  }
  destroyed(id: string): void {
    this.#push({ call: 'destroyed', id, at: Date.now() });
  }
  synced(ids: ReadonlySet<string>): void {
    this.#push({ call: 'synced', ids: new Set(ids), at: Date.now() });
  }
  #push(c: Call): void {
    this.calls.push(c);
    for (const w of this.#waiters.splice(0)) w();
  }
  of(id: string): Call[] {
    return this.calls.filter(c => 'id' in c && c.id === id);
  }
  lastTarget(id: string): DiscoveredContainer | undefined {
    const ups = this.calls.filter(c => c.call === 'upsert' && c.id === id);
    const last = ups.at(-1);
    return last?.call === 'upsert' ? last.target : undefined;
  }
  async waitFor<T>(pick: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = pick();
      if (got !== undefined && got !== false) return got;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `timed out; calls: ${JSON.stringify(this.calls.map(c => [c.call, 'id' in c ? c.id.slice(0, 12) : '']))}`,
        );
      await new Promise<void>(resolve => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}

function discoveryOn(
  client: DockerClient,
  handler: DiscoveryHandler,
  options: { filters?: DiscoveryFilter[]; refreshIntervalMs?: number; metrics?: Metrics } = {},
) {
  return new Discovery({
    client,
    filters: options.filters ?? [],
    refreshIntervalMs: options.refreshIntervalMs ?? 3_600_000,
    port: 80,
    hostNetworkingHost: 'localhost',
    logger: silentLogger,
    metrics: options.metrics ?? new Metrics(),
    handler,
  });
}

describe('against the real engine', () => {
  const created: string[] = [];
  let client: DockerClient;
  const run = async (script: string, options: Parameters<typeof runContainer>[1] = {}) => {
    const id = await runContainer(script, options);
    created.push(id);
    return id;
  };
  before(() => {
    client = new DockerClient({ host: dockerHost(), logger: silentLogger });
  });
  after(() => removeContainers(created));

  it('negotiates the API version with the engine', async () => {
    const engineMax = await docker(['version', '--format', '{{.Server.APIVersion}}']);
    const engineMin = await docker(['version', '--format', '{{.Server.MinAPIVersion}}']);
    assert.equal(await client.negotiate(), chooseApiVersion(engineMax, engineMin));
    assert.equal(client.apiVersion, chooseApiVersion(engineMax, engineMin));
  });

  it('reports containers started after the start, by the events path, with their state', async () => {
    const rec = new Recorder();
    const name = uniqueName('disc-live');
    const existing = await run('echo before', { name: `${name}-pre`, labels: { 'com.example/role': 'pre' } });
    await waitExit(existing);
    const d = discoveryOn(client, rec);
    await d.start(new AbortController().signal);
    try {
      await d.firstSync;
      // The first list has the existing (exited) container, with its meta labels.
      const synced = rec.calls.find(c => c.call === 'synced');
      assert.ok(synced?.call === 'synced' && synced.ids.has(existing));
      const pre = rec.lastTarget(existing);
      assert.equal(pre?.state, 'exited');
      assert.equal(pre?.name, `${name}-pre`);
      assert.equal(pre?.metaLabels.__meta_docker_container_name, `/${name}-pre`);
      assert.equal(pre?.metaLabels.__meta_docker_container_label_com_example_role, 'pre');
      assert.equal(pre?.metaLabels.__meta_docker_container_network_mode, 'none');
      assert.equal(pre?.metaLabels.__meta_docker_network_name, 'none');

      // The refresh is an hour away: only the events can report these.
      const id = await run('sleep 30', { name });
      const returned = Date.now();
      const started = await rec.waitFor(() => rec.of(id).find(c => c.call === 'started'));
      const upsert = rec.of(id).find(c => c.call === 'upsert');
      assert.ok(upsert && upsert.at <= started.at, 'upsert comes before started');
      assert.ok(
        started.at - returned < 1_000,
        `reported ${started.at - returned} ms after docker run returned`,
      );
      assert.equal(rec.lastTarget(id)?.state, 'running');

      // A container that lives 50 ms is still reported, and ends up exited.
      const short = await run('usleep 50000', { name: `${name}-short` });
      await rec.waitFor(() => rec.of(short).find(c => c.call === 'died'));
      assert.ok(rec.of(short).some(c => c.call === 'upsert'));
      assert.ok(rec.of(short).some(c => c.call === 'started'));
      assert.equal(rec.lastTarget(short)?.state, 'exited');

      // Rename: the new name, in the name and in the meta labels.
      await docker(['rename', name, `${name}-renamed`]);
      const renamed = await rec.waitFor(() => {
        const t = rec.lastTarget(id);
        return t?.name === `${name}-renamed` ? t : undefined;
      });
      assert.equal(renamed.metaLabels.__meta_docker_container_name, `/${name}-renamed`);

      // Destroy.
      await docker(['rm', '-f', id]);
      await rec.waitFor(() => rec.of(id).find(c => c.call === 'destroyed'));
      const order = rec.of(id).map(c => c.call);
      assert.equal(order.at(-1), 'destroyed');
      assert.ok(order.includes('died'), `die before destroy: ${order.join(',')}`);
    } finally {
      await d.stop();
      await d.stop(); // idempotent
    }
  });

  it('applies a label filter through the engine: other containers are not targets', async () => {
    const rec = new Recorder();
    const teamA0 = await run('echo a0', { labels: { team: 'a' } });
    const teamB0 = await run('echo b0', { labels: { team: 'b' } });
    const d = discoveryOn(client, rec, { filters: [{ name: 'label', values: ['team=a'] }] });
    await d.start(new AbortController().signal);
    try {
      await d.firstSync;
      const synced = rec.calls.find(c => c.call === 'synced');
      assert.ok(synced?.call === 'synced');
      assert.ok(synced.ids.has(teamA0));
      assert.ok(!synced.ids.has(teamB0));
      for (const id of synced.ids)
        assert.equal(rec.lastTarget(id)?.metaLabels.__meta_docker_container_label_team, 'a');

      const teamB = await run('sleep 5', { labels: { team: 'b' } });
      const teamA = await run('sleep 5', { labels: { team: 'a' } });
      await rec.waitFor(() => rec.of(teamA).find(c => c.call === 'started'));
      await docker(['rm', '-f', teamB, teamA]);
      await rec.waitFor(() => rec.of(teamA).find(c => c.call === 'destroyed'));
      assert.deepEqual(rec.of(teamB), [], 'the team=b container is never reported');
      assert.deepEqual(rec.of(teamB0), []);
    } finally {
      await d.stop();
    }
  });

  it('reads events with an exact timeNano', async () => {
    const ac = new AbortController();
    const events = client.events({ filters: { type: ['container'], event: ['start'] } }, ac.signal);
    const iterator = events[Symbol.asyncIterator]();
    const first = iterator.next();
    const id = await run('true');
    // Other test files share the engine: skip their containers' events.
    let { value } = await first;
    while (value && value.id !== id) ({ value } = await iterator.next());
    ac.abort();
    assert.ok(value);
    assert.equal(value.id, id);
    assert.equal(value.action, 'start');
    assert.match(value.timeNano, /^\d{19}$/);
    assert.equal(BigInt(value.timeNano) / 1_000_000_000n, BigInt(value.time));
    assert.equal(value.attributes.image, 'docktail-test/busybox:1');
    // Aborting ends the iteration quietly.
    assert.deepEqual(await iterator.next(), { value: undefined, done: true });
  });

  it('maps engine errors to DockerError with the status and the engine message', async () => {
    const signal = new AbortController().signal;
    assert.equal(await client.inspectContainer('no-such-container-docktail', signal), null);
    await assert.rejects(
      client.openLogs('no-such-container-docktail', { since: '0', stdout: true, stderr: true }, signal),
      (err: unknown) =>
        err instanceof DockerError &&
        err.status === 404 &&
        err.message === 'No such container: no-such-container-docktail',
    );
    const silent = await run('echo hidden', { logDriver: 'none' });
    await waitExit(silent);
    await assert.rejects(
      client.openLogs(silent, { since: '0', stdout: true, stderr: true }, signal),
      (err: unknown) =>
        err instanceof DockerError &&
        err.status === 501 &&
        err.message === 'configured logging driver does not support reading',
    );
  });

  it('opens the raw, multiplexed logs stream with timestamps and follows until the container exits', async () => {
    const id = await run('echo out; echo err >&2');
    await waitExit(id);
    const info = await client.inspectContainer(id);
    assert.equal(info?.Config?.Tty, false);
    assert.equal(info?.State?.Running, false);
    const stream = await client.openLogs(
      id,
      { since: '0', stdout: true, stderr: false },
      new AbortController().signal,
    );
    const chunks: Buffer[] = [];
    const outcome = await new Promise<Error | undefined>(resolve =>
      stream.start({ data: chunk => chunks.push(Buffer.from(chunk)), done: resolve }),
    );
    assert.equal(outcome, undefined, 'the body ended, not broke');
    const raw = Buffer.concat(chunks);
    assert.equal(raw[0], 1, 'stdout frame header');
    const size = raw.readUInt32BE(4);
    assert.equal(raw.length, 8 + size, 'stderr not requested: one frame');
    assert.match(raw.subarray(8).toString(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z out\n$/);
  });

  it('aborting destroys an open logs stream', async () => {
    const id = await run('sleep 30');
    const ac = new AbortController();
    const stream = await client.openLogs(id, { since: '0', stdout: true, stderr: true }, ac.signal);
    const closed = new Promise(resolve => stream.onClose(() => resolve(undefined)));
    const outcome = new Promise<Error | undefined>(resolve =>
      stream.start({ data: () => {}, done: resolve }),
    );
    ac.abort();
    await closed;
    assert.equal((await outcome)?.name, 'AbortError', 'the read ends with the abort');
    assert.equal(client.follows.open, 0, 'the closed stream left the follow budget');
  });
});

// ---- fake engine --------------------------------------------------------------------------------------

interface FakeRequest {
  path: string;
  query: URLSearchParams;
  at: number;
}

/** A fake engine on a unix socket; each handler decides the answer for one route. */
class FakeEngine {
  readonly requests: FakeRequest[] = [];
  readonly socket: string;
  readonly #dir: string;
  readonly #server: Server;
  readonly #routes = new Map<
    string,
    (req: IncomingMessage, res: ServerResponse, q: URLSearchParams) => void
  >();
  version = { ApiVersion: '1.50', MinAPIVersion: '1.24' };
  containers: ContainerSummary[] = [];
  /** How many /containers/json requests are being answered at this moment, and the most at once. */
  listsInFlight = 0;
  maxListsInFlight = 0;
  listDelayMs = 0;

  constructor() {
    this.#dir = mkdtempSync(join(tmpdir(), 'docktail-fake-engine-'));
    this.socket = join(this.#dir, 'docker.sock');
    this.#server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const path = url.pathname.replace(/^\/v\d+\.\d+/, '');
      this.requests.push({ path: url.pathname, query: url.searchParams, at: Date.now() });
      const route = this.#routes.get(path);
      if (route) return route(req, res, url.searchParams);
      if (path === '/version') return json(res, this.version);
      if (path === '/networks') return json(res, []);
      if (path === '/containers/json') {
        this.listsInFlight++;
        this.maxListsInFlight = Math.max(this.maxListsInFlight, this.listsInFlight);
        const filters = JSON.parse(url.searchParams.get('filters') ?? '{}') as Record<string, string[]>;
        const answer = this.containers.filter(c => !filters.id || filters.id.includes(c.Id));
        setTimeout(() => {
          this.listsInFlight--;
          json(res, answer);
        }, this.listDelayMs);
        return;
      }
      res
        .writeHead(404, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ message: `page not found` }));
    });
  }

  route(
    path: string,
    handler: (req: IncomingMessage, res: ServerResponse, q: URLSearchParams) => void,
  ): void {
    this.#routes.set(path, handler);
  }

  of(path: string): FakeRequest[] {
    return this.requests.filter(r => r.path.replace(/^\/v\d+\.\d+/, '') === path);
  }

  listen(): Promise<void> {
    return new Promise(resolve => this.#server.listen(this.socket, resolve));
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise(resolve => this.#server.close(resolve));
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Api-Version': '1.50' }).end(JSON.stringify(body));
}

function summary(id: string, name: string, state = 'running'): ContainerSummary {
  return {
    Id: id,
    Names: [`/${name}`],
    State: state,
    Labels: {},
    Ports: [],
    HostConfig: { NetworkMode: 'none' },
    NetworkSettings: { Networks: {} },
  };
}

/** An engine event line, with timeNano written as the exact digits. */
function eventLine(action: string, id: string, timeNano: string): string {
  return `{"status":"${action}","id":"${id}","Type":"container","Action":"${action}","Actor":{"ID":"${id}","Attributes":{"image":"x","name":"n"}},"scope":"local","time":${timeNano.slice(0, -9)},"timeNano":${timeNano}}\n`;
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise(resolve => setTimeout(resolve, 20));
  }
}

describe('against a fake engine', () => {
  it('a rename looked up before the engine released the old name: the new name, not the old', async () => {
    const engine = new FakeEngine();
    await engine.listen();
    engine.containers = [summary('c1', 'web')];
    let events: ServerResponse | undefined;
    engine.route('/events', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      events = res;
    });
    const rec = new Recorder();
    const client = new DockerClient({ host: `unix://${engine.socket}`, logger: silentLogger });
    const d = discoveryOn(client, rec);
    try {
      await d.start(new AbortController().signal);
      await d.firstSync;
      assert.equal(rec.lastTarget('c1')?.name, 'web');
      // The engine's list during a rename: both names, sorted, so the old one comes first.
      engine.containers = [{ ...summary('c1', 'web'), Names: ['/web', '/web-2'] }];
      events!.write(
        '{"status":"rename","id":"c1","Type":"container","Action":"rename","Actor":{"ID":"c1","Attributes":' +
          '{"image":"x","name":"web-2","oldName":"/web"}},"scope":"local","time":1795235133,"timeNano":1795235133000000000}\n',
      );
      const renamed = await rec.waitFor(() => {
        const t = rec.lastTarget('c1');
        return t?.name === 'web-2' ? t : undefined;
      });
      assert.equal(renamed.metaLabels.__meta_docker_container_name, '/web-2');
    } finally {
      await d.stop();
      await engine.close();
    }
  });

  it('reopens a dropped events stream from the last exact timeNano, negotiates again, then lists again', async () => {
    const engine = new FakeEngine();
    await engine.listen();
    // Above 2^53: a JS number would turn it into …412800.
    const timeNano = '1795235133846412733';
    assert.notEqual(String(Number(timeNano)), timeNano);
    engine.containers = [summary('c1', 'one')];
    let opened = 0;
    engine.route('/events', (_req, res) => {
      opened++;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      // First connection: one event, then the engine drops the stream. Second: the replay from `since`
      // (inclusive, so that same event again), then a new one.
      if (opened === 1) setTimeout(() => res.end(eventLine('start', 'c1', timeNano)), 100);
      if (opened === 2)
        res.write(eventLine('start', 'c1', timeNano) + eventLine('die', 'c1', '1795235134000000000'));
    });
    const metrics = new Metrics();
    const rec = new Recorder();
    const client = new DockerClient({ host: `unix://${engine.socket}`, logger: silentLogger });
    const d = discoveryOn(client, rec, { metrics });
    try {
      await d.start(new AbortController().signal);
      await d.firstSync;
      await until(() => engine.of('/events').length >= 2);
      const [first, second] = engine.of('/events');
      assert.equal(first?.query.get('since'), null);
      assert.equal(second?.query.get('since'), '1795235133.846412733');
      assert.equal(timeNanoToSince(timeNano), '1795235133.846412733');
      assert.deepEqual(JSON.parse(second?.query.get('filters') ?? ''), {
        type: ['container'],
        event: ['start', 'die', 'destroy', 'rename'],
      });
      // Never a tight loop: the reconnect waited for the backoff (250 ms ± 20 %).
      const dropAt = (first?.at ?? 0) + 100;
      assert.ok((second?.at ?? 0) - dropAt >= 190, `reconnected after ${(second?.at ?? 0) - dropAt} ms`);
      // The version is negotiated again before the reconnect, and a full list (no id filter) follows it.
      const versions = engine.of('/version');
      assert.ok(versions.length >= 2);
      assert.ok(versions.some(v => v.at >= dropAt && v.at <= (second?.at ?? 0)));
      await until(() => engine.of('/containers/json').some(r => r.at >= (second?.at ?? 0)));
      const relist = engine.of('/containers/json').find(r => r.at >= (second?.at ?? 0));
      assert.equal(JSON.parse(relist?.query.get('filters') ?? '{}').id, undefined);
      assert.equal(relist?.query.get('all'), '1');
      // Negotiated below the engine's 1.50: this client's newest version.
      assert.ok(engine.requests.filter(r => r.path !== '/version').every(r => r.path.startsWith('/v1.47/')));
      assert.equal(client.apiVersion, '1.47');
      // The event itself was looked up through the engine (id filter) and reported.
      assert.ok(
        engine.of('/containers/json').some(r => JSON.parse(r.query.get('filters') ?? '{}').id?.[0] === 'c1'),
      );
      // The replayed start is not reported twice; the die is, and the list's stale `running` is not believed.
      await rec.waitFor(() => rec.of('c1').find(c => c.call === 'died'));
      assert.deepEqual(
        rec.of('c1').map(c => c.call),
        ['upsert', 'started', 'upsert', 'died'],
      );
      assert.equal(rec.lastTarget('c1')?.state, 'exited');
      assert.equal(
        (await metrics.registry.getSingleMetric('docktail_discovery_errors_total')?.get())?.values[0]?.value,
        1,
      );
    } finally {
      await d.stop();
      await engine.close();
    }
  });

  it('skips malformed event lines, counts them, and goes on with the next event', async () => {
    const engine = new FakeEngine();
    await engine.listen();
    engine.containers = [summary('c2', 'two')];
    engine.route('/events', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('not json at all\n');
      res.write('{"Type":"container"}\n');
      // One event split across writes, as TCP may deliver it.
      const line = eventLine('start', 'c2', '1795235133000000001');
      res.write(line.slice(0, 30));
      setTimeout(() => res.write(line.slice(30)), 20);
    });
    const metrics = new Metrics();
    const rec = new Recorder();
    const client = new DockerClient({ host: `unix://${engine.socket}`, logger: silentLogger });
    const d = discoveryOn(client, rec, { metrics });
    try {
      await d.start(new AbortController().signal);
      await rec.waitFor(() => rec.of('c2').find(c => c.call === 'started'));
      const counter = await metrics.registry.getSingleMetric('docktail_discovery_errors_total')?.get();
      assert.deepEqual(
        counter?.values.map(v => [v.labels.host, v.value]),
        [[client.name, 2]],
      );
    } finally {
      await d.stop();
      await engine.close();
    }
  });

  it('never runs two lists at once, however short the refresh interval', async () => {
    const engine = new FakeEngine();
    await engine.listen();
    engine.listDelayMs = 150;
    engine.route('/events', (_req, res) => {
      res.writeHead(200);
      res.flushHeaders();
    });
    const rec = new Recorder();
    const client = new DockerClient({ host: `unix://${engine.socket}`, logger: silentLogger });
    const d = discoveryOn(client, rec, { refreshIntervalMs: 10 });
    try {
      await d.start(new AbortController().signal);
      await until(() => rec.calls.filter(c => c.call === 'synced').length >= 4);
      assert.equal(engine.maxListsInFlight, 1);
    } finally {
      await d.stop();
      await engine.close();
    }
    // Stopped: no more lists.
    const count = rec.calls.length;
    await new Promise(resolve => setTimeout(resolve, 100));
    assert.equal(rec.calls.length, count);
  });

  it('does not narrow a user id filter with its own ids, and passes label filters to /events only when they mean the same', async () => {
    const engine = new FakeEngine();
    await engine.listen();
    engine.containers = [summary('abc1', 'one'), summary('zzz9', 'other')];
    let sent = false;
    engine.route('/events', (_req, res) => {
      res.writeHead(200);
      res.flushHeaders();
      if (!sent) {
        sent = true;
        setTimeout(() => res.write(eventLine('start', 'zzz9', '1795235133000000001')), 50);
      }
    });
    const rec = new Recorder();
    const client = new DockerClient({ host: `unix://${engine.socket}`, logger: silentLogger });
    const d = discoveryOn(client, rec, {
      filters: [
        { name: 'id', values: ['abc'] },
        { name: 'label', values: ['team=a'] },
      ],
    });
    try {
      await d.start(new AbortController().signal);
      await until(() => engine.of('/containers/json').length >= 2);
      await new Promise(resolve => setTimeout(resolve, 50));
      const lookup = engine.of('/containers/json')[1];
      // The fake answers the user's filter with both; zzz9 is not one the user asked for.
      assert.deepEqual(JSON.parse(lookup?.query.get('filters') ?? ''), { id: ['abc'], label: ['team=a'] });
      assert.deepEqual(rec.of('zzz9'), []);
      assert.deepEqual(JSON.parse(engine.of('/events')[0]?.query.get('filters') ?? ''), {
        type: ['container'],
        event: ['start', 'die', 'destroy', 'rename'],
        label: ['team=a'],
      });
    } finally {
      await d.stop();
      await engine.close();
    }
    // `name` is an event attribute that overrides a label of that name: not passed to /events.
    const engine2 = new FakeEngine();
    await engine2.listen();
    const d2 = discoveryOn(
      new DockerClient({ host: `unix://${engine2.socket}`, logger: silentLogger }),
      new Recorder(),
      {
        filters: [{ name: 'label', values: ['name=web'] }],
      },
    );
    try {
      await d2.start(new AbortController().signal);
      await d2.firstSync;
      assert.equal(JSON.parse(engine2.of('/events')[0]?.query.get('filters') ?? '').label, undefined);
    } finally {
      await d2.stop();
      await engine2.close();
    }
  });
});

describe('the client against a fake engine', () => {
  it('gives up on an engine that does not answer, and negotiates again afterwards', async () => {
    const engine = new FakeEngine();
    await engine.listen();
    engine.route('/containers/json', () => {}); // never answers
    const client = new DockerClient({
      host: `unix://${engine.socket}`,
      logger: silentLogger,
      headerTimeoutMs: 200,
    });
    try {
      const started = Date.now();
      await assert.rejects(
        client.listContainers({}),
        (err: unknown) => err instanceof DockerError && /did not answer within 200 ms/.test(err.message),
      );
      assert.ok(Date.now() - started < 2_000);
      assert.equal(engine.of('/version').length, 1);
      // The engine may have restarted meanwhile: the next call asks for its version again.
      assert.deepEqual(await client.listNetworks(), []);
      assert.equal(engine.of('/version').length, 2);
    } finally {
      await engine.close();
    }
  });

  it('shares one negotiation between concurrent callers, and lets an aborted caller leave alone', async () => {
    const engine = new FakeEngine();
    await engine.listen();
    engine.version = { ApiVersion: '1.56', MinAPIVersion: '1.48' };
    let answer: (() => void) | undefined;
    engine.route('/version', (_req, res) => {
      answer = () => json(res, engine.version);
    });
    const client = new DockerClient({ host: `unix://${engine.socket}`, logger: silentLogger });
    try {
      const ac = new AbortController();
      const first = client.negotiate(ac.signal);
      const second = client.listNetworks();
      await until(() => answer !== undefined);
      ac.abort();
      await assert.rejects(first, (err: unknown) => err instanceof Error && err.name === 'AbortError');
      answer?.();
      assert.deepEqual(await second, []);
      assert.equal(engine.of('/version').length, 1);
      assert.equal(client.apiVersion, '1.48');
      assert.equal(engine.of('/networks')[0]?.path, '/v1.48/networks');
    } finally {
      await engine.close();
    }
  });

  it('names the host without credentials and refuses unknown schemes', () => {
    const tcp = new DockerClient({ host: 'tcp://user:secret@127.0.0.1:2375', logger: silentLogger });
    assert.equal(tcp.name, 'tcp://127.0.0.1:2375');
    assert.equal(
      new DockerClient({ host: 'unix:///var/run/docker.sock', logger: silentLogger }).name,
      'unix:///var/run/docker.sock',
    );
    assert.throws(() => new DockerClient({ host: 'ssh://host', logger: silentLogger }), DockerError);
  });
});

describe('API version choice and event parsing', () => {
  const table: Array<[string, string | undefined, string]> = [
    ['1.41', '1.12', '1.41'],
    ['1.50', '1.24', '1.47'],
    ['1.47', '1.40', '1.47'],
    ['1.56', '1.48', '1.48'],
    ['1.41', undefined, '1.41'],
  ];
  for (const [max, min, chosen] of table) {
    it(`engine ${min ?? '?'}…${max} → ${chosen}`, () => assert.equal(chooseApiVersion(max, min), chosen));
  }

  it('reads timeNano from the raw line, not from a label called timeNano', () => {
    const line =
      '{"Type":"container","Action":"start","Actor":{"ID":"x","Attributes":{"timeNano":"5","name":"n"}},"scope":"local","time":1795235133,"timeNano":1795235133846412733}';
    const event = parseEvent(line);
    assert.ok(typeof event !== 'string');
    assert.equal(event.timeNano, '1795235133846412733');
    assert.equal(event.attributes.timeNano, '5');
    assert.equal(
      (
        parseEvent('{"Type":"container","Action":"start","Actor":{"ID":"x"},"time":7}') as {
          timeNano: string;
        }
      ).timeNano,
      '7000000000',
    );
    assert.equal(parseEvent('[1]'), 'no Type, Action or Actor.ID');
    assert.equal(parseEvent('{'), 'not JSON');
  });
});
