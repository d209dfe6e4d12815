//! A Loki stand-in for tests: a real HTTP server on 127.0.0.1 that accepts `POST /loki/api/v1/push`
//! (snappy + protobuf), decodes it strictly (loki-push-decode.ts), records every accepted entry and every
//! request, and injects faults (status codes, stalls, dropped connections, per-line rejections, a body
//! size limit) that can be changed while a test runs.

import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type DecodedEntry, decodePushBody } from './loki-push-decode.js';

/** A decoded entry as recorded, with when it arrived. */
export interface ReceivedEntry extends DecodedEntry {
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

function now(): number {
  return performance.timeOrigin + performance.now();
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
    let decoded: DecodedEntry[];
    try {
      decoded = decodePushBody(body, tenant);
    } catch (err) {
      answer(res, record, 400, `${(err as Error).message}\n`);
      return;
    }
    const receivedAt = now();
    const rejected: DecodedEntry[] = [];
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
