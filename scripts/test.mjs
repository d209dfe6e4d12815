// The whole test suite: starts a private Docker engine (unless DOCKTAIL_TEST_DOCKER_HOST names one),
// builds the test image, runs every unit and integration test with node's test runner, and stops the
// engine by its pid whatever happened.
//
//   node scripts/test.mjs                 every test
//   node scripts/test.mjs test/unit/x.ts  only the files named

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTestImage, startDockerd, stopDockerd } from './dockerd.mjs';

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out.sort();
}

const files =
  process.argv.length > 2
    ? process.argv.slice(2)
    : [...findTests('test/unit'), ...findTests('test/integration')];

let engine;
let workDir;
let host = process.env.DOCKTAIL_TEST_DOCKER_HOST;
let code = 1;
try {
  workDir = mkdtempSync(join(tmpdir(), 'docktail-test-'));
  if (!host) {
    engine = await startDockerd(join(workDir, 'engine'));
    host = engine.host;
    console.log(`# private dockerd pid ${engine.pid} on ${host}`);
  }
  await buildTestImage(host, workDir);
  // TAP (or spec on a terminal) on stdout, and a list of the failed tests on stderr at the end, so the
  // tail of a long log names them.
  const reporters = [
    `--test-reporter=${process.stdout.isTTY ? 'spec' : 'tap'}`,
    '--test-reporter-destination=stdout',
    `--test-reporter=${new URL('./failure-summary.mjs', import.meta.url).href}`,
    '--test-reporter-destination=stderr',
  ];
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-timeout=300000', ...reporters, ...files],
    {
      stdio: 'inherit',
      env: { ...process.env, DOCKTAIL_TEST_DOCKER_HOST: host, DOCKTAIL_TEST_WORKDIR: workDir },
    },
  );
  code = await new Promise(resolve => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
} catch (err) {
  console.error(`test setup failed: ${err instanceof Error ? err.message : err}`);
  code = 1;
} finally {
  if (engine) await stopDockerd(engine.pid, engine.dir);
  if (workDir && engine) {
    // Cleanup must not decide the verdict: what cannot be removed is reported only.
    try {
      rmSync(workDir, { recursive: true, force: true, maxRetries: 3 });
    } catch (err) {
      console.error(`# could not remove ${workDir}: ${err instanceof Error ? err.message : err}`);
    }
  }
}
process.exitCode = code;
