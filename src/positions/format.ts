//! The positions file on disk: docktail's versioned JSON, and Promtail's positions.yaml read for migration.
//! Pure: text in, entries or a described problem out. The store decides what a problem means.
//!
//! Version 1:
//!   {"version":1,"containers":{"<full id>":{"ts":"<sec>.<9 digits>","count":N,"name":"/web-1","updated":"<RFC3339>"}}}
//! JSON is valid YAML, so the Promtail default name positions.yaml stays truthful.

import { load } from 'js-yaml';
import type { Cursor } from '../core/types.js';
import { compareTimestamps, formatTimestamp } from '../core/types.js';

/** The newest file version this code reads and the one it writes. */
export const FORMAT_VERSION = 1;

/** One container's saved position. */
export interface PositionEntry {
  cursor: Cursor;
  /** Container name (`/web-1`), for people reading the file. */
  name?: string;
  /** When the position last changed, ms since the epoch. */
  updated: number;
}

export type ParsedPositions =
  | { kind: 'empty' }
  | { kind: 'docktail'; entries: Map<string, PositionEntry> }
  | { kind: 'promtail'; entries: Map<string, PositionEntry>; ignored: string[] }
  /** A file written by a newer docktail: never guessed at, never overwritten. */
  | { kind: 'future'; version: unknown }
  | { kind: 'invalid'; reason: string };

const TS_RE = /^(\d{1,15})\.(\d{9})$/;
const SECONDS_RE = /^\d{1,15}$/;
const PROMTAIL_CURSOR_PREFIX = 'cursor-';

/** `"1700000000.000000123"` → {sec, nsec}; undefined when malformed. */
export function parseTimestamp(text: string): { sec: number; nsec: number } | undefined {
  const m = TS_RE.exec(text);
  if (m === null) return undefined;
  return { sec: Number(m[1]), nsec: Number(m[2]) };
}

/** Orders cursors: by timestamp, then by count (a later count at one timestamp is further on). */
export function compareCursors(a: Cursor, b: Cursor): number {
  return compareTimestamps(a.sec, a.nsec, b.sec, b.nsec) || a.count - b.count;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses a positions file; `now` stamps entries that carry no `updated` time. */
export function parsePositions(text: string, now: number): ParsedPositions {
  if (text.trim() === '') return { kind: 'empty' };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (jsonErr) {
    // Not JSON: a Promtail file (YAML), or a broken one. A text that starts like JSON reports JSON's error.
    try {
      doc = load(text);
    } catch (yamlErr) {
      const err = text.trimStart().startsWith('{') ? jsonErr : yamlErr;
      return { kind: 'invalid', reason: `not valid JSON or YAML: ${(err as Error).message.split('\n')[0]}` };
    }
  }
  if (!isRecord(doc)) return { kind: 'invalid', reason: 'the top level is not an object' };
  if (Object.hasOwn(doc, 'version')) return parseVersioned(doc, now);
  if (Object.hasOwn(doc, 'positions')) return parsePromtail(doc.positions, now);
  return {
    kind: 'invalid',
    reason: 'neither a docktail positions file ("version") nor a Promtail one ("positions")',
  };
}

function parseVersioned(doc: Record<string, unknown>, now: number): ParsedPositions {
  if (doc.version !== FORMAT_VERSION) {
    if (typeof doc.version === 'number' && Number.isInteger(doc.version) && doc.version > FORMAT_VERSION) {
      return { kind: 'future', version: doc.version };
    }
    return { kind: 'invalid', reason: `unknown version ${JSON.stringify(doc.version)}` };
  }
  const containers = doc.containers ?? {};
  if (!isRecord(containers)) return { kind: 'invalid', reason: '"containers" is not an object' };
  const entries = new Map<string, PositionEntry>();
  for (const [id, raw] of Object.entries(containers)) {
    const where = `containers[${JSON.stringify(id)}]`;
    if (id === '') return { kind: 'invalid', reason: 'an empty container id' };
    if (!isRecord(raw)) return { kind: 'invalid', reason: `${where} is not an object` };
    const ts = typeof raw.ts === 'string' ? parseTimestamp(raw.ts) : undefined;
    if (ts === undefined) {
      return {
        kind: 'invalid',
        reason: `${where}.ts must be "<seconds>.<9 digits>", got ${JSON.stringify(raw.ts)}`,
      };
    }
    const count = raw.count ?? 0;
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
      return {
        kind: 'invalid',
        reason: `${where}.count must be a whole number ≥ 0, got ${JSON.stringify(raw.count)}`,
      };
    }
    if (raw.name !== undefined && typeof raw.name !== 'string') {
      return { kind: 'invalid', reason: `${where}.name must be a string` };
    }
    let updated = now;
    if (raw.updated !== undefined) {
      updated = typeof raw.updated === 'string' ? Date.parse(raw.updated) : Number.NaN;
      if (Number.isNaN(updated)) {
        return {
          kind: 'invalid',
          reason: `${where}.updated must be an RFC3339 time, got ${JSON.stringify(raw.updated)}`,
        };
      }
    }
    const entry: PositionEntry = { cursor: { sec: ts.sec, nsec: ts.nsec, count }, updated };
    if (raw.name !== undefined) entry.name = raw.name;
    entries.set(id, entry);
  }
  return { kind: 'docktail', entries };
}

/**
 * Promtail's `positions:` map. `cursor-<id>: "<unix seconds>"` is a Docker target's position: Promtail saved
 * the second of the last line it *handed on*, so resume from that second inclusive with count 0 (lines of
 * that second may be sent again; Loki drops exact (timestamp, line) repeats). Other keys (file offsets,
 * journal cursors) are not ours and are returned as `ignored`.
 */
function parsePromtail(positions: unknown, now: number): ParsedPositions {
  // An empty `positions:` is null in YAML; Promtail reads it as no positions.
  if (positions === null || positions === undefined)
    return { kind: 'promtail', entries: new Map(), ignored: [] };
  if (!isRecord(positions)) return { kind: 'invalid', reason: '"positions" is not a map' };
  const entries = new Map<string, PositionEntry>();
  const ignored: string[] = [];
  for (const [key, value] of Object.entries(positions)) {
    if (!key.startsWith(PROMTAIL_CURSOR_PREFIX) || key.length === PROMTAIL_CURSOR_PREFIX.length) {
      ignored.push(key);
      continue;
    }
    const text = typeof value === 'number' ? String(value) : value;
    if (typeof text !== 'string' || !SECONDS_RE.test(text)) {
      return {
        kind: 'invalid',
        reason: `positions.${key} must be Unix seconds, got ${JSON.stringify(value)}`,
      };
    }
    const id = key.slice(PROMTAIL_CURSOR_PREFIX.length);
    entries.set(id, { cursor: { sec: Number(text), nsec: 0, count: 0 }, updated: now });
  }
  return { kind: 'promtail', entries, ignored };
}

/** Renders entries as a version-1 file: one container per line, ids sorted so the file diffs well. */
export function serializePositions(entries: ReadonlyMap<string, PositionEntry>): string {
  const ids = [...entries.keys()].sort();
  let out = `{"version":${FORMAT_VERSION},"containers":{`;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    const e = entries.get(id)!;
    const body: Record<string, unknown> = {
      ts: formatTimestamp(e.cursor.sec, e.cursor.nsec),
      count: e.cursor.count,
    };
    if (e.name !== undefined) body.name = e.name;
    body.updated = new Date(e.updated).toISOString();
    out += `${i === 0 ? '' : ','}\n  ${JSON.stringify(id)}:${JSON.stringify(body)}`;
  }
  return `${out}${ids.length === 0 ? '' : '\n'}}}\n`;
}

/** Why a leftover tmp file cannot be used, for the log. */
export function describeUnusable(parsed: ParsedPositions): string {
  switch (parsed.kind) {
    case 'invalid':
      return parsed.reason;
    case 'empty':
      return 'it is empty';
    case 'future':
      return `it has version ${parsed.version}`;
    default:
      return `it is not a docktail version ${FORMAT_VERSION} file`;
  }
}

/**
 * Takes, per container, the further of two cursors: `into` gets every entry of `from` that is newer.
 * Positions only move forward, so the further one is the more recent.
 */
export function mergeNewer(
  into: Map<string, PositionEntry>,
  from: ReadonlyMap<string, PositionEntry>,
): number {
  let newer = 0;
  for (const [id, entry] of from) {
    const current = into.get(id);
    if (current === undefined || compareCursors(entry.cursor, current.cursor) > 0) {
      into.set(id, entry);
      newer += 1;
    }
  }
  return newer;
}
