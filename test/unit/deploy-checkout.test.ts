// The deploy workflows' steps that can run here, run as the runner would: a sparse, blob-less clone of a
// repository (a local bare one built by the test) with the workflow's own sparse-checkout patterns, then
// the workflow's own .env step (its `run:` script under bash, its `env:` with secrets filled in). The
// written .env is read back with Docker Compose's .env rules, with docktail's dotenv reader, and by sh.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { parse as parseDotenv } from 'dotenv';
import { load } from 'js-yaml';
import { REPO } from '../harness/agent.js';
import { parseComposeEnv } from './compose-env.js';

const run = promisify(execFile);

interface Step {
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}
const stepsOf = (path: string): Step[] =>
  Object.values(
    (load(readFileSync(join(REPO, path), 'utf8')) as { jobs: Record<string, { steps: Step[] }> }).jobs,
  ).flatMap(j => j.steps);

const git = (cwd: string, ...args: string[]) =>
  run(
    'git',
    [
      '-c',
      'user.name=test',
      '-c',
      'user.email=test@example.invalid',
      '-c',
      'init.defaultBranch=main',
      ...args,
    ],
    {
      cwd,
    },
  );

function filesUnder(dir: string, root = dir): string[] {
  return readdirSync(dir).flatMap(name => {
    if (name === '.git') return [];
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path, root) : [relative(root, path)];
  });
}

/** Values that break naive .env writing: spaces, `#`, `$`, quotes, backslashes, `=`, non-ASCII. */
const SECRETS = {
  LOKI_URL: 'https://user:p#ss wörd$HOME`x`@logs.example.invalid/loki/api/v1/push?a=1 #not-a-comment',
  LOKI_TENANT_ID: `it's "q" \\ $HOME \${X} \\$`,
};

test("the compose .env reader follows compose's rules", () => {
  const text = [
    '# a comment',
    'PLAIN=a b # comment',
    'HASH=a#b',
    "SINGLE='$HOME \\ # x'",
    `DOUBLE="\\$HOME \\\\ \\" $HOME \${HOME}"`,
    'export EXPORTED=1',
    "ESC_QUOTE='it\\'s'",
  ].join('\n');
  assert.deepEqual(
    parseComposeEnv(text, name => `<${name}>`),
    {
      PLAIN: 'a b',
      HASH: 'a#b',
      SINGLE: '$HOME \\ # x',
      DOUBLE: '$HOME \\ " <HOME> <HOME>',
      EXPORTED: '1',
      ESC_QUOTE: "it's",
    },
  );
  assert.throws(() => parseComposeEnv("X='open", () => ''), /unterminated/);
});

describe('the deploy workflows, run here', () => {
  let dir: string;
  let bare: string;
  const sourceFiles: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(process.env.DOCKTAIL_TEST_WORKDIR ?? tmpdir(), 'deploy-checkout-'));
    const source = join(dir, 'source');
    mkdirSync(source, { recursive: true });
    // The repository as users have it: deploy/ and the workflows, beside the rest of the project.
    for (const path of [
      'deploy',
      '.github',
      'README.md',
      'Dockerfile',
      'package.json',
      'src/core',
      '.env.example',
    ]) {
      if (existsSync(join(REPO, path))) cpSync(join(REPO, path), join(source, path), { recursive: true });
    }
    sourceFiles.push(...filesUnder(source));
    await git(source, 'init', '-q');
    await git(source, 'add', '-A');
    await git(source, 'commit', '-q', '-m', 'deploy');
    bare = join(dir, 'origin.git');
    await git(dir, 'clone', '-q', '--bare', source, bare);
    await git(bare, 'config', 'uploadpack.allowFilter', 'true');
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const workflow of ['.github/workflows/deploy.yml', 'deploy/github-actions/deploy.yml']) {
    describe(workflow, () => {
      const steps = stepsOf(workflow);
      const checkout = steps.find(s => s.uses?.startsWith('actions/checkout@'))!;
      const envStep = steps.find(s => s.run?.includes('write-env.sh'))!;
      let work: string;

      before(async () => {
        work = join(dir, workflow.replace(/\W+/g, '-'));
        // As actions/checkout does with sparse-checkout and cone mode off: no blobs but the ones needed.
        const patterns = String(checkout.with?.['sparse-checkout']).trim().split('\n');
        await git(
          dir,
          'clone',
          '-q',
          '--filter=blob:none',
          '--no-checkout',
          '--depth=1',
          `file://${bare}`,
          work,
        );
        await git(work, 'sparse-checkout', 'set', '--no-cone', ...patterns);
        await git(work, 'checkout', '-q', 'main');
      });

      test('the sparse checkout brings deploy/ and nothing else, not even as blobs', async () => {
        const want = sourceFiles.filter(f => f.startsWith('deploy/')).sort();
        assert.ok(want.includes('deploy/docker-compose.yml'));
        assert.deepEqual(filesUnder(work).sort(), want);
        const { stdout } = await git(work, 'rev-list', '--objects', '--missing=print', 'HEAD');
        const missing = stdout.split('\n').filter(l => l.startsWith('?')).length;
        assert.ok(missing >= sourceFiles.length - want.length, `${missing} blobs left out`);
      });

      test('what the deploy names is there: the compose file, its config.yaml, the .env script', () => {
        const compose = readFileSync(join(work, 'deploy/docker-compose.yml'), 'utf8');
        for (const m of compose.matchAll(/^\s+- (\.\/[^:\s]+):/gm))
          assert.ok(existsSync(join(work, 'deploy', m[1]!)), m[1]);
        assert.ok(existsSync(join(work, 'deploy/scripts/write-env.sh')));
      });

      const runEnvStep = async (secrets: Record<string, string>, vars: Record<string, string>) => {
        const socket = join(dir, 'fake-docker.sock');
        writeFileSync(socket, '');
        const env: Record<string, string> = {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: process.env.HOME ?? '/root',
          GITHUB_REPOSITORY_OWNER: 'Docktail-Org',
          DOCKER_SOCKET: socket,
        };
        for (const [name, value] of Object.entries(envStep.env ?? {})) {
          const m = /^\$\{\{ (secrets|vars)\.(\w+) \}\}$/.exec(value);
          assert.ok(m, `${name}: ${value}`);
          // An undefined secret or variable is an empty string in Actions.
          env[name] = (m[1] === 'secrets' ? secrets : vars)[m[2]!] ?? '';
        }
        // How the runner runs a `run:` step: bash --noprofile --norc -eo pipefail <script file>.
        const script = join(dir, 'step.sh');
        writeFileSync(script, envStep.run!);
        return run('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], { cwd: work, env });
      };

      test('the .env step writes every secret so that compose, docktail and sh read it back exactly', async () => {
        const vars: Record<string, string> = workflow.startsWith('deploy/')
          ? { DOCKTAIL_IMAGE: 'registry.example.invalid/docktail:1' }
          : {};
        await runEnvStep(SECRETS, vars);
        const file = join(work, 'deploy/.env');
        assert.equal(statSync(file).mode & 0o777, 0o600);
        const text = readFileSync(file, 'utf8');
        const gid = String(statSync(join(dir, 'fake-docker.sock')).gid);
        const image = workflow.startsWith('deploy/')
          ? 'registry.example.invalid/docktail:1'
          : 'ghcr.io/docktail-org/docktail:edge';
        const want = { ...SECRETS, DOCKTAIL_IMAGE: image, DOCKER_GID: gid };
        const compose = parseComposeEnv(text, () => 'INTERPOLATED');
        assert.deepEqual(
          { ...compose, DOCKTAIL_HOST_LABEL: undefined },
          { ...want, DOCKTAIL_HOST_LABEL: undefined },
        );
        assert.ok(compose.DOCKTAIL_HOST_LABEL, 'the host label defaults to the hostname');
        // docktail's own reader agrees on single-quoted values (those without `'` or `\`).
        assert.equal(parseDotenv(text).LOKI_URL, SECRETS.LOKI_URL);
        const { stdout } = await run(
          'bash',
          ['-c', 'set -a; . deploy/.env; printf "%s\\0" "$LOKI_URL" "$LOKI_TENANT_ID"'],
          {
            cwd: work,
          },
        );
        assert.deepEqual(stdout.split('\0').slice(0, 2), [SECRETS.LOKI_URL, SECRETS.LOKI_TENANT_ID]);
      });

      test('without the LOKI_URL secret the step fails and leaves the previous .env', async () => {
        const before = readFileSync(join(work, 'deploy/.env'), 'utf8');
        await assert.rejects(runEnvStep({}, { DOCKTAIL_IMAGE: 'x/y:1' }), (err: { stderr: string }) => {
          assert.match(err.stderr, /LOKI_URL is required/);
          return true;
        });
        assert.equal(readFileSync(join(work, 'deploy/.env'), 'utf8'), before);
        assert.deepEqual(
          readdirSync(join(work, 'deploy')).filter(f => f.startsWith('.env')),
          ['.env'],
          'no temporary file left behind',
        );
      });
    });
  }
});
