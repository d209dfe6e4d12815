// Compares what the engine holds for a container (ground truth) with what the receiver got:
// written / delivered / lost / duplicated, where a duplicate is the same (timestamp, line) received twice.

import type { TruthLine } from './docker.js';
import { parseRfc3339Nano } from './docker.js';

export interface ReceivedLine {
  sec: number;
  nsec: number;
  line: string;
}

export interface Delivery {
  written: number;
  delivered: number;
  lost: number;
  duplicated: number;
  /** A few lost lines, for the failure message. */
  lostSample: string[];
  duplicatedSample: string[];
  /** Received lines that the engine does not hold (corrupted, or from elsewhere). */
  unexpected: number;
}

const key = (sec: number, nsec: number, line: string): string =>
  `${sec}.${String(nsec).padStart(9, '0')} ${line}`;

export function compareDelivery(truth: readonly TruthLine[], received: readonly ReceivedLine[]): Delivery {
  const want = new Map<string, number>();
  for (const t of truth) {
    const { sec, nsec } = parseRfc3339Nano(t.ts);
    const k = key(sec, nsec, t.line);
    want.set(k, (want.get(k) ?? 0) + 1);
  }
  const got = new Map<string, number>();
  for (const r of received) {
    const k = key(r.sec, r.nsec, r.line);
    got.set(k, (got.get(k) ?? 0) + 1);
  }
  const d: Delivery = {
    written: truth.length,
    delivered: 0,
    lost: 0,
    duplicated: 0,
    lostSample: [],
    duplicatedSample: [],
    unexpected: 0,
  };
  for (const [k, n] of want) {
    const m = got.get(k) ?? 0;
    d.delivered += Math.min(n, m);
    if (m < n) {
      d.lost += n - m;
      if (d.lostSample.length < 5) d.lostSample.push(k.slice(0, 120));
    }
    if (m > n) {
      d.duplicated += m - n;
      if (d.duplicatedSample.length < 5) d.duplicatedSample.push(k.slice(0, 120));
    }
  }
  for (const [k, m] of got) if (!want.has(k)) d.unexpected += m;
  return d;
}

/** Whether the lines of each stream arrived in the engine's order (by timestamp, then arrival). */
export function inOrder(received: readonly ReceivedLine[]): boolean {
  for (let i = 1; i < received.length; i++) {
    const a = received[i - 1]!;
    const b = received[i]!;
    if (b.sec < a.sec || (b.sec === a.sec && b.nsec < a.nsec)) return false;
  }
  return true;
}
