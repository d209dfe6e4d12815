//! A `/containers/{id}/logs` stream read straight from its connection, for the followers. The engine
//! flushes every log message as its own HTTP chunk, so through node:http each line costs a Buffer, two
//! stream pushes, an event and (with `for await`) a promise; at 1,000 quiet containers that per-line
//! toll is most of the agent's CPU. Here a plain socket reads into one buffer shared by every stream
//! (`onread`: no allocation per read), ResponseParser squeezes the chunk payloads together in place, and
//! the consumer gets one run of bytes per socket read, synchronously. Backpressure pauses the socket.

import net from 'node:net';
import tls from 'node:tls';
import { DockerError, errorMessage } from '../core/errors.js';
import { type ResponseHead, ResponseParser } from './http-response.js';

/** Where the engine listens: a unix socket, or a TCP host (with TLS options for https). */
export interface EngineEndpoint {
  socketPath?: string;
  host?: string;
  port?: number;
  /** TLS options (CA, client certificate…); TLS is used when present. */
  tls?: tls.ConnectionOptions;
  /** The `Host` header. */
  hostHeader: string;
  /** The engine's name in error messages (the configured host). */
  name: string;
}

export interface OpenStreamOptions {
  /** Path with its query, e.g. `/v1.41/containers/<id>/logs?follow=1…`. */
  path: string;
  /** Time allowed until the response head is read. */
  headerTimeoutMs: number;
  signal: AbortSignal;
  userAgent?: string;
}

/**
 * What a consumer answers for each run of body bytes: `true` to go on, `false` to stop reading (the
 * connection is closed and `pipe()` resolves 'stopped'), or a promise: reading pauses until it settles.
 * The chunk is only valid during the call (the buffer is reused for the next read).
 */
export type ChunkConsumer = (chunk: Buffer) => boolean | Promise<void>;

/**
 * Read coalescing. While a stream is busy (a read comes less than COALESCE_WINDOW_MS after the last
 * one ended, and it was small), reading pauses for COALESCE_PAUSE_MS so the engine's per-line writes
 * pile up in the socket: one wakeup then takes hundreds of lines instead of a dozen, and the wakeups
 * were most of the kernel's share of a backlog read. A quiet container's lines (far apart) are read at
 * once, without a pause. 2 ms of a fast engine is ~30 KiB, well below a unix socket's buffer.
 */
const COALESCE_WINDOW_MS = 1;
const COALESCE_PAUSE_MS = 2;
const COALESCE_BELOW_BYTES = 32 * 1024;

/** Bytes each read may fill; one buffer serves every plain (non-TLS) stream, reads being sequential. */
const READ_BUFFER_BYTES = 64 * 1024;
let sharedReadBuffer: Buffer | undefined;

/** One GET on its own connection, read incrementally. */
export class EngineStream {
  readonly head: ResponseHead;
  readonly #socket: net.Socket;
  readonly #io: StreamIo;

  private constructor(socket: net.Socket, io: StreamIo, head: ResponseHead) {
    this.#socket = socket;
    this.#io = io;
    this.head = head;
  }

  get status(): number {
    return this.head.status;
  }

  /**
   * Sends the request and resolves once the response head has arrived (the body waits, unread, for
   * `pipe()` or `text()`). Rejects with a DockerError when the engine cannot be reached or does not
   * answer within `headerTimeoutMs`, or with the signal's reason on abort.
   */
  static open(endpoint: EngineEndpoint, o: OpenStreamOptions): Promise<EngineStream> {
    return new Promise((resolve, reject) => {
      if (o.signal.aborted) {
        reject(o.signal.reason);
        return;
      }
      const io = new StreamIo(o.signal, endpoint.name);
      let socket: net.Socket;
      const onRead = (n: number, buf: Buffer): boolean => io.bytes(buf, 0, n);
      if (endpoint.tls !== undefined) {
        socket = tls.connect({ ...endpoint.tls, host: endpoint.host, port: endpoint.port });
        socket.on('data', (chunk: Buffer) => {
          if (!io.bytes(chunk, 0, chunk.length)) socket.pause();
        });
      } else {
        sharedReadBuffer ??= Buffer.allocUnsafe(READ_BUFFER_BYTES);
        const onread = { buffer: sharedReadBuffer, callback: onRead };
        socket =
          endpoint.socketPath !== undefined
            ? net.connect({ path: endpoint.socketPath, onread })
            : net.connect({ host: endpoint.host ?? 'localhost', port: endpoint.port ?? 2375, onread });
      }
      io.socket = socket;
      const timer = setTimeout(() => {
        io.fail(
          new DockerError(`the engine at ${endpoint.name} did not answer within ${o.headerTimeoutMs} ms`),
        );
      }, o.headerTimeoutMs);
      io.onHead = (err, head) => {
        clearTimeout(timer);
        if (err !== undefined || head === undefined) reject(err);
        else resolve(new EngineStream(socket, io, head));
      };
      socket.setNoDelay(true);
      socket.on('error', err => io.fail(err));
      socket.on('end', () => io.ended());
      socket.on('close', () => io.closed());
      socket.write(
        `GET ${o.path} HTTP/1.1\r\nHost: ${endpoint.hostHeader}\r\nUser-Agent: ${o.userAgent ?? 'docktail'}\r\n` +
          'Connection: close\r\n\r\n',
      );
    });
  }

  /**
   * Reads the body to its end, handing each run of bytes to `consumer`. Resolves 'ended' when the engine
   * ended the response, 'stopped' when the consumer returned false, 'aborted' when the signal fired.
   * Rejects when the connection broke or the framing was malformed.
   */
  pipe(consumer: ChunkConsumer): Promise<'ended' | 'stopped' | 'aborted'> {
    return this.#io.pipe(consumer);
  }

  /** Reads the whole body (at most `limit` bytes kept) as UTF-8 text, e.g. an error message. */
  async text(limit = 1024 * 1024): Promise<string> {
    const parts: Buffer[] = [];
    let kept = 0;
    await this.pipe(chunk => {
      if (kept < limit) {
        const part = Buffer.from(chunk.subarray(0, limit - kept));
        parts.push(part);
        kept += part.length;
      }
      return true;
    });
    return Buffer.concat(parts).toString('utf8');
  }

  /** Closes the connection at once. */
  destroy(): void {
    this.#socket.destroy();
  }

  /** Calls `fn` once the connection has closed (at once if it already has). */
  whenClosed(fn: () => void): void {
    if (this.#socket.closed) fn();
    else this.#socket.once('close', fn);
  }
}

/** The state of one stream's connection: head, stashed body bytes, consumer, completion. */
class StreamIo {
  socket: net.Socket | undefined;
  onHead: ((err: unknown, head?: ResponseHead) => void) | undefined;
  readonly #parser = new ResponseParser();
  readonly #signal: AbortSignal;
  readonly #name: string;
  /** Body bytes that arrived with the head, before `pipe()` (copied: the read buffer is shared). */
  #stash: Buffer | undefined;
  #consumer: ChunkConsumer | undefined;
  #settle: ((outcome: 'ended' | 'stopped' | 'aborted' | Error) => void) | undefined;
  /** The outcome when it came before `pipe()` was called. */
  #outcome: 'ended' | 'stopped' | 'aborted' | Error | undefined;
  /** `performance.now()` when the last read was handled, for read coalescing. */
  #lastReadDone = Number.NEGATIVE_INFINITY;
  /** Reading is paused until the consumer's promise settles. */
  #waitingConsumer = false;
  /** Reading is paused to coalesce reads (see COALESCE_PAUSE_MS). */
  #coalescing: NodeJS.Timeout | undefined;
  readonly #endCoalescing = () => {
    this.#coalescing = undefined;
    if (this.#outcome === undefined && !this.#waitingConsumer) this.socket?.resume();
  };
  readonly #onAbort = () => {
    this.#finish('aborted');
    this.socket?.destroy();
  };

  constructor(signal: AbortSignal, name: string) {
    this.#signal = signal;
    this.#name = name;
    signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** Bytes read; false pauses the socket. */
  bytes(buf: Buffer, start: number, end: number): boolean {
    if (this.#outcome !== undefined) return false;
    let bodyEnd: number;
    try {
      bodyEnd = this.#parser.feed(buf, start, end);
    } catch (err) {
      this.fail(err);
      return false;
    }
    const bodyStart = this.#parser.bodyStart;
    if (this.onHead !== undefined) {
      if (this.#parser.head === undefined) return true;
      // Head complete: keep any body bytes of this read for pipe(), and wait for it.
      if (bodyEnd > bodyStart) this.#stash = Buffer.from(buf.subarray(bodyStart, bodyEnd));
      const onHead = this.onHead;
      this.onHead = undefined;
      onHead(undefined, this.#parser.head);
      if (this.#parser.done) this.#finish('ended');
      return false;
    }
    const readAt = performance.now();
    if (bodyEnd > bodyStart && !this.#deliver(buf.subarray(bodyStart, bodyEnd))) return false;
    if (this.#parser.done) {
      this.#finish('ended');
      return false;
    }
    const busy = readAt - this.#lastReadDone < COALESCE_WINDOW_MS && end - start < COALESCE_BELOW_BYTES;
    this.#lastReadDone = performance.now();
    if (!busy) return true;
    this.#coalescing = setTimeout(this.#endCoalescing, COALESCE_PAUSE_MS);
    return false;
  }

  pipe(consumer: ChunkConsumer): Promise<'ended' | 'stopped' | 'aborted'> {
    return new Promise((resolve, reject) => {
      this.#consumer = consumer;
      const stash = this.#stash;
      this.#stash = undefined;
      this.#settle = outcome => (outcome instanceof Error ? reject(outcome) : resolve(outcome));
      // Bytes that came with the head go first; a pause they ask for resumes (or reports) later.
      if (stash !== undefined && this.#outcome !== 'aborted' && !this.#deliver(stash)) return;
      if (this.#outcome !== undefined) this.#report();
      else this.socket?.resume();
    });
  }

  /** Tells pipe()'s caller the outcome, once both are there (resolving twice is harmless). */
  #report(): void {
    if (this.#settle !== undefined && this.#outcome !== undefined) this.#settle(this.#outcome);
  }

  /** Hands bytes to the consumer; false when reading must pause or stop. */
  #deliver(chunk: Buffer): boolean {
    let answer: boolean | Promise<void>;
    try {
      answer = this.#consumer!(chunk);
    } catch (err) {
      this.fail(err);
      return false;
    }
    if (answer === true) return true;
    if (answer === false) {
      this.#finish('stopped');
      // The whole response may have come with the head (outcome 'ended' already, so #finish did not
      // report): pipe() must still settle, or its caller waits forever (and ignores abort).
      this.#report();
      this.socket?.destroy();
      return false;
    }
    this.#waitingConsumer = true;
    answer.then(
      () => {
        this.#waitingConsumer = false;
        if (this.#outcome !== undefined) this.#report();
        else if (this.#coalescing === undefined) this.socket?.resume();
      },
      err => this.fail(err),
    );
    return false;
  }

  fail(err: unknown): void {
    const error = err instanceof Error ? err : new DockerError(`logs stream failed: ${errorMessage(err)}`);
    if (this.onHead !== undefined) {
      const onHead = this.onHead;
      this.onHead = undefined;
      this.#finish(error);
      onHead(this.#signal.aborted ? this.#signal.reason : wrapConnectError(error, this.#name));
    } else this.#finish(error);
    this.socket?.destroy();
  }

  ended(): void {
    if (this.onHead !== undefined) {
      this.fail(new DockerError('the engine closed the connection before answering'));
      return;
    }
    if (this.#parser.finish()) this.#finish('ended');
    else this.#finish(new DockerError('the engine closed the logs stream in the middle of the response'));
  }

  closed(): void {
    if (this.onHead !== undefined) {
      this.fail(new DockerError('the connection to the engine closed before it answered'));
      return;
    }
    if (this.#outcome === undefined) {
      this.#finish(
        this.#signal.aborted ? 'aborted' : new DockerError('the connection to the engine closed mid-stream'),
      );
    }
  }

  #finish(outcome: 'ended' | 'stopped' | 'aborted' | Error): void {
    if (this.#outcome !== undefined) return;
    this.#outcome = outcome;
    clearTimeout(this.#coalescing);
    this.#signal.removeEventListener('abort', this.#onAbort);
    // Before pipe() the outcome waits in #outcome; pipe() reports it (after the stashed bytes).
    this.#report();
  }
}

/** Connection errors read like DockerClient's other failures. */
function wrapConnectError(err: Error, name: string): Error {
  if (err instanceof DockerError) return err;
  return new DockerError(`cannot reach the engine at ${name}: ${err.message}`, undefined, { cause: err });
}
