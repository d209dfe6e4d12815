//! A follower's `/containers/{id}/logs` stream, asked for in HTTP/1.0 on a connection of its own.
//! Over HTTP/1.1 the engine flushes every log message as its own HTTP chunk, and node:http turns each
//! chunk into a parse, a Buffer and a stream push: about a third of the agent's CPU per line in a
//! backlog. A server answers an HTTP/1.0 request without chunked framing and ends the body by closing
//! the connection, so the body is the connection's bytes as they come: one socket read carries every
//! line that has arrived, and there is no framing to get wrong. Only the response head is parsed here.

import type net from 'node:net';
import type { Readable } from 'node:stream';
import { DockerError, errorMessage } from '../core/errors.js';
import { ERROR_BODY_LIMIT, engineMessage } from './http.js';

const { addAbortSignal } = process.getBuiltinModule('node:stream');

/** Longest response head accepted (status line and headers). */
export const MAX_HEAD_BYTES = 64 * 1024;

/**
 * A 2xx answer framed as HTTP/1.0 forbids (chunked): a proxy in front of the engine that passes on the
 * engine's HTTP/1.1 framing. The caller can ask again over HTTP/1.1.
 */
export class FramedAnswerError extends DockerError {}

/** The status line and headers of a response; header names lower-cased, repeats joined with `, `. */
export interface ResponseHead {
  status: number;
  headers: Record<string, string>;
}

export interface LogsStreamRequest {
  /**
   * Opens the connection (a unix socket, TCP or TLS), with `onread` where the transport takes it (net
   * sockets do; a TLS socket ignores it and emits 'data').
   */
  connect: (onread: net.OnReadOpts) => net.Socket;
  /** Path with its query, e.g. `/v1.41/containers/<id>/logs?follow=1…`. */
  path: string;
  /** The `Host` header. */
  host: string;
  /** The engine's name in error messages. */
  name: string;
  /** Time allowed until the whole response head is read. */
  headerTimeoutMs: number;
  signal: AbortSignal;
}

/** Parses `HTTP/1.1 200 OK\r\nName: value…` (the head without its blank line). */
export function parseHead(text: string): ResponseHead {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0] ?? '');
  if (m === null) {
    throw new DockerError(
      `the engine answered with something else than HTTP/1.x: ${JSON.stringify((lines[0] ?? '').slice(0, 60))}`,
    );
  }
  const headers: Record<string, string> = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new DockerError(`malformed response header ${JSON.stringify(line.slice(0, 60))}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return { status: Number(m[1]), headers };
}

/** Where the blank line that ends a head starts in `buf`, or -1. */
function headEnd(buf: Buffer): number {
  return buf.indexOf('\r\n\r\n', 0, 'latin1');
}

/** What a {@link LogsBody} hands its reader. */
export interface LogsBodyReader {
  /**
   * One read of body bytes. The view is valid only during the call: every logs connection reads into
   * one shared buffer, so what must outlive the call is copied (the decoder copies what it holds).
   */
  data(chunk: Buffer): void;
  /**
   * Called once: without an argument when the engine ended the body (closed the connection after it),
   * with the error that broke it otherwise (a close before the end included). Not after destroy().
   */
  done(err?: Error): void;
}

/** A logs response body, read per socket read with no stream machinery in between. */
export interface LogsBody {
  /** Starts the delivery to `reader` (once). */
  start(reader: LogsBodyReader): void;
  /** Stops reading the connection (the engine is then held back by flow control) until resume(). */
  pause(): void;
  resume(): void;
  /** Closes the connection; the reader hears nothing more. */
  destroy(): void;
  /** Runs `fn` once the connection has closed. */
  onClose(fn: () => void): void;
}

export const CLOSED_EARLY = 'the engine closed the log stream before its end';

/**
 * A body over a connection (or over node:http's response), given paused: bytes that arrive before
 * start() are held (copied, as the read buffer is shared), and so is an outcome that comes before it.
 * Reads come through deliver() (a read callback) or as 'data' events (TLS, node:http).
 */
class ConnectionBody implements LogsBody {
  readonly #source: Readable;
  #reader: LogsBodyReader | undefined;
  #held: Buffer[] = [];
  #outcome: { err: Error | undefined } | undefined;
  #ended = false;
  #over = false;
  #closed = false;
  /** The reader paused the body (and has not resumed it). */
  #paused = false;

  constructor(source: Readable) {
    this.#source = source;
    source.once('end', () => {
      this.#ended = true;
      this.#finish(undefined);
    });
    source.on('error', (err: Error) => this.#finish(err));
    source.once('close', () => {
      this.#closed = true;
      if (!this.#ended) this.#finish(new DockerError(CLOSED_EARLY));
    });
    // A paused source stays paused when a 'data' listener is added.
    source.on('data', (chunk: Buffer) => this.deliver(chunk));
  }

  /** Bytes of the body as they are read. */
  deliver(chunk: Buffer): void {
    if (this.#over) return;
    const reader = this.#reader;
    if (reader === undefined) this.#held.push(Buffer.from(chunk));
    else reader.data(chunk);
  }

  start(reader: LogsBodyReader): void {
    if (this.#reader !== undefined) throw new Error('a logs body is read once');
    this.#reader = reader;
    const held = this.#held;
    this.#held = [];
    for (const chunk of held) {
      if (this.#over) return;
      reader.data(chunk);
    }
    const outcome = this.#outcome;
    if (outcome !== undefined) {
      this.#outcome = undefined;
      this.#finish(outcome.err);
      return;
    }
    // A reader that paused while it took the held bytes resumes the body itself.
    if (!this.#paused) this.#source.resume();
  }

  pause(): void {
    this.#paused = true;
    this.#source.pause();
  }

  resume(): void {
    this.#paused = false;
    if (this.#reader !== undefined && !this.#over) this.#source.resume();
  }

  destroy(): void {
    this.#over = true;
    this.#held = [];
    this.#source.destroy();
  }

  onClose(fn: () => void): void {
    if (this.#closed) fn();
    else this.#source.once('close', fn);
  }

  #finish(err: Error | undefined): void {
    if (this.#over) return;
    const reader = this.#reader;
    if (reader === undefined) {
      this.#outcome ??= { err };
      return;
    }
    this.#over = true;
    reader.done(err);
  }
}

/** A body over a Readable whose 'data' events carry it (node:http's response, for HTTP/1.1). */
export function readableBody(source: Readable): LogsBody {
  source.pause();
  return new ConnectionBody(source);
}

/** Reads a whole body into a string of at most `limit` bytes (an error answer's). */
function bodyText(body: LogsBody, limit: number): Promise<string> {
  return new Promise(resolve => {
    const chunks: Buffer[] = [];
    let size = 0;
    body.start({
      data: chunk => {
        if (size >= limit) return;
        const part = Buffer.from(chunk.subarray(0, limit - size));
        chunks.push(part);
        size += part.length;
      },
      done: () => resolve(Buffer.concat(chunks).toString('utf8')),
    });
  });
}

/** Size of the read buffer that every logs connection shares. */
const READ_BUFFER_BYTES = 64 * 1024;
let readBuffer: Buffer | undefined;

/**
 * Sends the GET and reads the response head. A 2xx answer resolves with the body: the connection's
 * bytes after the head, which ends when the engine closes the connection (for a follow, when the
 * container stops). Any other status rejects with a DockerError carrying the engine's message.
 * `signal` aborts the request and, later, the body.
 *
 * Where the transport allows it (unix sockets and TCP, not TLS), the connection reads into one buffer
 * shared by every logs connection and hands each read to a callback: no memory per read (a view of the
 * shared buffer), and no stream machinery (a quiet container's read is one line, and that machinery cost more than the line).
 */
export function openLogsStream(req: LogsStreamRequest): Promise<LogsBody> {
  const { signal } = req;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    let socket: net.Socket;
    // Where the connection's bytes go: the head parser first, then the body.
    let route: (chunk: Buffer) => void;
    try {
      readBuffer ??= Buffer.allocUnsafe(READ_BUFFER_BYTES);
      socket = req.connect({
        buffer: readBuffer,
        callback: (size: number, buf: Uint8Array) => {
          route(Buffer.from(buf.buffer, buf.byteOffset, size));
          return true;
        },
      });
    } catch (err) {
      reject(
        new DockerError(`cannot reach the engine at ${req.name}: ${errorMessage(err)}`, undefined, {
          cause: err,
        }),
      );
      return;
    }
    // A transport that took no read callback (TLS) emits its reads as 'data'.
    const onData = (chunk: Buffer): void => route(chunk);
    socket.on('data', onData);
    let head: Buffer = Buffer.alloc(0);
    let settled = false;
    const finish = (err: Error | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      socket.off('end', onEnd);
      if (err) {
        socket.destroy();
        reject(err);
      }
    };
    const onAbort = (): void => finish(signal.reason as Error);
    const onError = (err: Error): void =>
      finish(
        new DockerError(`cannot reach the engine at ${req.name}: ${errorMessage(err)}`, undefined, {
          cause: err,
        }),
      );
    const onEnd = (): void =>
      finish(new DockerError(`the engine at ${req.name} closed the connection before answering`));
    const timer = setTimeout(
      () =>
        finish(new DockerError(`the engine at ${req.name} did not answer within ${req.headerTimeoutMs} ms`)),
      req.headerTimeoutMs,
    );
    route = (chunk: Buffer): void => {
      if (settled) return;
      // Copied: the read buffer is reused by the next read.
      head = Buffer.concat([head, chunk]);
      const at = headEnd(head);
      if (at < 0) {
        if (head.length > MAX_HEAD_BYTES)
          finish(
            new DockerError(`the engine at ${req.name} sent a response head over ${MAX_HEAD_BYTES} bytes`),
          );
        return;
      }
      let parsed: ResponseHead;
      try {
        parsed = parseHead(head.toString('latin1', 0, at));
      } catch (err) {
        finish(err as Error);
        return;
      }
      finish(undefined);
      // Reads stop until the reader starts the body (ConnectionBody.start resumes the socket). For a
      // socket with a read callback, pause() stops reading at once (also from within the callback).
      socket.pause();
      socket.off('data', onData);
      const body = new ConnectionBody(socket);
      route = c => body.deliver(c);
      const rest = head.subarray(at + 4);
      if (rest.length > 0) body.deliver(rest);
      answered(parsed, body);
    };
    const answered = (parsed: ResponseHead, body: LogsBody): void => {
      const te = parsed.headers['transfer-encoding'];
      if (parsed.status >= 200 && parsed.status < 300) {
        if (te !== undefined && !/^identity$/i.test(te)) {
          // RFC 9112 forbids it in an answer to HTTP/1.0; the body would be read with its framing in it.
          body.destroy();
          reject(
            new FramedAnswerError(
              `the engine at ${req.name} answered an HTTP/1.0 request with ${te} framing`,
            ),
          );
          return;
        }
        addAbortSignal(signal, socket);
        resolve(body);
        return;
      }
      // As for any other engine answer: the engine's message, from a body read to the connection's end.
      void bodyText(body, ERROR_BODY_LIMIT).then(text =>
        reject(new DockerError(engineMessage(text, parsed.status), parsed.status)),
      );
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('error', onError);
    socket.on('end', onEnd);
    socket.write(`GET ${req.path} HTTP/1.0\r\nHost: ${req.host}\r\nUser-Agent: docktail\r\n\r\n`);
  });
}
