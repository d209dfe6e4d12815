//! An incremental HTTP/1.1 response parser for the engine's logs streams (logs-stream.ts): the status
//! line and headers, then the body de-chunked in place. The engine sends every log message as its own
//! HTTP chunk (it flushes per frame), so going through node:http costs a Buffer, a stream push and an
//! event per line; this parser instead squeezes the payload of all chunks of one socket read together
//! in the read buffer, so the log decoder sees one run of bytes per read.

import { DockerError } from '../core/errors.js';

/** The status line and headers of a response; header names lower-cased, repeats joined with `, `. */
export interface ResponseHead {
  status: number;
  headers: Record<string, string>;
}

/** Longest response head accepted (status line and headers). */
export const MAX_HEAD_BYTES = 64 * 1024;

// Parser states.
const HEAD = 0;
const SIZE = 1; // hex digits of a chunk size
const SIZE_EXT = 2; // a chunk extension, up to the end of the line
const SIZE_LF = 3; // the `\n` after a chunk size line
const DATA = 4; // chunk payload
const DATA_CR = 5; // the `\r\n` after a payload
const DATA_LF = 6;
const TRAILER = 7; // start of a trailer line (an empty one ends the body)
const TRAILER_LINE = 8;
const TRAILER_LF = 9;
const LENGTH = 10; // a body of `content-length` bytes
const CLOSE = 11; // a body that ends when the connection does
const DONE = 12;

function hexDigit(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  const lower = b | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * Parses one response. `feed()` takes each run of bytes read from the connection, in order; once the
 * head is complete, `head` is set, and the body bytes of each call are moved to the front of the run
 * they came in (in place: the caller must own the buffer) and their end returned.
 */
export class ResponseParser {
  head: ResponseHead | undefined;
  #state = HEAD;
  #headText = '';
  /** Bytes left in the current chunk (DATA) or body (LENGTH); the size being read (SIZE). */
  #remaining = 0;

  /** True once the whole body has been read (the end of a chunked or sized body). */
  get done(): boolean {
    return this.#state === DONE;
  }

  /** Where the body bytes of the last `feed()` start: its `start`, or the end of the head. */
  bodyStart = 0;

  /**
   * Consumes `buf[start, end)`. Returns the end of the body bytes found in it, which now lie at
   * `buf[bodyStart, returned)`. Bytes after the end of the body are ignored.
   * @throws DockerError on a malformed head or chunk framing.
   */
  feed(buf: Buffer, start: number, end: number): number {
    let pos = start;
    if (this.#state === HEAD) {
      pos = this.#readHead(buf, start, end);
      if (this.#state === HEAD) {
        this.bodyStart = end;
        return end;
      }
    }
    this.bodyStart = pos;
    let w = pos;
    while (pos < end) {
      const state = this.#state;
      if (state === DATA || state === LENGTH || state === CLOSE) {
        const n = state === CLOSE ? end - pos : Math.min(this.#remaining, end - pos);
        if (w !== pos) buf.copyWithin(w, pos, pos + n);
        w += n;
        pos += n;
        if (state === CLOSE) break;
        this.#remaining -= n;
        if (this.#remaining === 0) this.#state = state === DATA ? DATA_CR : DONE;
        continue;
      }
      if (state === DONE) break;
      const b = buf[pos++]!;
      switch (state) {
        case SIZE: {
          const d = hexDigit(b);
          if (d >= 0) {
            this.#remaining = this.#remaining * 16 + d;
            if (this.#remaining > 0x7fffffff)
              throw new DockerError('malformed chunked response: chunk too large');
          } else if (b === 0x0d) this.#state = SIZE_LF;
          else if (b === 0x0a) this.#endSizeLine();
          else if (b === 0x3b || b === 0x20 || b === 0x09) this.#state = SIZE_EXT;
          else throw new DockerError(`malformed chunked response: byte 0x${b.toString(16)} in a chunk size`);
          break;
        }
        case SIZE_EXT:
          if (b === 0x0a) this.#endSizeLine();
          break;
        case SIZE_LF:
          if (b !== 0x0a) throw new DockerError('malformed chunked response: no LF after a chunk size');
          this.#endSizeLine();
          break;
        case DATA_CR:
          if (b === 0x0d) this.#state = DATA_LF;
          else if (b === 0x0a) this.#state = SIZE;
          else throw new DockerError('malformed chunked response: no CRLF after a chunk');
          break;
        case DATA_LF:
          if (b !== 0x0a) throw new DockerError('malformed chunked response: no LF after a chunk');
          this.#state = SIZE;
          break;
        case TRAILER:
          if (b === 0x0d) this.#state = TRAILER_LF;
          else if (b === 0x0a) this.#state = DONE;
          else this.#state = TRAILER_LINE;
          break;
        case TRAILER_LINE:
          if (b === 0x0a) this.#state = TRAILER;
          break;
        case TRAILER_LF:
          this.#state = b === 0x0a ? DONE : TRAILER_LINE;
          break;
      }
    }
    return w;
  }

  /**
   * The connection ended: true when the response is complete (a body that runs to the close, or a
   * chunked or sized body read to its end), false when it was cut short.
   */
  finish(): boolean {
    return this.#state === DONE || this.#state === CLOSE;
  }

  #endSizeLine(): void {
    if (this.#remaining === 0) this.#state = TRAILER;
    else this.#state = DATA;
  }

  /** Gathers head bytes; returns where the body starts, or `end` while the head goes on. */
  #readHead(buf: Buffer, start: number, end: number): number {
    const before = this.#headText.length;
    this.#headText += buf.toString('latin1', start, end);
    const at = this.#headText.indexOf('\r\n\r\n', Math.max(0, before - 3));
    if (at < 0) {
      if (this.#headText.length > MAX_HEAD_BYTES) {
        throw new DockerError(`the engine sent a response head over ${MAX_HEAD_BYTES} bytes`);
      }
      return end;
    }
    const head = parseHead(this.#headText.slice(0, at));
    this.head = head;
    this.#headText = '';
    const te = head.headers['transfer-encoding'];
    const length = head.headers['content-length'];
    if (head.status === 204 || head.status === 304) this.#state = DONE;
    else if (te !== undefined && /(^|,)\s*chunked\s*$/i.test(te)) {
      this.#state = SIZE;
      this.#remaining = 0;
    } else if (length !== undefined && /^\d+$/.test(length.trim())) {
      this.#remaining = Number(length.trim());
      this.#state = this.#remaining === 0 ? DONE : LENGTH;
    } else this.#state = CLOSE;
    return start + (at + 4 - before);
  }
}

/** Parses `HTTP/1.1 200 OK\r\nName: value…` (without the blank line). */
export function parseHead(text: string): ResponseHead {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0] ?? '');
  if (m === null)
    throw new DockerError(
      `the engine answered with something else than HTTP/1.x: ${JSON.stringify((lines[0] ?? '').slice(0, 60))}`,
    );
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
