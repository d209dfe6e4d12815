// The GitHub Actions workflows (this repository's and the copy-ready one in deploy/github-actions/):
// valid against GitHub's workflow schema (@action-validator/core), and doing what their comments say.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { validateWorkflow } from '@action-validator/core';
import { load } from 'js-yaml';
import { REPO } from '../harness/agent.js';

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  'runs-on': unknown;
  steps: Step[];
  if?: string;
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const WORKFLOWS = [
  '.github/workflows/ci.yml',
  '.github/workflows/image.yml',
  '.github/workflows/deploy.yml',
  'deploy/github-actions/deploy.yml',
];
const DEPLOY_WORKFLOWS = ['.github/workflows/deploy.yml', 'deploy/github-actions/deploy.yml'];

const workflow = (path: string): Workflow => load(readFileSync(join(REPO, path), 'utf8')) as Workflow;
const stepsOf = (w: Workflow): Step[] => Object.values(w.jobs).flatMap(j => j.steps);

/** Validates with the console's warnings collected instead of printed. */
function validate(src: string): { errors: unknown[]; warnings: string[] } {
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => warnings.push(args.join(' '));
  try {
    return { errors: validateWorkflow(src).errors, warnings };
  } finally {
    console.warn = original;
  }
}

function files(dir: string): string[] {
  const skip = new Set(['.git', 'node_modules', 'tmp', 'test-output']);
  return readdirSync(dir).flatMap(name => {
    if (skip.has(name)) return [];
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [relative(REPO, path)];
  });
}

/** GitHub's path filter glob (`*` within a segment, `**` across) as a RegExp. */
const globRegex = (glob: string): RegExp =>
  new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*\*/g, '\0')
      .replace(/\*/g, '[^/]*')
      .replace(/\0/g, '.*')}$`,
  );

describe('every workflow', () => {
  const repoFiles = files(REPO);

  test('the validator is not vacuous: it rejects a broken workflow', () => {
    assert.notDeepEqual(validate('on: push\njobs:\n  a:\n    runs-on: x\n    stepz: []\n').errors, []);
  });

  for (const path of WORKFLOWS) {
    test(`${path} is valid against the GitHub Actions workflow schema`, () => {
      const { errors, warnings } = validate(readFileSync(join(REPO, path), 'utf8'));
      assert.deepEqual(errors, [], JSON.stringify(errors, null, 2));
      for (const w of warnings) assert.match(w, /Glob validation is not yet supported/);
    });

    test(`${path}: path filters match files, actions are pinned to a major, no expression inside run:`, () => {
      const w = workflow(path);
      for (const event of Object.values(w.on ?? {})) {
        for (const glob of ((event as { paths?: string[] } | null)?.paths ?? []).filter(
          g => !g.startsWith('.github/'),
        )) {
          assert.ok(
            repoFiles.some(f => globRegex(glob).test(f)),
            `paths filter ${glob} matches no file`,
          );
        }
      }
      for (const step of stepsOf(w)) {
        if (step.uses) assert.match(step.uses, /^[\w.-]+\/[\w.-]+@v\d+$/);
        // Secrets and inputs reach scripts through env:, never spliced into the script text.
        if (step.run)
          assert.doesNotMatch(step.run, /\$\{\{/, `${step.name}: use env: instead of \${{ }} in run:`);
      }
    });
  }
});

describe('the deploy workflows', () => {
  for (const path of DEPLOY_WORKFLOWS) {
    const w = workflow(path);
    const steps = stepsOf(w);

    test(`${path} runs on a self-hosted runner and checks out deploy/ only`, () => {
      for (const job of Object.values(w.jobs)) assert.equal(job['runs-on'], 'self-hosted');
      const checkout = steps.find(s => s.uses?.startsWith('actions/checkout@'));
      assert.ok(checkout?.with);
      assert.equal(String(checkout.with['sparse-checkout']).trim(), '/deploy/');
      assert.equal(checkout.with['sparse-checkout-cone-mode'], false);
      assert.equal(w.permissions?.contents, 'read');
    });

    test(`${path} writes deploy/.env from secrets through env:, then starts the service and cleans up`, () => {
      const write = steps.find(s => s.run?.includes('deploy/scripts/write-env.sh'));
      assert.ok(write?.env);
      assert.equal(write.env.LOKI_URL, `\${{ secrets.LOKI_URL }}`);
      assert.match(String(write.run), /-r LOKI_URL/);
      assert.ok(existsSync(join(REPO, 'deploy/scripts/write-env.sh')));
      const up = steps.findIndex(s =>
        /docker compose -f deploy\/docker-compose\.yml up -d\b.* docktail$/m.test(s.run ?? ''),
      );
      assert.ok(up > steps.indexOf(write), 'docker compose up must come after .env is written');
      const last = steps.at(-1);
      assert.equal(last?.run, 'rm -f deploy/.env');
      assert.equal(last?.if, 'always()');
    });
  }
});

describe('ci.yml and image.yml', () => {
  test('ci.yml runs .ci/run', () => {
    const steps = stepsOf(workflow('.github/workflows/ci.yml'));
    assert.ok(steps.some(s => /\bbash \.ci\/run$/.test(s.run ?? '')));
  });

  test('image.yml smoke-tests the image, then builds both platforms and pushes except for pull requests', () => {
    const w = workflow('.github/workflows/image.yml');
    assert.equal(w.permissions?.packages, 'write');
    const steps = stepsOf(w);
    const builds = steps.filter(s => s.uses?.startsWith('docker/build-push-action@'));
    assert.equal(builds.length, 2);
    assert.equal(builds[0]!.with?.load, true);
    assert.match(
      String(steps.find(s => s.run?.includes('-check-syntax'))?.run),
      /docker run --rm docktail:check/,
    );
    assert.equal(builds[1]!.with?.platforms, 'linux/amd64,linux/arm64');
    assert.equal(builds[1]!.with?.push, `\${{ github.event_name != 'pull_request' }}`);
  });
});
