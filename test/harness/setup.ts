// Shared set-up for end-to-end tests: a temp dir, a Loki-compatible receiver, a docktail config that
// follows only this test's containers, and waits on deliveries.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LokiReceiver, ReceivedEntry } from '../fakes/loki-receiver.js';
import type { Delivery } from './compare.js';
import { compareDelivery, inOrder } from './compare.js';
import { dockerHost, groundTruth, parseRfc3339Nano } from './docker.js';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(process.env.DOCKTAIL_TEST_WORKDIR ?? tmpdir(), `${prefix}-`));
}

export interface TestConfigOptions {
  dir: string;
  receiverUrl: string;
  /** Only containers with this label value are followed. */
  runLabel: string;
  /** YAML items appended to the `clients:` list (a second client). */
  extraClient?: string;
  /** Replaces the whole `clients:` list (YAML items, indented by two spaces). */
  clients?: string;
  /** @default the test engine */
  dockerHost?: string;
  /** @default '500ms' */
  syncPeriod?: string;
  /** @default '200ms' */
  batchwait?: string;
  /** @default '2s' */
  timeout?: string;
  /** @default '100ms' */
  minPeriod?: string;
  /** @default '1s' */
  maxPeriod?: string;
  /** @default 5 */
  maxRetries?: number;
  /** @default '2s' */
  refreshInterval?: string;
  maxLineSize?: string;
  truncate?: boolean;
}

/** A config that follows the containers labelled docktail.test=<runLabel>, with container and stream labels. */
export function writeTestConfig(o: TestConfigOptions): string {
  const file = join(o.dir, 'config.yml');
  const clients =
    o.clients ??
    `  - url: ${o.receiverUrl}
    batchwait: ${o.batchwait ?? '200ms'}
    timeout: ${o.timeout ?? '2s'}
    backoff_config:
      min_period: ${o.minPeriod ?? '100ms'}
      max_period: ${o.maxPeriod ?? '1s'}
      max_retries: ${o.maxRetries ?? 5}
${o.extraClient ?? ''}`;
  writeFileSync(
    file,
    `server:
  http_listen_address: 127.0.0.1
  http_listen_port: 0
positions:
  filename: ${join(o.dir, 'positions.yaml')}
  sync_period: ${o.syncPeriod ?? '500ms'}
clients:
${clients}
scrape_configs:
  - job_name: test
    docker_sd_configs:
      - host: ${o.dockerHost ?? dockerHost()}
        refresh_interval: ${o.refreshInterval ?? '2s'}
        filters:
          - name: label
            values: ['docktail.test=${o.runLabel}']
    relabel_configs:
      - source_labels: ['__meta_docker_container_name']
        regex: '/(.*)'
        target_label: 'container'
      - source_labels: ['__meta_docker_container_log_stream']
        target_label: 'stream'
limits_config:
  max_line_size: ${o.maxLineSize ?? 0}
  max_line_size_truncate: ${o.truncate ?? false}
`,
  );
  return file;
}

export function entriesOf(receiver: LokiReceiver, container: string): ReceivedEntry[] {
  return receiver.entries().filter(e => e.labels.container === container);
}

/** Waits until the receiver holds every line the engine holds for the container, then compares. */
export async function expectDelivered(
  receiver: LokiReceiver,
  id: string,
  container: string,
  timeoutMs = 20_000,
): Promise<Delivery> {
  const truth = await groundTruth(id);
  await receiver
    .waitFor(() => compareDelivery(truth, entriesOf(receiver, container)).lost === 0, timeoutMs)
    .catch(() => {});
  // A moment more, so a duplicate that was about to arrive is counted too.
  await new Promise(r => setTimeout(r, 300));
  const got = entriesOf(receiver, container);
  const d = compareDelivery(truth, got);
  assert.equal(
    d.lost,
    0,
    `lost ${d.lost} of ${d.written} lines of ${container}, e.g. ${d.lostSample.join(' | ')}`,
  );
  assert.equal(
    d.duplicated,
    0,
    `duplicated ${d.duplicated} lines of ${container}: ${d.duplicatedSample.join(' | ')}`,
  );
  assert.equal(d.unexpected, 0, `${d.unexpected} lines of ${container} that the engine does not hold`);
  // Order holds per Docker stream: the engine does not order stdout against stderr, and a config without
  // a stream label (Promtail's default) merges both into one Loki stream. The engine's record says which
  // stream each received line came from.
  const keyOf = (sec: number, nsec: number, line: string) => `${sec}.${nsec} ${line}`;
  const streamOf = new Map(
    truth.map(t => {
      const { sec, nsec } = parseRfc3339Nano(t.ts);
      return [keyOf(sec, nsec, t.line), t.stream];
    }),
  );
  for (const stream of ['stdout', 'stderr']) {
    assert.ok(
      inOrder(got.filter(e => streamOf.get(keyOf(e.sec, e.nsec, e.line)) === stream)),
      `${container} ${stream} out of order`,
    );
  }
  return d;
}

/** A unique label value for the containers of one test file. */
export function runLabel(): string {
  return `run-${process.pid}-${Date.now()}`;
}
