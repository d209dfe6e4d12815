//! The `timestamp` stage (Promtail's timestamp.go): sets the entry's time from an extracted value
//! parsed with a Go layout, a named format or a Unix format, trying `fallback_formats` in order. When
//! nothing parses, `fudge` (the default) gives the entry the last good time of its label set plus
//! 1 ns (so entries stay in order), and `skip` keeps the entry's own time.

import { suggest } from '../../config/check.js';
import type { Labels } from '../../core/types.js';
import {
  FORMAT_NAMES,
  hasNoElements,
  type Instant,
  type TimestampParser,
  timestampParser,
} from '../gotime/parse.js';
import { loadLocation, type TimeLocation } from '../gotime/zone.js';
import type { PipelineEntry, Stage, StageFactory, StageIssue, StageResult } from '../stage.js';
import { expected, extractedValueString, strictString, structConfig } from './config-values.js';

/** `timestamp:` as written in the config. */
export interface TimestampStageConfig {
  /** Extracted name holding the time. Required. */
  source: string;
  /** Go layout, a named format (RFC3339, Stamp…) or Unix, UnixMs, UnixUs, UnixNs. Required. */
  format: string;
  /** Formats tried in order when `format` does not parse. @default [] */
  fallback_formats?: string[];
  /** IANA zone for layouts whose values carry no zone. @default UTC */
  location?: string;
  /** `fudge` or `skip`. @default 'fudge' */
  action_on_failure?: 'fudge' | 'skip';
}

/** Promtail keeps the last good time of at most this many label sets. */
const MAX_STREAMS = 10_000;

/** The last good time of one label set. */
interface Slot {
  readonly key: string;
  sec: number;
  nsec: number;
  /** In the map (a time was recorded and the slot has not been evicted since). */
  stored: boolean;
  /** The map's generation when the slot was last (re)inserted. */
  generation: number;
}

function canonicalKey(labels: Labels): string {
  let key = '';
  for (const name of Object.keys(labels).sort()) key += `${name}\u0000${labels[name]}\u0001`;
  return key;
}

/** A label set recently asked for, as the entry held it (names in its order), and its slot. */
interface Recent {
  readonly names: string[];
  readonly values: string[];
  slot: Slot;
}

/** Label sets remembered for lookups without a key: a stream whose `level` label alternates finds its slots. */
const RECENT = 4;

/**
 * Last good timestamps per label set (Promtail's 10,000-entry LRU keyed by the label set). Per entry
 * it only compares the labels with the few label sets asked for last (no string is built while a
 * stream keeps to them); a slot is moved to the young end once it gets older than half the capacity,
 * so an active label set is never evicted. A slot is `stored` exactly while the map holds it under its
 * key, so a stored slot found among the recent ones is the one the map would give.
 */
class LastTimestamps {
  readonly #slots = new Map<string, Slot>();
  #generation = 0;
  /** Most recent first. */
  readonly #recent: Recent[] = [];

  /** The slot of a label set (not stored until a time is recorded in it). */
  slot(labels: Labels): Slot {
    const recent = this.#recent;
    for (let i = 0; i < recent.length; i++) {
      const r = recent[i]!;
      if (!sameAs(labels, r.names, r.values)) continue;
      // An unstored slot may have been replaced in the map by another order of the same labels.
      if (!r.slot.stored) r.slot = this.#slots.get(r.slot.key) ?? r.slot;
      if (i > 0) {
        recent.splice(i, 1);
        recent.unshift(r);
      }
      return r.slot;
    }
    const key = canonicalKey(labels);
    const slot = this.#slots.get(key) ?? { key, sec: 0, nsec: 0, stored: false, generation: 0 };
    const names = Object.keys(labels);
    recent.unshift({ names, values: names.map(name => labels[name]!), slot });
    if (recent.length > RECENT) recent.pop();
    return slot;
  }

  record(slot: Slot, sec: number, nsec: number): void {
    slot.sec = sec;
    slot.nsec = nsec;
    if (slot.stored && this.#generation - slot.generation < MAX_STREAMS / 2) return;
    const replaced = this.#slots.get(slot.key);
    if (replaced !== undefined) {
      replaced.stored = false;
      this.#slots.delete(slot.key);
    }
    slot.stored = true;
    slot.generation = ++this.#generation;
    this.#slots.set(slot.key, slot);
    if (this.#slots.size > MAX_STREAMS) {
      const oldest = this.#slots.values().next().value!;
      oldest.stored = false;
      this.#slots.delete(oldest.key);
    }
  }
}

/** Whether `labels` holds exactly these names, in this order, with these values. */
function sameAs(labels: Labels, names: readonly string[], values: readonly string[]): boolean {
  let i = 0;
  for (const name in labels) {
    if (name !== names[i] || labels[name] !== values[i]) return false;
    i++;
  }
  return i === names.length;
}

class TimestampStage implements Stage {
  readonly name = 'timestamp';
  readonly #source: string;
  readonly #parsers: readonly TimestampParser[];
  readonly #last: LastTimestamps | undefined;
  readonly #out: Instant = { sec: 0, nsec: 0 };

  constructor(source: string, parsers: readonly TimestampParser[], fudge: boolean) {
    this.#source = source;
    this.#parsers = parsers;
    this.#last = fudge ? new LastTimestamps() : undefined;
  }

  #parse(value: string): boolean {
    for (const parse of this.#parsers) if (parse(value, this.#out)) return true;
    return false;
  }

  process(entry: PipelineEntry): StageResult {
    const value = extractedValueString(entry.extracted[this.#source]);
    const ok = value !== undefined && this.#parse(value);
    if (ok) {
      entry.sec = this.#out.sec;
      entry.nsec = this.#out.nsec;
    }
    const last = this.#last;
    if (last === undefined) return 'keep';
    const slot = last.slot(entry.labels);
    if (ok) last.record(slot, entry.sec, entry.nsec);
    else if (slot.stored) {
      // Fudge: 1 ns after the label set's last time, recorded so the next failure follows it.
      const nsec = slot.nsec + 1;
      entry.sec = nsec === 1_000_000_000 ? slot.sec + 1 : slot.sec;
      entry.nsec = nsec === 1_000_000_000 ? 0 : nsec;
      last.record(slot, entry.sec, entry.nsec);
    }
    return 'keep';
  }
}

const LOWER_NAMES = new Map(FORMAT_NAMES.map(name => [name.toLowerCase(), name]));

/** An issue for a format that cannot match a time: a name in the wrong case, or text without a layout element. */
function checkFormat(format: string, path: (string | number)[], issues: StageIssue[]): void {
  const sameLetters = LOWER_NAMES.get(format.toLowerCase());
  if (sameLetters !== undefined && sameLetters !== format) {
    issues.push({
      path,
      message: `format \`${format}\` is not a format name (names are case-sensitive): did you mean \`${sameLetters}\`?`,
    });
    return;
  }
  if (!hasNoElements(format)) return;
  const near = suggest(format, LOWER_NAMES.keys());
  const hint = near === undefined ? '' : ` (did you mean \`${LOWER_NAMES.get(near)}\`?)`;
  issues.push({
    path,
    message: `format \`${format}\` is neither a format name nor a Go layout (it has no element of the reference time \`Mon Jan 2 15:04:05 -0700 MST 2006\`)${hint}`,
  });
}

function readFormats(value: unknown, issues: StageIssue[]): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    expected(issues, ['fallback_formats'], 'a list of formats', value);
    return [];
  }
  const out: string[] = [];
  value.forEach((f, i) => {
    if (typeof f !== 'string') expected(issues, ['fallback_formats', i], 'a string (a format)', f);
    else {
      checkFormat(f, ['fallback_formats', i], issues);
      out.push(f);
    }
  });
  return out;
}

/** Compiles a `timestamp` stage. */
export const createTimestampStage: StageFactory = config => {
  const issues: StageIssue[] = [];
  const m = structConfig(
    config ?? {},
    ['source', 'format', 'fallback_formats', 'location', 'action_on_failure'],
    issues,
  );
  if (m === undefined) return { issues };
  const source = strictString(m, 'source', issues);
  if (source === undefined || source === '')
    issues.push({
      path: ['source'],
      message: 'timestamp source value is required if timestamp is specified',
    });
  const format = strictString(m, 'format', issues);
  if (format === undefined || format === '')
    issues.push({ path: ['format'], message: 'timestamp format is required' });
  else checkFormat(format, ['format'], issues);
  const fallbacks = readFormats(m.fallback_formats, issues);
  const locationName = strictString(m, 'location', issues);
  let location: TimeLocation | undefined;
  if (locationName !== undefined) {
    const loaded = loadLocation(locationName);
    if (loaded.ok) location = loaded.location;
    else issues.push({ path: ['location'], message: `invalid location specified: ${loaded.message}` });
  }
  const action = strictString(m, 'action_on_failure', issues) ?? 'fudge';
  if (action !== 'fudge' && action !== 'skip')
    issues.push({
      path: ['action_on_failure'],
      message: `invalid action on failure (supported values are [skip fudge]), got \`${action}\``,
    });
  if (source === undefined || format === undefined || issues.length > 0) return { issues };
  const parsers = [format, ...fallbacks].map(f => timestampParser(f, location));
  return { stage: new TimestampStage(source, parsers, action === 'fudge'), issues };
};
