//! A follower's `/containers/{id}/logs` stream, asked for in HTTP/1.0 on a connection of its own.
//! Over HTTP/1.1 the engine flushes every log message as its own HTTP chunk, and node:http turns each
//! chunk into a parse, a Buffer and a stream push: about a third of the agent's CPU per line in a
//! backlog. A server answers an HTTP/1.0 request without chunked framing and ends the body by closing
//! the connection, so the body is the connection's bytes as they come: one socket read carries every
//! line that has arrived, and there is no framing to get wrong. Only the response head is parsed here.

import type net from 'node:net';
import { addAbortSignal, type Readable } from 'node:stream';
import { DockerError, errorMessage } from '../core/errors.js';
import { ERROR_BODY_LIMIT, engineMessage, readBody } from './http.js';

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
  /** Opens the connection (a unix socket, TCP or TLS). */
  connect: () => net.Socket;
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

/**
 * Sends the GET and reads the response head. A 2xx answer resolves with the connection itself as the
 * body: the bytes that came with the head are put back in front of it, and it ends when the engine
 * closes the connection (for a follow, when the container stops). Any other status rejects with a
 * DockerError carrying the engine's message. `signal` aborts the request and, later, the body.
 */
export function openLogsStream(req: LogsStreamRequest): Promise<Readable> {
  const { signal } = req;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    let socket: net.Socket;
    try {
      socket = req.connect();
    } catch (err) {
      reject(
        new DockerError(`cannot reach the engine at ${req.name}: ${errorMessage(err)}`, undefined, {
          cause: err,
        }),
      );
      return;
    }
    let head: Buffer = Buffer.alloc(0);
    let settled = false;
    const finish = (err: Error | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.off('data', onData);
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
    const onData = (data: Buffer): void => {
      head = head.length === 0 ? data : Buffer.concat([head, data]);
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
      const rest = head.subarray(at + 4);
      socket.pause();
      finish(undefined);
      if (rest.length > 0) socket.unshift(rest);
      answered(parsed);
    };
    const answered = (parsed: ResponseHead): void => {
      const te = parsed.headers['transfer-encoding'];
      if (parsed.status >= 200 && parsed.status < 300) {
        if (te !== undefined && !/^identity$/i.test(te)) {
          // RFC 9112 forbids it in an answer to HTTP/1.0; the body would be read with its framing in it.
          socket.destroy();
          reject(
            new FramedAnswerError(
              `the engine at ${req.name} answered an HTTP/1.0 request with ${te} framing`,
            ),
          );
          return;
        }
        // An error from here on ends the body, where the reader sees it; it must not go unhandled.
        socket.on('error', () => {});
        addAbortSignal(signal, socket);
        resolve(socket);
        return;
      }
      // As for any other engine answer: the engine's message, from a body read to the connection's end.
      readBody(socket, ERROR_BODY_LIMIT)
        .catch(() => '')
        .then(body => reject(new DockerError(engineMessage(body, parsed.status), parsed.status)));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('end', onEnd);
    socket.write(`GET ${req.path} HTTP/1.0\r\nHost: ${req.host}\r\nUser-Agent: docktail\r\n\r\n`);
  });
}
