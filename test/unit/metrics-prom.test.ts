// src/metrics/prom.ts takes prom-client's classes from their own modules, so that an agent talking
// plain HTTP loads no TLS stack (prom-client's index loads its Pushgateway, hence node:https).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as index from 'prom-client';
import * as prom from '../../src/metrics/prom.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('metrics/prom', () => {
  it("exports the very classes and function of prom-client's index", () => {
    const names = Object.keys(prom).sort();
    assert.deepEqual(names, ['Counter', 'Gauge', 'Histogram', 'Registry', 'collectDefaultMetrics']);
    for (const name of names) {
      const mine = (prom as Record<string, unknown>)[name];
      assert.equal(typeof mine, 'function', name);
      assert.equal(mine, (index as Record<string, unknown>)[name], name);
    }
  });

  it('the agent, its config and the metrics load neither node:tls nor node:https', () => {
    // A fresh process (this one has prom-client's index loaded). tsx itself loads node:crypto, so
    // that one cannot be checked here; node:tls is what costs (OpenSSL's TLS state and code).
    const script = [
      "await import('./src/app/agent.ts');",
      "await import('./src/app/compile.ts');",
      "await import('./src/config/load.ts');",
      "await import('./src/config/print.ts');",
      "await import('./src/cli/args.ts');",
      "const { Metrics } = await import('./src/metrics/metrics.ts');",
      'const m = new Metrics({ defaultMetrics: true });',
      'await m.registry.metrics();',
      'const loaded = process.moduleLoadList.filter(n => /^NativeModule (tls|https|_tls_wrap|internal\\/tls)/.test(n));',
      "const http = process.moduleLoadList.includes('NativeModule http');",
      'process.stdout.write(JSON.stringify({ loaded, http }));',
      'process.exit(0);',
    ].join('\n');
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    // node:http is loaded (the modules did load), node:tls is not.
    assert.deepEqual(JSON.parse(out), { loaded: [], http: true });
  });
});
