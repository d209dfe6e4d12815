//! Turns the bytes of a Docker log stream (`follow=1&stdout=1&stderr=1&timestamps=1`) into whole lines:
//! strips the timestamp prefix, joins the engine's 16 KiB partial messages, applies the line size limit,
//! and reports in-band engine errors and broken streams apart from log lines.

import { type FrameHandler, FrameParser, type StreamName, type TtyHandler, TtySplitter } from './frames.js';
import { TimestampParser } from './timestamp.js';

export type { StreamName } from './frames.js';

/** Receives what a {@link LogDecoder} finds in the stream, in stream order. */
export interface DecodedLineSink {
  /**
   * One whole line: `\n` (and for TTY a trailing `\r`) removed, timestamp prefix removed. `bytes` is its
   * length as read (each invalid UTF-8 byte in it is 3 bytes as U+FFFD in `text`; measured again, and
   * then given as sent, only for a line that could grow past the size limit).
   */
  line(stream: StreamName, sec: number, nsec: number, text: string, truncated: boolean, bytes: number): void;
  /** A line over `maxLineSize` that was dropped (`truncate` false); `bytes` is its full length. */
  dropped(stream: StreamName, sec: number, nsec: number, bytes: number): void;
  /** An error the engine reports in-band (e.g. `Error grabbing logs: …`). Never a log line. */
  engineError(message: string): void;
  /**
   * The bytes are not a valid stream (bad frame header, huge frame size, a message without a valid
   * timestamp). The decoder has stopped: it ignores further input and drops any held partial line.
   * The caller should close the stream and reopen it from its cursor.
   */
  protocolError(message: string): void;
}

/** Options of a {@link LogDecoder}. */
export interface LogDecoderOptions {
  /** The container has a TTY (`Config.Tty`): the stream is raw, not multiplexed. */
  tty: boolean;
  /**
   * Largest line kept, in bytes of UTF-8 without the `\n`; 0 for no limit (Loki's `max_line_size`).
   * Without a limit a line is still cut at {@link SAFETY_CAP} bytes and marked truncated.
   * @default 0
   */
  maxLineSize: number;
  /**
   * Over-long lines are cut to `maxLineSize` (on a UTF-8 character boundary) and marked truncated,
   * instead of dropped (Loki's `max_line_size_truncate`).
   * @default false
   */
  truncate: boolean;
  sink: DecodedLineSink;
  /**
   * Size of the parts the engine splits a line into, used to find glued parts in TTY streams.
   * @default 16384
   */
  ttyPartSize?: number;
}

/** Most bytes of one line kept in memory when no `maxLineSize` is set. */
export const SAFETY_CAP = 16 * 1024 * 1024;

const EMPTY = Buffer.alloc(0);
/** A held-line buffer larger than this is released after its line, so idle followers stay small. */
const KEEP_CAPACITY = 256 * 1024;

/** A partial line of one stream (a message that did not end in `\n`), while `held`. */
class HeldLine {
  readonly stream: StreamName;
  held = false;
  sec = 0;
  nsec = 0;
  buf: Buffer = EMPTY;
  /** Bytes kept in `buf` (≤ the cap). */
  len = 0;
  /** Bytes of the line so far, kept or not. */
  total = 0;
  /** Last byte of the line so far (kept or not), to strip a TTY `\r` that ended a previous piece. */
  last = -1;

  constructor(stream: StreamName) {
    this.stream = stream;
  }
}

/**
 * Joins message pieces into lines. Both framings feed it: frames (multiplexed) through `frame()`,
 * raw TTY messages through `part()`. Pieces of one line share the stream and the timestamp; the engine
 * writes stdout and stderr independently, so the other stream's messages may come between them.
 */
class LineAssembler implements FrameHandler, TtyHandler {
  readonly #sink: DecodedLineSink;
  readonly #tty: boolean;
  /** Bytes of a line kept at most: maxLineSize, or SAFETY_CAP without one. */
  readonly #cap: number;
  /** Over-long lines are dropped rather than truncated. */
  readonly #drop: boolean;
  /** Lines of more bytes than this may grow past #cap when decoded (see #deliver). */
  readonly #mayGrow: number;
  readonly #ts = new TimestampParser();
  stopped = false;

  // One held partial line per stream: a long stdout line's parts may have stderr lines between them.
  readonly #out = new HeldLine('stdout');
  readonly #err = new HeldLine('stderr');

  /** Bytes reserved for held partial lines (both streams): what a long line costs while it is joined. */
  get heldCapacity(): number {
    return this.#out.buf.length + this.#err.buf.length;
  }

  constructor(o: LogDecoderOptions) {
    this.#sink = o.sink;
    this.#tty = o.tty;
    this.#cap = o.maxLineSize > 0 ? Math.min(o.maxLineSize, SAFETY_CAP) : SAFETY_CAP;
    this.#drop = o.maxLineSize > 0 && !o.truncate;
    this.#mayGrow = Math.floor(this.#cap / 3);
  }

  frame(stream: StreamName, buf: Buffer, start: number, end: number): boolean {
    const at = this.#ts.parse(buf, start, end);
    if (at < 0 || at >= end || buf[at] !== 0x20) {
      const shown = JSON.stringify(buf.toString('latin1', start, Math.min(end, start + 40)));
      this.invalid(`log message without a valid timestamp prefix: ${shown}`);
      return false;
    }
    if (buf[end - 1] === 0x0a) {
      this.piece(stream, this.#ts.sec, this.#ts.nsec, buf, at + 1, end - 1, true);
    } else {
      this.piece(stream, this.#ts.sec, this.#ts.nsec, buf, at + 1, end, false);
    }
    return true;
  }

  part(sec: number, nsec: number, buf: Buffer, start: number, end: number, complete: boolean): void {
    this.piece('stdout', sec, nsec, buf, start, end, complete);
  }

  /** One piece of a line; `complete` when the line's `\n` followed it. */
  piece(
    stream: StreamName,
    sec: number,
    nsec: number,
    buf: Buffer,
    start: number,
    end: number,
    complete: boolean,
  ): void {
    const h = stream === 'stdout' ? this.#out : this.#err;
    if (h.held) {
      if (sec === h.sec && nsec === h.nsec) {
        this.#append(h, buf, start, end);
        if (complete) this.#emitHeld(h, true);
        return;
      }
      // A partial followed by a piece of the same stream with another timestamp is a line of its own
      // (e.g. the last output of a container before it restarted). Emitting it now keeps stream order.
      this.#emitHeld(h, false);
    }
    if (complete) {
      this.#emit(stream, sec, nsec, buf, start, end);
      return;
    }
    h.held = true;
    h.sec = sec;
    h.nsec = nsec;
    h.len = 0;
    h.total = 0;
    h.last = -1;
    this.#append(h, buf, start, end);
  }

  systemError(buf: Buffer, start: number, end: number): void {
    if (end > start && buf[end - 1] === 0x0a) end--;
    this.#sink.engineError(buf.toString('utf8', start, end));
  }

  invalid(message: string): void {
    this.stopped = true;
    this.#out.held = false;
    this.#err.held = false;
    this.#sink.protocolError(message);
  }

  /** The stream ended: emits a held partial line if `flush`, else forgets it. */
  finish(flush: boolean): void {
    if (flush && !this.stopped) {
      // Both streams may hold a last line: the older one first.
      const out = this.#out;
      const err = this.#err;
      const errFirst = err.sec < out.sec || (err.sec === out.sec && err.nsec < out.nsec);
      for (const h of errFirst ? [err, out] : [out, err]) if (h.held) this.#emitHeld(h, false);
    }
    this.#out.held = false;
    this.#err.held = false;
  }

  /** A line that arrived whole in one piece: decoded straight from the chunk. */
  #emit(stream: StreamName, sec: number, nsec: number, buf: Buffer, start: number, end: number): void {
    if (this.#tty && end > start && buf[end - 1] === 0x0d) end--;
    const n = end - start;
    if (n <= this.#cap) this.#deliver(stream, sec, nsec, buf.toString('utf8', start, end), n, false);
    else this.#over(stream, sec, nsec, buf, start, n);
  }

  #emitHeld(h: HeldLine, complete: boolean): void {
    let len = h.len;
    let total = h.total;
    if (complete && this.#tty && h.last === 0x0d) {
      total--;
      if (len > total) len = total;
    }
    h.held = false;
    if (total <= this.#cap) {
      this.#deliver(h.stream, h.sec, h.nsec, h.buf.toString('utf8', 0, len), len, false);
    } else {
      this.#over(h.stream, h.sec, h.nsec, h.buf, 0, total);
    }
    if (h.buf.length > KEEP_CAPACITY) h.buf = EMPTY;
  }

  /** A line of `total` bytes over the cap, whose first #cap bytes are at `buf[start…]`. */
  #over(stream: StreamName, sec: number, nsec: number, buf: Buffer, start: number, total: number): void {
    if (this.#drop) {
      this.#sink.dropped(stream, sec, nsec, total);
      return;
    }
    const end = start + utf8Cut(buf, start, this.#cap);
    this.#deliver(stream, sec, nsec, buf.toString('utf8', start, end), end - start, true);
  }

  /**
   * Hands a decoded line of `bytes` raw bytes on. Each invalid UTF-8 byte becomes U+FFFD (3 bytes) in the
   * string, so a line within the limit as read can be up to three times over it as sent (and Loki then
   * refuses it). Only a line of more than a third of the limit can grow past it: only such a line is
   * measured again, and cut or dropped by its size as sent.
   */
  #deliver(
    stream: StreamName,
    sec: number,
    nsec: number,
    text: string,
    bytes: number,
    truncated: boolean,
  ): void {
    if (bytes > this.#mayGrow) {
      const size = Buffer.byteLength(text);
      bytes = size;
      if (size > this.#cap) {
        if (this.#drop) {
          this.#sink.dropped(stream, sec, nsec, size);
          return;
        }
        const encoded = Buffer.from(text);
        bytes = utf8Cut(encoded, 0, this.#cap);
        text = encoded.toString('utf8', 0, bytes);
        truncated = true;
      }
    }
    this.#sink.line(stream, sec, nsec, text, truncated, bytes);
  }

  /** Adds a piece to a held line, keeping no more than #cap bytes: the rest is counted, not stored. */
  #append(h: HeldLine, buf: Buffer, start: number, end: number): void {
    const n = end - start;
    if (n === 0) return;
    h.last = buf[end - 1]!;
    h.total += n;
    const take = Math.min(n, this.#cap - h.len);
    if (take <= 0) return;
    const need = h.len + take;
    if (need > h.buf.length) {
      // Grow geometrically up to the cap: long lines arrive as many 16 KiB parts.
      const grown = Buffer.allocUnsafe(Math.min(this.#cap, Math.max(need, 2 * h.buf.length, 32 * 1024)));
      h.buf.copy(grown, 0, 0, h.len);
      h.buf = grown;
    }
    buf.copy(h.buf, h.len, start, start + take);
    h.len = need;
  }
}

/**
 * Length of the longest prefix of `buf[start … start+max)` that does not end inside a UTF-8
 * character. Looks only at the kept bytes: the character starting last must fit whole.
 */
export function utf8Cut(buf: Uint8Array, start: number, max: number): number {
  let i = start + max - 1;
  const stop = Math.max(start, i - 3);
  while (i > stop && (buf[i]! & 0xc0) === 0x80) i--;
  const lead = buf[i]!;
  if (lead < 0xc0) return max; // ASCII, or a stray continuation byte: nothing to protect
  const width = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
  return i - start + width <= max ? max : i - start;
}

/**
 * Decodes a Docker log stream into lines. Feed it the response body chunk by chunk with `write()`,
 * then call `end()` once. Everything reaches the sink synchronously, in stream order.
 */
export class LogDecoder {
  readonly #lines: LineAssembler;
  readonly #frames: FrameParser | undefined;
  readonly #tty: TtySplitter | undefined;
  #ended = false;

  constructor(o: LogDecoderOptions) {
    this.#lines = new LineAssembler(o);
    if (o.tty) {
      this.#tty = new TtySplitter(
        this.#lines,
        o.ttyPartSize === undefined ? {} : { partSize: o.ttyPartSize },
      );
    } else {
      this.#frames = new FrameParser(this.#lines);
    }
  }

  /** True once a protocol error stopped the decoder. */
  get stopped(): boolean {
    return this.#lines.stopped;
  }

  /** Bytes reserved for held partial lines; never more than max_line_size (or the safety cap) per stream. */
  get heldCapacity(): number {
    return this.#lines.heldCapacity;
  }

  write(chunk: Buffer): void {
    if (this.#ended || this.#lines.stopped) return;
    if (this.#frames !== undefined) this.#frames.write(chunk);
    else this.#tty!.write(chunk);
  }

  /**
   * The stream ended. A line still waiting for its `\n` is emitted when `flushPartial` (the container
   * exited, so it was its last output, e.g. `printf no-newline`); otherwise it is dropped, because it
   * will be read again when the stream is reopened from the cursor. A frame cut short is always dropped.
   */
  end(flushPartial: boolean): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#tty !== undefined && !this.#lines.stopped) this.#tty.finish();
    this.#lines.finish(flushPartial);
  }
}
