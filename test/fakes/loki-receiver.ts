//! A Loki stand-in for tests: a real HTTP server on 127.0.0.1 that accepts `POST /loki/api/v1/push`
//! (snappy + protobuf), decodes it strictly with protobufjs reflection from src/loki/push.proto, records
//! every accepted entry and every request, and injects faults (status codes, stalls, dropped
//! connections, per-line rejections, a body size limit) that can be changed while a test runs.

import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { uncompress } from 'snappyjs';

export interface ReceivedEntry {
  labels: Record<string, string>;
  labelsString: string;
  sec: number;
  nsec: number;
  line: string;
  metadata: Record<string, string>;
  /** X-Scope-OrgID of the request, if any. */
  tenant: string | undefined;
  /** `performance.timeOrigin + performance.now()` when the request was decoded (ms, sub-ms precision). */
  receivedAt: number;
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Status answered; 0 when the connection was dropped without an answer or the request was stalled. */
  status: number;
  /** Body of the answer (Loki's error message), '' for 204. */
  answer: string;
  /** When the request arrived, in the same clock as `receivedAt`. */
  at: number;
  bodyBytes: number;
  /** Entries recorded from this request. */
  accepted: number;
}

export interface FailOptions {
  /** Fail this many requests, then accept again. */
  count?: number;
  /** Fail for this many ms from now. Without count or untilMs, fail until `clearFaults()`. */
  untilMs?: number;
  /** `Retry-After` header value to send (seconds, or an HTTP date). */
  retryAfter?: string | number;
  /** Answer body. @default `fake failure <status>` */
  body?: string;
}

export interface LokiReceiverOptions {
  /** Larger bodies are answered 413. */
  maxBodyBytes?: number;
}

export interface LokiReceiver {
  /** The push URL. */
  readonly url: string;
  /** Answer 413 to bodies over this many bytes; undefined for no limit. */
  maxBodyBytes: number | undefined;
  entries(): ReceivedEntry[];
  requests(): ReceivedRequest[];
  failWith(status: number, options?: FailOptions): void;
  /** Hold requests without answering until `unstall()` (then they are handled normally). */
  stall(): void;
  unstall(): void;
  /** For the next `count` valid pushes: record the entries, then destroy the socket without answering. */
  dropConnectionAfterAccept(count: number): void;
  /** Answer 400 like Loki for entries whose line matches: store the others, reject those. */
  rejectLinesMatching(regex: RegExp | undefined): void;
  /** Removes every fault. */
  clearFaults(): void;
  /** Resolves once `predicate(entries)` holds; rejects after `timeoutMs` (default 5000). */
  waitFor(predicate: (entries: readonly ReceivedEntry[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const PUSH_PATH = '/loki/api/v1/push';
const PROTO_PATH = fileURLToPath(new URL('../../src/loki/push.proto', import.meta.url));
const root = protobuf.loadSync(PROTO_PATH);
/** The reflected PushRequest type (also used by tests to build odd bodies). */
export const PushRequestType: protobuf.Type = root.lookupType('logproto.PushRequest');

// google.protobuf.Timestamp's valid range: 0001-01-01T00:00:00Z … 9999-12-31T23:59:59Z.
const MIN_SECONDS = -62_135_596_800;
const MAX_SECONDS = 253_402_300_799;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  '"': '"',
  "'": "'",
};

export class PushDecodeError extends Error {}

function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Reads a Go double-quoted string starting at `text[start] === '"'`; returns [value, index after]. */
function readQuoted(text: string, start: number): [string, number] {
  if (text[start] !== '"') throw new PushDecodeError(`expected '"' at ${start} in ${text}`);
  let out = '';
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '"') return [out, i + 1];
    if (ch === '\n') throw new PushDecodeError(`newline in label value: ${text}`);
    if (ch !== '\\') {
      out += ch;
      i += 1;
      continue;
    }
    const esc = text[i + 1];
    if (esc === undefined) break;
    const simple = SIMPLE_ESCAPES[esc];
    if (simple !== undefined) {
      out += simple;
      i += 2;
    } else if (esc === 'x' || esc === 'u' || esc === 'U') {
      const digits = esc === 'x' ? 2 : esc === 'u' ? 4 : 8;
      const hex = text.slice(i + 2, i + 2 + digits);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== digits)
        throw new PushDecodeError(`bad escape in ${text}`);
      out +=
        esc === 'x'
          ? String.fromCharCode(Number.parseInt(hex, 16))
          : String.fromCodePoint(Number.parseInt(hex, 16));
      i += 2 + digits;
    } else if (/[0-7]/.test(esc)) {
      const oct = text.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(oct)) throw new PushDecodeError(`bad escape in ${text}`);
      out += String.fromCharCode(Number.parseInt(oct, 8));
      i += 4;
    } else {
      throw new PushDecodeError(`unknown escape \\${esc} in ${text}`);
    }
  }
  throw new PushDecodeError(`unterminated label value in ${text}`);
}

/** Parses Loki's `{a="x", b="y"}` strictly (names valid and unique, at least one pair). */
export function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = Object.create(null);
  const trimmed = text.trim();
  if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) throw new PushDecodeError(`parse error: ${text}`);
  let i = 1;
  const end = trimmed.length - 1;
  const skip = () => {
    while (i < end && /\s/.test(trimmed[i]!)) i += 1;
  };
  skip();
  let count = 0;
  while (i < end) {
    const eq = trimmed.indexOf('=', i);
    if (eq === -1 || eq > end) throw new PushDecodeError(`parse error: ${text}`);
    const name = trimmed.slice(i, eq).trim();
    if (!LABEL_NAME.test(name)) throw new PushDecodeError(`invalid label name "${name}" in ${text}`);
    if (Object.hasOwn(labels, name)) throw new PushDecodeError(`duplicate label name "${name}" in ${text}`);
    i = eq + 1;
    skip();
    const [value, next] = readQuoted(trimmed, i);
    labels[name] = value;
    count += 1;
    i = next;
    skip();
    if (i < end) {
      if (trimmed[i] !== ',') throw new PushDecodeError(`parse error: ${text}`);
      i += 1;
      skip();
      if (i >= end) throw new PushDecodeError(`parse error (trailing comma): ${text}`);
    }
  }
  if (count === 0) throw new PushDecodeError('error at least one label pair is required per stream');
  return { ...labels };
}

function checkNoUnknowns(message: object, what: string): void {
  if ((message as { $unknowns?: unknown[] }).$unknowns?.length) {
    throw new PushDecodeError(`unknown field in ${what}`);
  }
}

function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  // int64 fields decode to Long objects (the `long` package is installed).
  if (value !== null && typeof value === 'object' && 'toNumber' in value) {
    return (value as { toNumber(): number }).toNumber();
  }
  return Number(value);
}

/** Decodes and validates a push body; throws PushDecodeError with Loki-like text when it is not valid. */
export function decodePushBody(body: Buffer, tenant?: string): Omit<ReceivedEntry, 'receivedAt'>[] {
  let raw: Buffer;
  try {
    raw = uncompress(body, 256 * 1024 * 1024);
  } catch (err) {
    throw new PushDecodeError(`snappy: corrupt input (${(err as Error).message})`);
  }
  let request: protobuf.Message & Record<string, unknown>;
  try {
    // Keep unknown fields (protobufjs drops them by default) so that they can be refused.
    const reader = protobuf.Reader.create(raw);
    reader.discardUnknown = false;
    request = PushRequestType.decode(reader) as protobuf.Message & Record<string, unknown>;
  } catch (err) {
    throw new PushDecodeError(`proto: ${(err as Error).message}`);
  }
  checkNoUnknowns(request, 'PushRequest');
  if (request.format !== '' && request.format !== undefined)
    throw new PushDecodeError('format set by the client');
  const out: Omit<ReceivedEntry, 'receivedAt'>[] = [];
  for (const stream of (request.streams ?? []) as Array<Record<string, unknown>>) {
    checkNoUnknowns(stream, 'StreamAdapter');
    if (toNumber(stream.hash) !== 0) throw new PushDecodeError('stream hash set by the client');
    const labelsString = String(stream.labels ?? '');
    const labels = parseLabels(labelsString);
    for (const entry of (stream.entries ?? []) as Array<Record<string, unknown>>) {
      checkNoUnknowns(entry, 'EntryAdapter');
      if (((entry.parsed as unknown[] | undefined) ?? []).length > 0) {
        throw new PushDecodeError('parsed labels set by the client');
      }
      const ts = entry.timestamp as Record<string, unknown> | null | undefined;
      if (ts === null || ts === undefined)
        throw new PushDecodeError(`entry without timestamp in ${labelsString}`);
      checkNoUnknowns(ts, 'Timestamp');
      const sec = toNumber(ts.seconds);
      const nsec = toNumber(ts.nanos);
      if (sec < MIN_SECONDS || sec > MAX_SECONDS || nsec < 0 || nsec > 999_999_999) {
        throw new PushDecodeError(`timestamp out of range: ${sec}.${nsec} in ${labelsString}`);
      }
      const metadata: Record<string, string> = {};
      for (const pair of (entry.structuredMetadata ?? []) as Array<Record<string, unknown>>) {
        checkNoUnknowns(pair, 'LabelPairAdapter');
        const name = String(pair.name ?? '');
        if (name === '') throw new PushDecodeError('structured metadata with an empty name');
        metadata[name] = String(pair.value ?? '');
      }
      out.push({ labels, labelsString, sec, nsec, line: String(entry.line ?? ''), metadata, tenant });
    }
  }
  return out;
}

interface Failure {
  status: number;
  remaining: number;
  until: number;
  retryAfter: string | undefined;
  body: string;
}

export async function startLokiReceiver(options: LokiReceiverOptions = {}): Promise<LokiReceiver> {
  const received: ReceivedEntry[] = [];
  const requests: ReceivedRequest[] = [];
  const waiters = new Set<() => void>();
  let held: Array<() => void> = [];
  let stalled = false;
  let failure: Failure | undefined;
  let dropAfterAccept = 0;
  let rejectPattern: RegExp | undefined;

  const notify = () => {
    for (const check of [...waiters]) check();
  };

  const answer = (
    res: http.ServerResponse,
    record: ReceivedRequest,
    status: number,
    text: string,
    extra = {},
  ) => {
    record.status = status;
    record.answer = text;
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...extra });
    res.end(text);
    notify();
  };

  const handle = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    record: ReceivedRequest,
    body: Buffer,
  ) => {
    // A held request whose client gave up (timeout) is not handled: it could not be answered anyway.
    if (res.destroyed || req.socket.destroyed) return;
    if (receiver.maxBodyBytes !== undefined && body.length > receiver.maxBodyBytes) {
      answer(
        res,
        record,
        413,
        `Request body too large: ${body.length} bytes, limit: ${receiver.maxBodyBytes} bytes\n`,
      );
      return;
    }
    if (failure !== undefined) {
      const active = failure.remaining > 0 && now() < failure.until;
      if (active) {
        failure.remaining -= 1;
        const extra = failure.retryAfter === undefined ? {} : { 'retry-after': failure.retryAfter };
        answer(res, record, failure.status, failure.body, extra);
        return;
      }
      failure = undefined;
    }
    const tenant =
      typeof req.headers['x-scope-orgid'] === 'string' ? req.headers['x-scope-orgid'] : undefined;
    let decoded: Omit<ReceivedEntry, 'receivedAt'>[];
    try {
      decoded = decodePushBody(body, tenant);
    } catch (err) {
      answer(res, record, 400, `${(err as Error).message}\n`);
      return;
    }
    const receivedAt = now();
    const rejected: Omit<ReceivedEntry, 'receivedAt'>[] = [];
    for (const entry of decoded) {
      if (rejectPattern?.test(entry.line)) rejected.push(entry);
      else received.push({ ...entry, receivedAt });
    }
    record.accepted = decoded.length - rejected.length;
    if (rejected.length > 0) {
      const first = rejected[0]!;
      answer(
        res,
        record,
        400,
        `entry with timestamp ${first.sec}.${first.nsec} ignored, reason: 'line matches ${rejectPattern}', ` +
          `total ignored: ${rejected.length} out of ${decoded.length} for stream: ${first.labelsString}\n`,
      );
      return;
    }
    if (dropAfterAccept > 0) {
      dropAfterAccept -= 1;
      record.status = 0;
      req.socket.destroy();
      notify();
      return;
    }
    answer(res, record, 204, '');
  };

  const server = http.createServer((req, res) => {
    const record: ReceivedRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      status: 0,
      answer: '',
      at: now(),
      bodyBytes: 0,
      accepted: 0,
    };
    requests.push(record);
    if (req.url !== PUSH_PATH) {
      answer(res, record, 404, '404 page not found\n');
      req.resume();
      return;
    }
    if (req.method !== 'POST') {
      answer(res, record, 405, 'method not allowed\n');
      req.resume();
      return;
    }
    if (req.headers['content-type'] !== 'application/x-protobuf') {
      answer(res, record, 415, `unsupported Content-Type ${req.headers['content-type']}\n`);
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      record.bodyBytes = body.length;
      if (stalled) held.push(() => handle(req, res, record, body));
      else handle(req, res, record, body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  const receiver: LokiReceiver = {
    url: `http://127.0.0.1:${port}${PUSH_PATH}`,
    maxBodyBytes: options.maxBodyBytes,
    entries: () => [...received],
    requests: () => [...requests],
    failWith(status, opts = {}) {
      failure = {
        status,
        remaining: opts.count ?? Number.POSITIVE_INFINITY,
        until: opts.untilMs === undefined ? Number.POSITIVE_INFINITY : now() + opts.untilMs,
        retryAfter: opts.retryAfter === undefined ? undefined : String(opts.retryAfter),
        body: opts.body ?? `fake failure ${status}\n`,
      };
    },
    stall() {
      stalled = true;
    },
    unstall() {
      stalled = false;
      const release = held;
      held = [];
      for (const run of release) run();
    },
    dropConnectionAfterAccept(count) {
      dropAfterAccept = count;
    },
    rejectLinesMatching(regex) {
      rejectPattern = regex;
    },
    clearFaults() {
      failure = undefined;
      dropAfterAccept = 0;
      rejectPattern = undefined;
      receiver.unstall();
    },
    waitFor(predicate, timeoutMs = 5000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!predicate(received)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`waitFor timed out after ${timeoutMs} ms (${received.length} entries received)`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      held = [];
      stalled = false;
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  return receiver;
}
