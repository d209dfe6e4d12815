//! Finds the shared LokiStream of a label set changed by the stages, without rendering it per line.
//! Labels are looked up name by name, value by value, in their insertion order, through a trie of Maps:
//! the strings are those the entry already holds (their hashes are cached by V8), so a hit costs a few
//! Map lookups and builds no string. Only a miss renders the sorted `{a="b"}` key, which also makes the
//! same set reached in another order share one LokiStream.

import type { LokiStream } from '../core/types.js';
import { formatLabels, lokiStream } from '../core/types.js';

interface Node {
  /** Next level: a label name (after a value, or at the root), or a value (after a name). */
  readonly next: Map<string, Node>;
  /** The stream of the labels that end here. */
  stream: LokiStream | undefined;
}

const newNode = (): Node => ({ next: new Map(), stream: undefined });

export class StreamCache {
  readonly #max: number;
  #root: Node = newNode();
  #byKey = new Map<string, LokiStream>();
  #paths = 0;

  /** `max`: label sets remembered; past it the cache starts over (a set still in use is found again). */
  constructor(max: number) {
    this.#max = max;
  }

  /** The LokiStream of these labels; undefined when there are none. */
  get(labels: Readonly<Record<string, string>>): LokiStream | undefined {
    let node = this.#root;
    let empty = true;
    for (const name in labels) {
      empty = false;
      let byName = node.next.get(name);
      if (byName === undefined) {
        byName = newNode();
        node.next.set(name, byName);
      }
      const value = labels[name]!;
      let byValue = byName.next.get(value);
      if (byValue === undefined) {
        byValue = newNode();
        byName.next.set(value, byValue);
      }
      node = byValue;
    }
    if (empty) return undefined;
    if (node.stream !== undefined) return node.stream;
    return this.#miss(node, labels);
  }

  #miss(node: Node, labels: Readonly<Record<string, string>>): LokiStream {
    const key = formatLabels(labels);
    let stream = this.#byKey.get(key);
    if (stream === undefined) {
      stream = lokiStream(labels);
      this.#byKey.set(key, stream);
    }
    if (this.#paths >= this.#max) {
      // Start over rather than track recency per line; the current set is added to the new trie.
      this.#root = newNode();
      this.#byKey = new Map([[key, stream]]);
      this.#paths = 1;
      this.#place(labels, stream);
      return stream;
    }
    this.#paths += 1;
    node.stream = stream;
    return stream;
  }

  #place(labels: Readonly<Record<string, string>>, stream: LokiStream): void {
    let node = this.#root;
    for (const name in labels) {
      const byName = newNode();
      node.next.set(name, byName);
      const byValue = newNode();
      byName.next.set(labels[name]!, byValue);
      node = byValue;
    }
    node.stream = stream;
  }

  /** Label sets remembered (paths through the trie). */
  get size(): number {
    return this.#paths;
  }
}
