//! Splits the bytes of a Docker log stream into messages: the 8-byte-header frames of a multiplexed
//! (non-TTY) stream, and the `<timestamp> text\n` messages of a raw (TTY) stream.
//! Both work incrementally over Buffers: chunk boundaries may fall anywhere, and the only bytes copied
//! are those of a message that spans chunks.

import { MAX_TIMESTAMP_LENGTH, TimestampParser } from './timestamp.js';

/** The Docker stream a line came from. */
export type StreamName = 'stdout' | 'stderr';

/**
 * Largest frame payload accepted. The engine never sends more than a 16 KiB part plus its timestamp
 * (16384 + 31 bytes); a larger size field means the bytes are not a multiplexed stream (a TTY stream or
 * a JSON error body read as frames) and must not make us allocate it.
 */
export const MAX_FRAME_SIZE = 1024 * 1024;

/**
 * Receives the frames of a multiplexed stream. The `buf` views are only valid during the call: the
 * parser reuses its buffer for frames that span chunks, so copy whatever must outlive the call.
 */
export interface FrameHandler {
  /** One stdout (types 0 and 1) or stderr (type 2) frame payload. Return false to stop parsing. */
  frame(stream: StreamName, buf: Buffer, start: number, end: number): boolean;
  /** A type 3 frame: an error the engine reports in-band, e.g. `Error grabbing logs: …\n`. */
  systemError(buf: Buffer, start: number, end: number): void;
  /** The bytes are not a multiplexed stream; the parser has stopped. */
  invalid(message: string): void;
}

const EMPTY = Buffer.alloc(0);
const HEADER = 8;

/** Parses `[type,0,0,0,size uint32 BE]` + payload frames, and stops at the first invalid header. */
export class FrameParser {
  readonly #handler: FrameHandler;
  readonly #header = Buffer.alloc(HEADER);
  #headerLen = 0;
  /** Payload of a frame that spans chunks; reused, grown to the largest such frame. */
  #spill: Buffer = EMPTY;
  #spillLen = 0;
  /** Payload size of the frame being gathered in #spill, or -1 when none is. */
  #frameSize = -1;
  #frameType = 0;
  #stopped = false;

  constructor(handler: FrameHandler) {
    this.#handler = handler;
  }

  /** True once an invalid header was seen or the handler asked to stop. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** True when the bytes written so far end inside a frame. */
  get midFrame(): boolean {
    return this.#headerLen > 0 || this.#frameSize >= 0;
  }

  write(chunk: Buffer): void {
    if (this.#stopped) return;
    const len = chunk.length;
    let pos = 0;
    if (this.#headerLen > 0) {
      const take = Math.min(HEADER - this.#headerLen, len);
      chunk.copy(this.#header, this.#headerLen, 0, take);
      this.#headerLen += take;
      pos = take;
      if (this.#headerLen < HEADER) return;
      this.#headerLen = 0;
      const size = this.#check(this.#header, 0);
      if (size < 0) return;
      this.#frameType = this.#header[0]!;
      this.#frameSize = size;
      this.#spillLen = 0;
      this.#reserve(size);
    }
    if (this.#frameSize >= 0) {
      const take = Math.min(this.#frameSize - this.#spillLen, len - pos);
      chunk.copy(this.#spill, this.#spillLen, pos, pos + take);
      this.#spillLen += take;
      pos += take;
      if (this.#spillLen < this.#frameSize) return;
      this.#frameSize = -1;
      if (!this.#deliver(this.#frameType, this.#spill, 0, this.#spillLen)) return;
    }
    // Hot loop: whole frames inside this chunk are handed over as views, without copying.
    while (len - pos >= HEADER) {
      const size = this.#check(chunk, pos);
      if (size < 0) return;
      const type = chunk[pos]!;
      const start = pos + HEADER;
      const end = start + size;
      if (end > len) {
        this.#frameType = type;
        this.#frameSize = size;
        this.#reserve(size);
        chunk.copy(this.#spill, 0, start, len);
        this.#spillLen = len - start;
        return;
      }
      pos = end;
      if (!this.#deliver(type, chunk, start, end)) return;
    }
    if (pos < len) {
      chunk.copy(this.#header, 0, pos, len);
      this.#headerLen = len - pos;
    }
  }

  /** Validates the header at `at`: returns the payload size, or -1 after reporting and stopping. */
  #check(buf: Buffer, at: number): number {
    const type = buf[at]!;
    if (type > 3 || (buf[at + 1]! | buf[at + 2]! | buf[at + 3]!) !== 0) {
      this.#fail(`not a multiplexed log stream: bad frame header ${buf.toString('hex', at, at + HEADER)}`);
      return -1;
    }
    const size = buf.readUInt32BE(at + 4);
    if (size > MAX_FRAME_SIZE) {
      this.#fail(`not a multiplexed log stream: frame size ${size} exceeds ${MAX_FRAME_SIZE}`);
      return -1;
    }
    return size;
  }

  #deliver(type: number, buf: Buffer, start: number, end: number): boolean {
    if (start === end) return true; // an empty frame carries nothing
    if (type === 3) {
      this.#handler.systemError(buf, start, end);
      return true;
    }
    if (this.#handler.frame(type === 2 ? 'stderr' : 'stdout', buf, start, end)) return true;
    this.#stopped = true;
    return false;
  }

  #reserve(size: number): void {
    if (this.#spill.length < size) this.#spill = Buffer.allocUnsafe(Math.max(size, 32 * 1024));
  }

  #fail(message: string): void {
    this.#stopped = true;
    this.#handler.invalid(message);
  }
}

/** Receives the messages of a raw (TTY) stream, piece by piece. */
export interface TtyHandler {
  /**
   * Bytes of one message's text (timestamp removed), as they arrive. `complete` is true on the piece
   * that ends at the message's `\n` (excluded); the view is only valid during the call.
   */
  part(sec: number, nsec: number, buf: Buffer, start: number, end: number, complete: boolean): void;
  /** An in-band engine error (`Error grabbing logs: …`), written to a raw stream without a timestamp. */
  systemError(buf: Buffer, start: number, end: number): void;
  /** A message does not start with a timestamp; the splitter has stopped. */
  invalid(message: string): void;
}

/** Options of a {@link TtySplitter}. */
export interface TtySplitterOptions {
  /**
   * Size at which the engine splits a line without `\n` into parts (its copier buffer).
   * @default 16384
   */
  partSize?: number;
}

// Splitter states.
const STAMP = 0; // reading the timestamp that opens a message
const TEXT = 1; // reading a message's text up to `\n`
const GLUE = 2; // a part of exactly partSize bytes ended: a timestamp may follow, glued on
const ERROR = 3; // reading an in-band `Error …` line
const STOPPED = 4;
const MAX_ERROR = 8 * 1024;

/**
 * Splits a raw TTY stream read with `timestamps=1` into messages `<ts> <text>\n`.
 *
 * A raw stream has no frame headers, so the engine's 16 KiB parts of a long line arrive glued:
 * `<ts> <16384 bytes><ts> <rest>\n`. The heuristic: when a message's text reaches exactly `partSize`
 * bytes without `\n`, the splitter checks whether the next bytes parse as `<ts> `; if so they open a
 * new part (joined to the line by the handler when its timestamp is the same), otherwise they are
 * plain text of the line and no further check is made for it. A line that ended without `\n` for
 * another reason (the container exited after `printf`) and is followed by a later message cannot be
 * told apart in a raw stream: that next timestamp stays inside the line.
 */
export class TtySplitter {
  readonly #handler: TtyHandler;
  readonly #ts = new TimestampParser();
  readonly #partSize: number;
  #state = STAMP;
  /** Bytes of a timestamp that spans chunks. */
  readonly #stamp = Buffer.alloc(MAX_TIMESTAMP_LENGTH + 1);
  #stampLen = 0;
  #sec = 0;
  #nsec = 0;
  /** Text bytes left before the glued-timestamp check; Infinity when no check applies. */
  #budget = 0;
  #error: Buffer = EMPTY;
  #errorLen = 0;

  constructor(handler: TtyHandler, options: TtySplitterOptions = {}) {
    this.#handler = handler;
    this.#partSize = options.partSize ?? 16384;
  }

  get stopped(): boolean {
    return this.#state === STOPPED;
  }

  write(chunk: Buffer): void {
    const end = chunk.length;
    let pos = 0;
    while (pos < end) {
      const state = this.#state;
      if (state === TEXT) pos = this.#text(chunk, pos, end);
      else if (state === STAMP || state === GLUE) pos = this.#stampAt(chunk, pos, end);
      else if (state === ERROR) pos = this.#errorLine(chunk, pos, end);
      else return;
    }
  }

  /** The stream ended: hands over what is pending (the caller decides about a held partial line). */
  finish(): void {
    if (this.#state === GLUE && this.#stampLen > 0) this.#toText();
    if (this.#state === ERROR && this.#errorLen > 0)
      this.#handler.systemError(this.#error, 0, this.#errorLen);
    if (this.#state !== STOPPED) this.#state = STAMP;
    this.#stampLen = 0;
    this.#errorLen = 0;
  }

  #text(buf: Buffer, pos: number, end: number): number {
    const budget = this.#budget;
    const limit = budget < end - pos ? pos + budget : end;
    const nl = buf.indexOf(0x0a, pos);
    if (nl >= 0 && nl < limit) {
      this.#handler.part(this.#sec, this.#nsec, buf, pos, nl, true);
      this.#state = STAMP;
      return nl + 1;
    }
    this.#handler.part(this.#sec, this.#nsec, buf, pos, limit, false);
    this.#budget = budget - (limit - pos);
    if (this.#budget === 0) this.#state = GLUE;
    return limit;
  }

  #stampAt(buf: Buffer, pos: number, end: number): number {
    if (this.#stampLen === 0) {
      // Fast path: the timestamp lies whole in this chunk.
      const max = Math.min(end, pos + MAX_TIMESTAMP_LENGTH + 1);
      let i = pos;
      while (i < max && buf[i] !== 0x20 && buf[i] !== 0x0a) i++;
      if (i < max) {
        if (buf[i] === 0x20 && this.#ts.parse(buf, pos, i) === i) return this.#begin(i + 1);
        return this.#notStamp(buf, pos, i, buf[i] === 0x20);
      }
      if (max - pos > MAX_TIMESTAMP_LENGTH) return this.#notStamp(buf, pos, max, false);
      buf.copy(this.#stamp, 0, pos, end);
      this.#stampLen = end - pos;
      return end;
    }
    // Slow path: a timestamp started in an earlier chunk, continued byte by byte.
    const stamp = this.#stamp;
    while (pos < end) {
      const b = buf[pos]!;
      if (b === 0x0a) return this.#notStampHeld(pos);
      stamp[this.#stampLen++] = b;
      pos++;
      if (b === 0x20) {
        const len = this.#stampLen - 1;
        if (this.#ts.parse(stamp, 0, len) !== len) return this.#notStampHeld(pos);
        this.#stampLen = 0;
        return this.#begin(pos);
      }
      if (this.#stampLen > MAX_TIMESTAMP_LENGTH) return this.#notStampHeld(pos);
    }
    return pos;
  }

  #begin(next: number): number {
    this.#sec = this.#ts.sec;
    this.#nsec = this.#ts.nsec;
    this.#budget = this.#partSize;
    this.#state = TEXT;
    return next;
  }

  /** The bytes at `pos` (token up to `tokenEnd`, then a space if `spaced`) are no timestamp. */
  #notStamp(buf: Buffer, pos: number, tokenEnd: number, spaced: boolean): number {
    if (this.#state === GLUE) {
      // Not a glued part after all: the bytes are text of the current line; read them again as such.
      this.#state = TEXT;
      this.#budget = Number.POSITIVE_INFINITY;
      return pos;
    }
    if (spaced && tokenEnd - pos === 5 && buf.toString('latin1', pos, tokenEnd) === 'Error') {
      this.#state = ERROR;
      this.#errorLen = 0;
      return pos;
    }
    return this.#stop(buf, pos, Math.min(buf.length, pos + 40));
  }

  /** Like #notStamp, for a token gathered across chunks in #stamp; `pos` is where the chunk resumes. */
  #notStampHeld(pos: number): number {
    if (this.#state === GLUE) {
      this.#toText();
      return pos;
    }
    const stamp = this.#stamp;
    if (this.#stampLen === 6 && stamp.toString('latin1', 0, 6) === 'Error ') {
      this.#state = ERROR;
      this.#errorLen = 0;
      this.#appendError(stamp, 0, 6);
      this.#stampLen = 0;
      return pos;
    }
    return this.#stop(stamp, 0, this.#stampLen);
  }

  /** Hands the held bytes over as line text, and stops looking for a glued timestamp in this line. */
  #toText(): void {
    this.#handler.part(this.#sec, this.#nsec, this.#stamp, 0, this.#stampLen, false);
    this.#stampLen = 0;
    this.#state = TEXT;
    this.#budget = Number.POSITIVE_INFINITY;
  }

  #errorLine(buf: Buffer, pos: number, end: number): number {
    const nl = buf.indexOf(0x0a, pos);
    this.#appendError(buf, pos, nl < 0 ? end : nl);
    if (nl < 0) return end;
    this.#handler.systemError(this.#error, 0, this.#errorLen);
    this.#errorLen = 0;
    this.#state = STAMP;
    return nl + 1;
  }

  #appendError(buf: Buffer, start: number, end: number): void {
    if (this.#error.length === 0) this.#error = Buffer.allocUnsafe(MAX_ERROR);
    const take = Math.min(end - start, MAX_ERROR - this.#errorLen);
    if (take <= 0) return;
    buf.copy(this.#error, this.#errorLen, start, start + take);
    this.#errorLen += take;
  }

  #stop(buf: Buffer, start: number, end: number): number {
    this.#state = STOPPED;
    this.#stampLen = 0;
    this.#handler.invalid(
      `not a timestamped TTY log stream: a message starts with ${JSON.stringify(buf.toString('latin1', start, end))}`,
    );
    return Number.POSITIVE_INFINITY;
  }
}
