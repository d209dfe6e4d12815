//! The benchmark's Loki stand-in, run as a child process of bench/run.ts so that its CPU is not
//! docktail's and never slows the event loop that measures. It accepts `POST /loki/api/v1/push`,
//! snappy-decompresses and walks the protobuf by hand (no object per entry), and keeps per container:
//! the distinct line numbers seen (a bitmap: loss and duplicates), arrival times, and optionally the
//! latency of each entry (arrival − Docker timestamp). The parent asks for figures over IPC.
//!
//! Every line the benchmark writes carries its number as the first run of digits (`0000042 …` or
//! `{"n":"0000042",…}`); the container comes from the stream's `container="…"` label.

import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { uncompress } from 'snappyjs';

/** What the parent asks. */
export type ReceiverRequest =
  | { id: number; cmd: 'stats'; latency?: string }
  /** Forgets everything; keeps the latency of every entry of the container `latency`, if named. */
  | { id: number; cmd: 'reset'; latency?: string }
  | { id: number; cmd: 'close' };

/** Figures for one container. */
export interface ContainerStats {
  /** Entries received, duplicates included. */
  entries: number;
  /** Distinct line numbers received. */
  unique: number;
  duplicates: number;
  /** Arrival (epoch ms) of the first and the last request that held entries of this container. */
  firstAt: number;
  lastAt: number;
  /** Entries in the first request that held this container's entries. */
  firstRequestEntries: number;
  /** The distinct label strings this container's entries came with (at most 8 kept). */
  labelSets: string[];
}

export interface ReceiverStats {
  requests: number;
  bodyBytes: number;
  entries: number;
  /** Requests that could not be decoded (answered 400). */
  bad: number;
  containers: Record<string, ContainerStats>;
  /** Latency percentiles (ms) of the container named in the request, when asked. */
  latency?: { count: number; p50: number; p90: number; p99: number; max: number };
}

interface Tracked extends ContainerStats {
  seen: Uint8Array;
  latencies: number[] | undefined;
}

const PUSH_PATH = '/loki/api/v1/push';

let containers = new Map<string, Tracked>();
/** Label string → its container's record (label strings repeat in every request). */
let byLabels = new Map<string, Tracked>();
let totals = { requests: 0, bodyBytes: 0, entries: 0, bad: 0 };
/** Containers whose entry latencies are kept (names set by `latency:` in a stats request). */
const latencyOf = new Set<string>();

function now(): number {
  return performance.timeOrigin + performance.now();
}

function tracked(labels: string): Tracked {
  let t = byLabels.get(labels);
  if (t !== undefined) return t;
  const m = /container="([^"]*)"/.exec(labels);
  const name = m?.[1] ?? labels;
  t = containers.get(name);
  if (t === undefined) {
    t = {
      entries: 0,
      unique: 0,
      duplicates: 0,
      firstAt: 0,
      lastAt: 0,
      firstRequestEntries: 0,
      labelSets: [],
      seen: new Uint8Array(1024),
      latencies: latencyOf.has(name) ? [] : undefined,
    };
    containers.set(name, t);
  }
  if (t.labelSets.length < 8) t.labelSets.push(labels);
  byLabels.set(labels, t);
  return t;
}

function mark(t: Tracked, n: number): void {
  if (n >= t.seen.length) {
    let size = t.seen.length;
    while (size <= n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(t.seen);
    t.seen = grown;
  }
  if (t.seen[n] === 1) t.duplicates += 1;
  else {
    t.seen[n] = 1;
    t.unique += 1;
  }
}

// A hand-written protobuf walk: PushRequest.streams(1) → StreamAdapter{labels(1), entries(2)} →
// EntryAdapter{timestamp(1){seconds(1), nanos(2)}, line(2)}. Unknown fields are skipped.
let pos = 0;

function varint(b: Uint8Array): number {
  let result = 0;
  let shift = 1;
  for (;;) {
    const byte = b[pos++]!;
    result += (byte & 0x7f) * shift;
    if (byte < 0x80) return result;
    shift *= 128;
  }
}

function skip(b: Uint8Array, wire: number): void {
  if (wire === 0) varint(b);
  else if (wire === 2) pos += varint(b);
  else if (wire === 1) pos += 8;
  else if (wire === 5) pos += 4;
  else throw new Error(`wire type ${wire}`);
}

function decode(body: Uint8Array, at: number): number {
  pos = 0;
  let count = 0;
  const touched = new Set<Tracked>();
  while (pos < body.length) {
    const tag = varint(body);
    if (tag !== 10) {
      skip(body, tag & 7);
      continue;
    }
    const streamEnd = varint(body) + pos;
    let t: Tracked | undefined;
    while (pos < streamEnd) {
      const stag = varint(body);
      if (stag === 10) {
        const len = varint(body);
        t = tracked(Buffer.from(body.buffer, body.byteOffset + pos, len).toString('utf8'));
        pos += len;
      } else if (stag === 18) {
        if (t === undefined) throw new Error('entries before labels');
        const entryEnd = varint(body) + pos;
        let sec = 0;
        let nsec = 0;
        let n = -1;
        while (pos < entryEnd) {
          const etag = varint(body);
          if (etag === 10) {
            const tsEnd = varint(body) + pos;
            while (pos < tsEnd) {
              const ttag = varint(body);
              if (ttag === 8) sec = varint(body);
              else if (ttag === 16) nsec = varint(body);
              else skip(body, ttag & 7);
            }
          } else if (etag === 18) {
            const lineEnd = varint(body) + pos;
            let i = pos;
            while (i < lineEnd && (body[i]! < 0x30 || body[i]! > 0x39)) i++;
            if (i < lineEnd) {
              n = 0;
              while (i < lineEnd && body[i]! >= 0x30 && body[i]! <= 0x39) n = n * 10 + body[i++]! - 0x30;
            }
            pos = lineEnd;
          } else skip(body, etag & 7);
        }
        t.entries += 1;
        if (n >= 0) mark(t, n);
        if (t.latencies !== undefined) t.latencies.push(at - (sec * 1000 + nsec / 1e6));
        if (!touched.has(t)) {
          touched.add(t);
          if (t.firstAt === 0) t.firstAt = at;
        }
        if (t.firstAt === at) t.firstRequestEntries += 1;
        t.lastAt = at;
        count += 1;
      } else skip(body, stag & 7);
    }
  }
  return count;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function stats(latency: string | undefined): ReceiverStats {
  const out: ReceiverStats = { ...totals, containers: {} };
  for (const [name, t] of containers) {
    const { seen: _seen, latencies: _latencies, ...figures } = t;
    out.containers[name] = figures;
  }
  if (latency !== undefined) {
    const sorted = [...(containers.get(latency)?.latencies ?? [])].sort((a, b) => a - b);
    out.latency = {
      count: sorted.length,
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      max: sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN,
    };
  }
  return out;
}

const server = http.createServer((req, res) => {
  if (req.url !== PUSH_PATH || req.method !== 'POST') {
    res.writeHead(404).end();
    req.resume();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const at = now();
    totals.requests += 1;
    totals.bodyBytes += body.length;
    try {
      totals.entries += decode(uncompress(body), at);
    } catch (err) {
      totals.bad += 1;
      res.writeHead(400).end(`${(err as Error).message}\n`);
      return;
    }
    res.writeHead(204).end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const { port } = server.address() as AddressInfo;
process.send?.({ ready: true, url: `http://127.0.0.1:${port}${PUSH_PATH}` });

process.on('message', (msg: ReceiverRequest) => {
  if (msg.cmd === 'stats') {
    process.send?.({ id: msg.id, stats: stats(msg.latency) });
  } else if (msg.cmd === 'reset') {
    containers = new Map();
    byLabels = new Map();
    totals = { requests: 0, bodyBytes: 0, entries: 0, bad: 0 };
    latencyOf.clear();
    if (msg.latency !== undefined) latencyOf.add(msg.latency);
    process.send?.({ id: msg.id, ok: true });
  } else if (msg.cmd === 'close') {
    server.closeAllConnections();
    server.close(() => {
      process.send?.({ id: msg.id, ok: true });
      process.disconnect();
    });
  }
});
