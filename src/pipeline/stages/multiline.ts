//! Promtail's `multiline` stage: joins the lines of a block (a line matching `firstline` and the lines
//! after it that do not) into one entry, per label set. A block is handed on when the next first line
//! comes, when it reaches `max_lines`, when no line came for `max_wait_time`, or when the pipeline stops.
//! The joined entry keeps the first line's labels, extracted data and timestamp.
//!
//! Held lines are not acknowledged: the joined entry carries a CompositeAck that settles every line it
//! holds once the block itself has an outcome, so positions never move past a line still held here.

import type { Mapping } from '../../config/check.js';
import { translateGoRegex } from '../../relabel/go-regex.js';
import { Carrier, CompositeAck, labelsKey } from '../carrier.js';
import type { StageIssue } from '../stage.js';
import { stageChecker, stageIssues, stageMapping } from '../stage-config.js';
import { StreamCache } from '../stream-cache.js';

export interface MultilineConfig {
  /** `firstline`: Go RE2, unanchored. */
  readonly firstline: RegExp;
  /** `max_wait_time` in ms: a block idle this long is handed on. @default 3000 */
  readonly maxWaitMs: number;
  /** `max_lines`: a block is handed on once it holds this many lines; 0 means no limit (as Promtail). @default 128 */
  readonly maxLines: number;
}

const SPEC = { known: ['firstline', 'max_wait_time', 'max_lines'] };

/** Compiles a `multiline` stage config; every mistake is an issue with its path. */
export function compileMultiline(config: unknown): { config?: MultilineConfig; issues: StageIssue[] } {
  const issues: StageIssue[] = [];
  const m: Mapping | undefined = stageMapping(config, 'multiline', issues, "{firstline: '^\\d{4}-'}");
  if (m === undefined) return { issues };
  const c = stageChecker();
  c.mapping(m, [], SPEC);
  const source = c.string(m, [], 'firstline');
  let firstline: RegExp | undefined;
  if (source === undefined) {
    c.issue(['firstline'], 'Missing `firstline`: the regular expression a block starts with');
  } else {
    const t = translateGoRegex(source);
    if (t.ok) firstline = t.regex;
    else c.issue(['firstline'], t.message);
  }
  const maxWaitMs = c.duration(m, [], 'max_wait_time') ?? 3_000;
  const maxLines = c.int(m, [], 'max_lines', 0) ?? 128;
  issues.push(...stageIssues(c));
  if (issues.length > 0 || firstline === undefined) return { issues };
  return { config: { firstline, maxWaitMs, maxLines }, issues };
}

/** The block being built for one label set. */
class Block {
  readonly key: string;
  first: Carrier | undefined;
  text = '';
  count = 0;
  acks: CompositeAck | undefined;
  /** `Date.now()` of the last line added. */
  lastAt = 0;
  timer: NodeJS.Timeout | undefined;
  readonly onTimer: () => void;

  constructor(key: string, onTimer: (block: Block) => void) {
    this.key = key;
    this.onTimer = () => onTimer(this);
  }
}

export interface MultilineOptions {
  /** Label sets tracked before idle ones are forgotten. @default 10000 */
  maxStreams?: number;
  /** Clock, for tests. @default Date.now */
  now?: () => number;
}

/**
 * The running state of one multiline stage in one pipeline. `accept` returns what goes on to the next
 * stage now (the entry itself, a finished block, or null while it is held); blocks finished by the
 * timer or by `flushAll` go to `emit`.
 */
export class Multiline {
  readonly #cfg: MultilineConfig;
  readonly #emit: (entry: Carrier) => void;
  readonly #blocks = new Map<string, Block>();
  readonly #keys: StreamCache;
  readonly #maxStreams: number;
  readonly #now: () => number;
  readonly #expire = (block: Block): void => this.#onTimer(block);
  #held = 0;
  #stopped = false;

  constructor(config: MultilineConfig, emit: (entry: Carrier) => void, options: MultilineOptions = {}) {
    this.#cfg = config;
    this.#emit = emit;
    this.#maxStreams = options.maxStreams ?? 10_000;
    this.#keys = new StreamCache(this.#maxStreams);
    this.#now = options.now ?? Date.now;
  }

  /** Lines held right now, over every label set. */
  get held(): number {
    return this.#held;
  }

  accept(entry: Carrier): Carrier | null {
    if (this.#stopped) return entry;
    const isFirst = this.#cfg.firstline.test(entry.line);
    const key = labelsKey(entry, this.#keys);
    let block = this.#blocks.get(key);
    if (block === undefined) {
      // As in Promtail, lines pass through until the label set's first `firstline`.
      if (!isFirst) return entry;
      if (this.#blocks.size >= this.#maxStreams) this.#forgetIdle();
      block = new Block(key, this.#expire);
      this.#blocks.set(key, block);
    }
    let out: Carrier | null = null;
    if (isFirst && block.count > 0) out = this.#take(block);
    this.#add(block, entry);
    // With max_lines 1 every block is complete at once; otherwise the buffer was not full before.
    if (block.count === this.#cfg.maxLines) out = this.#take(block);
    return out;
  }

  /** Hands on every block held (the pipeline stops); later lines pass through unchanged. */
  flushAll(): void {
    this.#stopped = true;
    for (const block of this.#blocks.values()) {
      if (block.timer !== undefined) clearTimeout(block.timer);
      block.timer = undefined;
      if (block.count > 0) this.#emit(this.#take(block));
    }
    this.#blocks.clear();
  }

  #add(block: Block, entry: Carrier): void {
    if (block.count === 0) {
      // A block also starts with a continuation line after a timeout or max_lines: Promtail would give
      // it the previous first line's timestamp; the line's own is kept here, so time never goes back.
      block.first = entry;
      block.text = entry.line;
    } else {
      if (block.acks === undefined) {
        block.acks = new CompositeAck();
        block.acks.add(block.first!);
      }
      block.acks.add(entry);
      block.text += `\n${entry.line}`;
    }
    block.count += 1;
    this.#held += 1;
    block.lastAt = this.#now();
    if (block.timer === undefined) {
      block.timer = setTimeout(block.onTimer, this.#cfg.maxWaitMs);
      block.timer.unref();
    }
  }

  /** The finished block as one entry; the block is empty afterwards (its timer stays, and lapses). */
  #take(block: Block): Carrier {
    const first = block.first!;
    const acks = block.acks;
    this.#held -= block.count;
    block.first = undefined;
    block.acks = undefined;
    block.count = 0;
    const text = block.text;
    block.text = '';
    if (acks === undefined) return first;
    const joined = new Carrier(
      first.origin,
      undefined,
      acks,
      0,
      first.labels,
      first.extracted,
      text,
      first.sec,
      first.nsec,
    );
    joined.metadata = first.metadata;
    joined.tenant = first.tenant;
    return joined;
  }

  #onTimer(block: Block): void {
    block.timer = undefined;
    if (block.count === 0 || this.#stopped) return;
    // One timer per block, not per line: it fires max_wait_time after it was armed and waits again for
    // whatever remains since the last line.
    const idle = this.#now() - block.lastAt;
    if (idle < this.#cfg.maxWaitMs) {
      block.timer = setTimeout(block.onTimer, this.#cfg.maxWaitMs - idle);
      block.timer.unref();
      return;
    }
    this.#emit(this.#take(block));
  }

  /** Forgets the label sets that hold nothing (they pass lines through again until a first line). */
  #forgetIdle(): void {
    for (const [key, block] of this.#blocks) {
      if (block.count > 0) continue;
      if (block.timer !== undefined) clearTimeout(block.timer);
      this.#blocks.delete(key);
    }
  }
}
