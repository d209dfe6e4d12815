//! Small helpers for the engine's HTTP answers, used by DockerClient (client.ts): reading a bounded body,
//! taking the engine's error text out of it, and leaving a shared wait when a signal aborts.

import type { Readable } from 'node:stream';
import { DockerError } from '../core/errors.js';

/** Longest error answer read for the engine's message. */
export const ERROR_BODY_LIMIT = 1024 * 1024;

/** `promise`, or the abort reason as soon as `signal` aborts. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      value => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      err => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

export function isAbort(err: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true || (err instanceof Error && err.name === 'AbortError');
}

/** Reads a whole (small) response body; an answer over `limit` bytes throws. */
export async function readBody(res: Readable, limit = 64 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      res.destroy();
      throw new DockerError(`engine answer larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The engine's error text from a JSON `{"message": …}` body, or the body itself. */
export function engineMessage(body: string, status: number): string {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    if (typeof parsed.message === 'string' && parsed.message !== '') return parsed.message;
  } catch {}
  const text = body.trim();
  return text === '' ? `HTTP ${status}` : text;
}
