//! The engine's events stream (`GET /events`): the DockerEvent shape, parsing one JSON line (keeping
//! `timeNano` exact as a string), turning a `timeNano` into the `since` form that resumes the stream,
//! and splitting a response body into events. DockerClient.events (client.ts) opens the stream.

import type { IncomingMessage } from 'node:http';

/** One engine event (`GET /events`), reduced to what docktail reads. */
export interface DockerEvent {
  /** `container`, `network`, … */
  type: string;
  /** `start`, `die`, `destroy`, `rename`, … */
  action: string;
  /** Actor.ID: the container id for container events. */
  id: string;
  /** Actor.Attributes: for containers the labels, `image`, `name` (no `/`), and per action `exitCode`, `oldName`… */
  attributes: Readonly<Record<string, string>>;
  scope: string;
  /** Seconds since the epoch. */
  time: number;
  /**
   * Nanoseconds since the epoch as decimal digits, exact: the value is above 2^53, so it is read from the
   * raw line, never through a JS number.
   */
  timeNano: string;
}

export interface EventsOptions {
  /** Replay events from here on (inclusive): `seconds[.nanoseconds]`, see `timeNanoToSince`. */
  since?: string;
  /** Engine-side event filters (`type`, `event`, `label`, …). */
  filters: Record<string, string[]>;
  /** Called once the engine has accepted the subscription (the response headers arrived). */
  onOpen?: () => void;
  /** Called for a line that is not a usable event; it is skipped. @default a warning in the log */
  onMalformed?: (line: string, reason: string) => void;
}

/** `1795235133846412732` → `1795235133.846412732`, the form `since` takes. */
export function timeNanoToSince(timeNano: string): string {
  const digits = timeNano.padStart(10, '0');
  return `${digits.slice(0, -9).replace(/^0+(?=\d)/, '')}.${digits.slice(-9)}`;
}

/**
 * Finds the exact digits of the top-level `timeNano` in a raw event line. JSON.parse already rounded
 * `rounded`; the digits must round to the same number, which rules out a `timeNano` key among the labels.
 */
function rawTimeNano(line: string, rounded: unknown): string | undefined {
  const key = '"timeNano":';
  let at = line.lastIndexOf(key);
  while (at >= 0) {
    let i = at + key.length;
    while (line.charCodeAt(i) === 32) i++;
    const start = i;
    while (i < line.length && line.charCodeAt(i) >= 48 && line.charCodeAt(i) <= 57) i++;
    if (i > start) {
      const digits = line.slice(start, i);
      if (typeof rounded !== 'number' || Number(digits) === rounded) return digits;
    }
    at = at === 0 ? -1 : line.lastIndexOf(key, at - 1);
  }
  return undefined;
}

/** Parses one line of the events stream; a string is the reason it is not an event. */
export function parseEvent(line: string): DockerEvent | string {
  let raw: {
    Type?: unknown;
    Action?: unknown;
    Actor?: { ID?: unknown; Attributes?: unknown } | null;
    scope?: unknown;
    time?: unknown;
    timeNano?: unknown;
  };
  try {
    raw = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  if (raw === null || typeof raw !== 'object') return 'not a JSON object';
  const id = raw.Actor?.ID;
  if (typeof raw.Type !== 'string' || typeof raw.Action !== 'string' || typeof id !== 'string') {
    return 'no Type, Action or Actor.ID';
  }
  let timeNano = rawTimeNano(line, raw.timeNano);
  if (timeNano === undefined && typeof raw.time === 'number' && Number.isInteger(raw.time)) {
    timeNano = `${raw.time}000000000`;
  }
  if (timeNano === undefined) return 'no timeNano';
  const attrs = raw.Actor?.Attributes;
  const attributes: Record<string, string> = {};
  if (attrs && typeof attrs === 'object') {
    for (const [k, v] of Object.entries(attrs)) if (typeof v === 'string') attributes[k] = v;
  }
  return {
    type: raw.Type,
    action: raw.Action,
    id,
    attributes,
    scope: typeof raw.scope === 'string' ? raw.scope : '',
    time: typeof raw.time === 'number' ? raw.time : Number(timeNano.slice(0, -9) || '0'),
    timeNano,
  };
}

/** Longest events line accepted; a longer one is reported as malformed and skipped. */
const MAX_EVENT_LINE = 1024 * 1024;

/** Splits the JSON-lines body into events; malformed lines go to `onMalformed`. */
export async function* readEvents(
  res: IncomingMessage,
  onMalformed: (line: string, reason: string) => void,
): AsyncGenerator<DockerEvent, void, undefined> {
  res.setEncoding('utf8');
  let pending = '';
  let skipping = false;
  for await (const chunk of res as AsyncIterable<string>) {
    let from = 0;
    for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', from)) {
      const part = chunk.slice(from, nl);
      from = nl + 1;
      const line = pending === '' ? part : pending + part;
      pending = '';
      if (skipping) {
        skipping = false;
        continue;
      }
      // json-seq framing puts RS (0x1e) before each record; \r\n endings are tolerated too.
      let text = line.charCodeAt(0) === 0x1e ? line.slice(1) : line;
      if (text.endsWith('\r')) text = text.slice(0, -1);
      if (text.trim() === '') continue;
      const event = parseEvent(text);
      if (typeof event === 'string') onMalformed(text, event);
      else yield event;
    }
    if (!skipping) {
      pending += chunk.slice(from);
      if (pending.length > MAX_EVENT_LINE) {
        onMalformed(pending.slice(0, 200), `line longer than ${MAX_EVENT_LINE} characters`);
        pending = '';
        skipping = true;
      }
    }
  }
  if (!skipping && pending.trim() !== '') onMalformed(pending, 'incomplete line at the end of the stream');
}
