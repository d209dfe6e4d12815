//! Where discovery's events stream resumes after a reconnect, and which replayed events it has already
//! seen. The engine replays from `since` inclusive, so the events at exactly the newest time seen come
//! again and are skipped; older ones are kept, since the engine may publish events slightly out of time
//! order.

import { type DockerEvent, timeNanoToSince } from '../docker/events.js';

export class EventCursor {
  /** The newest event's timeNano (exact digits), to resume from, and the events seen at exactly that time. */
  #lastTimeNano: string | undefined;
  #keysAtLast = new Set<string>();

  /** `since` for the next subscription: the newest event's time; undefined before any event. */
  get since(): string | undefined {
    return this.#lastTimeNano === undefined ? undefined : timeNanoToSince(this.#lastTimeNano);
  }

  /** Records `event`; false when it is a replay of one already seen (same container, action and time). */
  admit(event: DockerEvent): boolean {
    const key = `${event.id}/${event.action}`;
    const order = this.#lastTimeNano === undefined ? 1 : compareDigits(event.timeNano, this.#lastTimeNano);
    if (order === 0 && this.#keysAtLast.has(key)) return false;
    if (order > 0) {
      this.#lastTimeNano = event.timeNano;
      this.#keysAtLast = new Set([key]);
    } else if (order === 0) {
      this.#keysAtLast.add(key);
    }
    return true;
  }
}

/** Compares two non-negative decimal integers given as digit strings. */
function compareDigits(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
