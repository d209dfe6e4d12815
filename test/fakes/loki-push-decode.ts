//! The strict decoder behind the fake Loki (loki-receiver.ts): a push body (snappy + protobuf, decoded
//! with protobufjs reflection from src/loki/push.proto, unknown fields kept so they can be refused) is
//! checked as Loki checks it — label syntax, timestamp range, no client-set hash, format or parsed
//! labels — and turned into entries, or refused with a PushDecodeError carrying Loki-like text.

import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { uncompress } from 'snappyjs';

/** One decoded entry with its stream's labels. */
export interface DecodedEntry {
  labels: Record<string, string>;
  labelsString: string;
  sec: number;
  nsec: number;
  line: string;
  metadata: Record<string, string>;
  /** X-Scope-OrgID of the request, if any. */
  tenant: string | undefined;
}

const PROTO_PATH = fileURLToPath(new URL('../../src/loki/push.proto', import.meta.url));
const root = protobuf.loadSync(PROTO_PATH);
/** The reflected PushRequest type (also used by tests to build odd bodies). */
export const PushRequestType: protobuf.Type = root.lookupType('logproto.PushRequest');

// google.protobuf.Timestamp's valid range: 0001-01-01T00:00:00Z … 9999-12-31T23:59:59Z.
const MIN_SECONDS = -62_135_596_800;
const MAX_SECONDS = 253_402_300_799;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  '"': '"',
  "'": "'",
};

export class PushDecodeError extends Error {}

/** Reads a Go double-quoted string starting at `text[start] === '"'`; returns [value, index after]. */
function readQuoted(text: string, start: number): [string, number] {
  if (text[start] !== '"') throw new PushDecodeError(`expected '"' at ${start} in ${text}`);
  let out = '';
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '"') return [out, i + 1];
    if (ch === '\n') throw new PushDecodeError(`newline in label value: ${text}`);
    if (ch !== '\\') {
      out += ch;
      i += 1;
      continue;
    }
    const esc = text[i + 1];
    if (esc === undefined) break;
    const simple = SIMPLE_ESCAPES[esc];
    if (simple !== undefined) {
      out += simple;
      i += 2;
    } else if (esc === 'x' || esc === 'u' || esc === 'U') {
      const digits = esc === 'x' ? 2 : esc === 'u' ? 4 : 8;
      const hex = text.slice(i + 2, i + 2 + digits);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== digits)
        throw new PushDecodeError(`bad escape in ${text}`);
      out +=
        esc === 'x'
          ? String.fromCharCode(Number.parseInt(hex, 16))
          : String.fromCodePoint(Number.parseInt(hex, 16));
      i += 2 + digits;
    } else if (/[0-7]/.test(esc)) {
      const oct = text.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(oct)) throw new PushDecodeError(`bad escape in ${text}`);
      out += String.fromCharCode(Number.parseInt(oct, 8));
      i += 4;
    } else {
      throw new PushDecodeError(`unknown escape \\${esc} in ${text}`);
    }
  }
  throw new PushDecodeError(`unterminated label value in ${text}`);
}

/** Parses Loki's `{a="x", b="y"}` strictly (names valid and unique, at least one pair). */
export function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = Object.create(null);
  const trimmed = text.trim();
  if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) throw new PushDecodeError(`parse error: ${text}`);
  let i = 1;
  const end = trimmed.length - 1;
  const skip = () => {
    while (i < end && /\s/.test(trimmed[i]!)) i += 1;
  };
  skip();
  let count = 0;
  while (i < end) {
    const eq = trimmed.indexOf('=', i);
    if (eq === -1 || eq > end) throw new PushDecodeError(`parse error: ${text}`);
    const name = trimmed.slice(i, eq).trim();
    if (!LABEL_NAME.test(name)) throw new PushDecodeError(`invalid label name "${name}" in ${text}`);
    if (Object.hasOwn(labels, name)) throw new PushDecodeError(`duplicate label name "${name}" in ${text}`);
    i = eq + 1;
    skip();
    const [value, next] = readQuoted(trimmed, i);
    labels[name] = value;
    count += 1;
    i = next;
    skip();
    if (i < end) {
      if (trimmed[i] !== ',') throw new PushDecodeError(`parse error: ${text}`);
      i += 1;
      skip();
      if (i >= end) throw new PushDecodeError(`parse error (trailing comma): ${text}`);
    }
  }
  if (count === 0) throw new PushDecodeError('error at least one label pair is required per stream');
  return { ...labels };
}

function checkNoUnknowns(message: object, what: string): void {
  if ((message as { $unknowns?: unknown[] }).$unknowns?.length) {
    throw new PushDecodeError(`unknown field in ${what}`);
  }
}

function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  // int64 fields decode to Long objects (the `long` package is installed).
  if (value !== null && typeof value === 'object' && 'toNumber' in value) {
    return (value as { toNumber(): number }).toNumber();
  }
  return Number(value);
}

/** Decodes and validates a push body; throws PushDecodeError with Loki-like text when it is not valid. */
export function decodePushBody(body: Buffer, tenant?: string): DecodedEntry[] {
  let raw: Buffer;
  try {
    raw = uncompress(body, 256 * 1024 * 1024);
  } catch (err) {
    throw new PushDecodeError(`snappy: corrupt input (${(err as Error).message})`);
  }
  let request: protobuf.Message & Record<string, unknown>;
  try {
    // Keep unknown fields (protobufjs drops them by default) so that they can be refused.
    const reader = protobuf.Reader.create(raw);
    reader.discardUnknown = false;
    request = PushRequestType.decode(reader) as protobuf.Message & Record<string, unknown>;
  } catch (err) {
    throw new PushDecodeError(`proto: ${(err as Error).message}`);
  }
  checkNoUnknowns(request, 'PushRequest');
  if (request.format !== '' && request.format !== undefined)
    throw new PushDecodeError('format set by the client');
  const out: DecodedEntry[] = [];
  for (const stream of (request.streams ?? []) as Array<Record<string, unknown>>) {
    checkNoUnknowns(stream, 'StreamAdapter');
    if (toNumber(stream.hash) !== 0) throw new PushDecodeError('stream hash set by the client');
    const labelsString = String(stream.labels ?? '');
    const labels = parseLabels(labelsString);
    for (const entry of (stream.entries ?? []) as Array<Record<string, unknown>>) {
      checkNoUnknowns(entry, 'EntryAdapter');
      if (((entry.parsed as unknown[] | undefined) ?? []).length > 0) {
        throw new PushDecodeError('parsed labels set by the client');
      }
      const ts = entry.timestamp as Record<string, unknown> | null | undefined;
      if (ts === null || ts === undefined)
        throw new PushDecodeError(`entry without timestamp in ${labelsString}`);
      checkNoUnknowns(ts, 'Timestamp');
      const sec = toNumber(ts.seconds);
      const nsec = toNumber(ts.nanos);
      if (sec < MIN_SECONDS || sec > MAX_SECONDS || nsec < 0 || nsec > 999_999_999) {
        throw new PushDecodeError(`timestamp out of range: ${sec}.${nsec} in ${labelsString}`);
      }
      const metadata: Record<string, string> = {};
      for (const pair of (entry.structuredMetadata ?? []) as Array<Record<string, unknown>>) {
        checkNoUnknowns(pair, 'LabelPairAdapter');
        const name = String(pair.name ?? '');
        if (name === '') throw new PushDecodeError('structured metadata with an empty name');
        metadata[name] = String(pair.value ?? '');
      }
      out.push({ labels, labelsString, sec, nsec, line: String(entry.line ?? ''), metadata, tenant });
    }
  }
  return out;
}
