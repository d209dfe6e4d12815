//! The positions store: every container's committed cursor, in memory, saved to one file.
//! Writes are atomic (tmp, fsync, rename, fsync the directory) and only when something changed: soon after
//! a position moves (at most once per `minWriteIntervalMs`), every sync period as a fallback, and a last
//! time at stop. A failed write never throws: the data stays in memory, the failure is logged once,
//! counted and shown by `health()`, and the next period tries again.

import { errorMessage, PositionsError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Cursor } from '../core/types.js';
import type { Metrics } from '../metrics/metrics.js';
import {
  describeUnusable,
  FORMAT_VERSION,
  mergeNewer,
  type ParsedPositions,
  type PositionEntry,
  parsePositions,
  serializePositions,
} from './format.js';

const { constants } = process.getBuiltinModule('node:fs');
const { copyFile, mkdir, open, readFile, rename, unlink } = process.getBuiltinModule('node:fs/promises');
const { dirname } = process.getBuiltinModule('node:path');

export interface PositionsStoreOptions {
  /** Path of the positions file (Promtail's `positions.filename`). */
  filename: string;
  /** How often changed positions are written, in ms (Promtail's `positions.sync_period`). @default 10000 */
  syncPeriodMs?: number;
  /** Start empty when the file is corrupt (and overwrite it later) instead of refusing to start. @default false */
  ignoreInvalidYaml?: boolean;
  /** Dry run: read the file; never create, write or remove anything. @default false */
  readOnly?: boolean;
  /**
   * Once started, a change is written soon instead of at the next sync period: at once (all the changes
   * of one event-loop turn, such as the settles of one accepted push, in one write), but at most once per
   * this many ms. Positions move when Loki accepts a push, so the file then trails Loki by the push being
   * answered (plus the pushes of the last interval under heavy load), and a crash (SIGKILL, OOM kill)
   * re-sends only those. Costs one write (about 1 ms, fsync included) per accepted push.
   * `Infinity` leaves writes to the sync period, as Promtail. @default 100
   */
  minWriteIntervalMs?: number;
  logger: Logger;
  metrics: Metrics;
  /** The clock, ms since the epoch; tests replace it. @default Date.now */
  now?: () => number;
}

export interface PositionsHealth {
  /** False while the last write (or creating the directory) failed. */
  ok: boolean;
  lastError?: string;
  /** When the file was last written successfully, ms since the epoch. */
  lastWriteAt?: number;
}

const DEFAULT_SYNC_PERIOD_MS = 10_000;
const DEFAULT_MIN_WRITE_INTERVAL_MS = 100;
const FILE_MODE = 0o600;

/** A file's text, or undefined when there is none (a missing file, or a parent that is not a directory). */
async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new PositionsError(`cannot read positions file ${path}: ${errorMessage(err)}`, { cause: err });
  }
}

/** Makes a rename durable. Filesystems that cannot fsync a directory say so; that is not a failed write. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EISDIR' && code !== 'EPERM') throw err;
  } finally {
    await handle?.close();
  }
}

export class PositionsStore {
  readonly #file: string;
  readonly #tmp: string;
  readonly #dir: string;
  readonly #syncPeriodMs: number;
  readonly #readOnly: boolean;
  readonly #minWriteIntervalMs: number;
  readonly #logger: Logger;
  readonly #metrics: Metrics;
  readonly #now: () => number;
  readonly #entries: Map<string, PositionEntry>;

  /** Bumped by every change; the file holds generation #written. */
  #changes = 0;
  #written = 0;
  #writing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Write changes soon after they happen: between start() and stop(), while writes succeed. */
  #eager = false;
  /** The pending write-soon. */
  #soon: NodeJS.Timeout | undefined;
  /** `performance.now()` when the last write began (the write-soon interval counts from it). */
  #lastWriteStart = Number.NEGATIVE_INFINITY;
  #stopping: Promise<void> | undefined;
  #lastError: string | undefined;
  #lastWriteAt: number | undefined;

  private constructor(options: PositionsStoreOptions, entries: Map<string, PositionEntry>) {
    this.#file = options.filename;
    this.#tmp = `${options.filename}.tmp`;
    this.#dir = dirname(options.filename);
    this.#syncPeriodMs = options.syncPeriodMs ?? DEFAULT_SYNC_PERIOD_MS;
    this.#readOnly = options.readOnly ?? false;
    this.#minWriteIntervalMs = options.minWriteIntervalMs ?? DEFAULT_MIN_WRITE_INTERVAL_MS;
    this.#logger = options.logger;
    this.#metrics = options.metrics;
    this.#now = options.now ?? Date.now;
    this.#entries = entries;
  }

  /**
   * Reads the positions file (docktail's, or Promtail's to migrate) and any leftover `<file>.tmp`.
   * Throws PositionsError for a file that cannot be read, a corrupt file (unless `ignoreInvalidYaml`), or a
   * file of a newer version (always: its data must not be discarded or overwritten).
   */
  static async open(options: PositionsStoreOptions): Promise<PositionsStore> {
    if (!(options.syncPeriodMs === undefined || options.syncPeriodMs > 0)) {
      throw new PositionsError(`positions sync period must be positive, got ${options.syncPeriodMs}`);
    }
    if (!(options.minWriteIntervalMs === undefined || options.minWriteIntervalMs >= 0)) {
      throw new PositionsError(`minimum write interval must be ≥ 0, got ${options.minWriteIntervalMs}`);
    }
    const { filename, logger } = options;
    const now = (options.now ?? Date.now)();
    const tmp = `${filename}.tmp`;
    const readOnly = options.readOnly ?? false;

    const mainText = await readIfExists(filename);
    const tmpText = await readIfExists(tmp);
    const main: ParsedPositions = mainText === undefined ? { kind: 'empty' } : parsePositions(mainText, now);
    const leftover = tmpText === undefined ? undefined : parsePositions(tmpText, now);
    // Only a tmp that parses completely as our current format is trusted: a crash can leave it half-written.
    const tmpEntries = leftover?.kind === 'docktail' ? leftover.entries : undefined;

    let entries: Map<string, PositionEntry>;
    let changed = false;
    let usedTmp = false;
    switch (main.kind) {
      case 'future':
        throw new PositionsError(
          `positions file ${filename} has version ${main.version}, newer than this docktail reads ` +
            `(${FORMAT_VERSION}); upgrade docktail, or move the file away to start over`,
        );
      case 'invalid':
        if (tmpEntries !== undefined) {
          logger.warn('positions file is invalid; using the complete leftover temporary file instead', {
            file: filename,
            tmp,
            reason: main.reason,
          });
          entries = tmpEntries;
          changed = true;
          usedTmp = true;
        } else if (options.ignoreInvalidYaml) {
          logger.warn(
            'positions file is invalid; ignore_invalid_yaml is set, so starting with no positions',
            {
              file: filename,
              reason: main.reason,
            },
          );
          entries = new Map();
          changed = true;
        } else {
          throw new PositionsError(
            `invalid positions file ${filename}: ${main.reason} ` +
              '(fix or remove it, or set positions.ignore_invalid_yaml to start over)',
          );
        }
        break;
      case 'empty':
        if (mainText !== undefined)
          logger.warn('positions file is empty; starting with no positions', { file: filename });
        entries = new Map();
        break;
      case 'promtail':
        logger.info(
          'migrating Promtail positions file: resuming each container from the second it recorded',
          {
            file: filename,
            containers: main.entries.size,
          },
        );
        if (main.ignored.length > 0) {
          logger.info('ignoring Promtail positions that are not Docker containers (files, journal)', {
            file: filename,
            count: main.ignored.length,
            first: main.ignored[0],
          });
        }
        entries = main.entries;
        changed = true;
        if (!readOnly) await backupPromtailFile(filename, logger);
        break;
      case 'docktail':
        entries = main.entries;
        break;
    }

    if (leftover !== undefined && !usedTmp) {
      if (tmpEntries !== undefined) {
        const newer = mergeNewer(entries, tmpEntries);
        if (newer > 0) changed = true;
        logger.info(
          'found a complete temporary file left by an interrupted write; kept the newer positions',
          {
            file: filename,
            tmp,
            newerInTmp: newer,
          },
        );
      } else {
        logger.warn('ignoring an incomplete temporary file left by an interrupted write', {
          file: filename,
          tmp,
          reason: describeUnusable(leftover),
        });
      }
    }
    if (leftover !== undefined && !readOnly) await unlink(tmp).catch(() => {});

    const store = new PositionsStore(options, entries);
    if (changed) store.#changes += 1;
    if (!readOnly) {
      try {
        await mkdir(store.#dir, { recursive: true });
      } catch (err) {
        store.#recordFailure(err);
      }
    }
    return store;
  }

  /** The committed cursor of a container, if one is saved. */
  get(id: string): Cursor | undefined {
    const c = this.#entries.get(id)?.cursor;
    return c === undefined ? undefined : { sec: c.sec, nsec: c.nsec, count: c.count };
  }

  /** Saves a container's committed cursor (and its name, for people reading the file). */
  set(id: string, cursor: Cursor, name?: string): void {
    const entry = this.#entries.get(id);
    if (entry === undefined) {
      const fresh: PositionEntry = {
        cursor: { sec: cursor.sec, nsec: cursor.nsec, count: cursor.count },
        updated: this.#now(),
      };
      if (name !== undefined) fresh.name = name;
      this.#entries.set(id, fresh);
      this.#changed();
      return;
    }
    const c = entry.cursor;
    const sameName = name === undefined || name === entry.name;
    if (c.sec === cursor.sec && c.nsec === cursor.nsec && c.count === cursor.count && sameName) return;
    c.sec = cursor.sec;
    c.nsec = cursor.nsec;
    c.count = cursor.count;
    if (name !== undefined) entry.name = name;
    entry.updated = this.#now();
    this.#changed();
  }

  /** Forgets a container (after its follower has stopped for good). */
  remove(id: string): void {
    if (this.#entries.delete(id)) this.#changed();
  }

  ids(): string[] {
    return [...this.#entries.keys()];
  }

  /**
   * Forgets the containers that are not in `liveIds` and whose position has not changed for `olderThanMs`.
   * Returns the ids removed. The caller knows which containers are gone; the age keeps a container that
   * only briefly vanished (an engine restart) from being read again from the start.
   */
  expire(liveIds: ReadonlySet<string>, olderThanMs: number): string[] {
    const cutoff = this.#now() - olderThanMs;
    const removed: string[] = [];
    for (const [id, entry] of this.#entries) {
      if (!liveIds.has(id) && entry.updated <= cutoff) removed.push(id);
    }
    for (const id of removed) this.#entries.delete(id);
    if (removed.length > 0) {
      this.#changed();
      this.#logger.info('expired positions of containers gone for long', {
        file: this.#file,
        count: removed.length,
      });
    }
    return removed;
  }

  /**
   * Starts writing: soon after each change (see `minWriteIntervalMs`) and every sync period (unref'd
   * timers: they never keep the process alive).
   */
  start(): void {
    if (this.#readOnly || this.#timer !== undefined || this.#stopping !== undefined) return;
    this.#timer = setInterval(() => void this.flush(), this.#syncPeriodMs);
    this.#timer.unref();
    this.#eager = Number.isFinite(this.#minWriteIntervalMs);
    if (this.#changes !== this.#written) this.#changed();
  }

  /** Writes now if anything changed since the last successful write. Never rejects; see `health()`. */
  async flush(): Promise<void> {
    if (this.#readOnly) return;
    // A write under way may hold an older snapshot: wait for it, then look again.
    while (this.#writing !== undefined) await this.#writing;
    if (this.#changes === this.#written) return;
    this.#writing = this.#write().finally(() => {
      this.#writing = undefined;
    });
    await this.#writing;
  }

  /** Stops the timer and writes a last time. Idempotent: later calls return the same promise. */
  stop(): Promise<void> {
    if (this.#stopping === undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      this.#eager = false;
      clearTimeout(this.#soon);
      this.#soon = undefined;
      this.#stopping = this.flush();
    }
    return this.#stopping;
  }

  health(): PositionsHealth {
    const h: PositionsHealth = { ok: this.#lastError === undefined };
    if (this.#lastError !== undefined) h.lastError = this.#lastError;
    if (this.#lastWriteAt !== undefined) h.lastWriteAt = this.#lastWriteAt;
    return h;
  }

  /**
   * Records a change and, in eager mode, makes sure a write follows soon. Runs for every committed line,
   * so it costs three field reads unless a write has to be scheduled.
   */
  #changed(): void {
    this.#changes += 1;
    // While writes fail, the sync period paces the retries (and the error count).
    if (!this.#eager || this.#soon !== undefined || this.#lastError !== undefined) return;
    const wait = Math.max(0, this.#lastWriteStart + this.#minWriteIntervalMs - performance.now());
    this.#soon = setTimeout(() => {
      this.#soon = undefined;
      void this.flush();
    }, wait);
    this.#soon.unref();
  }

  async #write(): Promise<void> {
    this.#lastWriteStart = performance.now();
    const generation = this.#changes;
    const text = serializePositions(this.#entries);
    try {
      await mkdir(this.#dir, { recursive: true });
      const handle = await open(this.#tmp, 'w', FILE_MODE);
      try {
        await handle.writeFile(text, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(this.#tmp, this.#file);
      await syncDirectory(this.#dir);
    } catch (err) {
      this.#recordFailure(err);
      await unlink(this.#tmp).catch(() => {});
      return;
    }
    this.#written = generation;
    this.#lastWriteAt = this.#now();
    if (this.#lastError !== undefined) {
      this.#logger.info('positions file written again', { file: this.#file });
      this.#lastError = undefined;
    }
  }

  /** Counts every failure; logs one only when it differs from the one before (not every period). */
  #recordFailure(err: unknown): void {
    const message = errorMessage(err);
    this.#metrics.positionsWriteErrors.inc();
    if (message !== this.#lastError) {
      this.#logger.error('cannot write positions file; keeping positions in memory and retrying', {
        file: this.#file,
        error: message,
      });
    }
    this.#lastError = message;
  }
}

/**
 * Keeps a copy of a Promtail positions file before docktail's first write replaces it, so going back to
 * Promtail keeps its file offsets. An existing backup is left alone; failure only costs the copy.
 */
async function backupPromtailFile(filename: string, logger: Logger): Promise<void> {
  const backup = `${filename}.promtail-backup`;
  try {
    await copyFile(filename, backup, constants.COPYFILE_EXCL);
    logger.info('kept a copy of the Promtail positions file', { file: filename, backup });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      logger.warn('cannot keep a copy of the Promtail positions file', {
        file: filename,
        error: errorMessage(err),
      });
    }
  }
}
