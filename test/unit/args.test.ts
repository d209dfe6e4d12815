import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CliArgs, parseArgs, usageText } from '../../src/cli/args.js';

const DEFAULTS: CliArgs = {
  expandEnv: false,
  dryRun: false,
  printConfigStderr: false,
  checkSyntax: false,
  inspect: false,
  logConfigReverseOrder: false,
  version: false,
  help: false,
};

describe('parseArgs', () => {
  const ok: Array<[string[], Partial<CliArgs>]> = [
    [[], {}],
    [['-config.file=/etc/promtail/promtail-config.yml'], { configFile: '/etc/promtail/promtail-config.yml' }],
    [['--config.file=a.yml'], { configFile: 'a.yml' }],
    [['-config.file', 'a.yml'], { configFile: 'a.yml' }],
    [['--config.file', 'a.yml'], { configFile: 'a.yml' }],
    [['-config.file', '-odd-name.yml'], { configFile: '-odd-name.yml' }],
    [['-config.file=a=b.yml'], { configFile: 'a=b.yml' }],
    [['-config.file=a.yml', '-config.file=b.yml'], { configFile: 'b.yml' }],
    [['-config.expand-env=true'], { expandEnv: true }],
    [['-config.expand-env'], { expandEnv: true }],
    [['--config.expand-env=1'], { expandEnv: true }],
    [['-config.expand-env=false'], { expandEnv: false }],
    [['-config.expand-env', '-config.expand-env=F'], { expandEnv: false }],
    [['-env-file=prod.env'], { envFile: 'prod.env' }],
    [['-env-file', 'prod.env'], { envFile: 'prod.env' }],
    [['-dry-run'], { dryRun: true }],
    [['-print-config-stderr'], { printConfigStderr: true }],
    [['-check-syntax'], { checkSyntax: true }],
    [['-log.level=debug'], { logLevel: 'debug' }],
    [['-log.level', 'warn'], { logLevel: 'warn' }],
    [['-log.format=json'], { logFormat: 'json' }],
    [['--log.format', 'logfmt'], { logFormat: 'logfmt' }],
    [['-inspect'], { inspect: true }],
    [['-log-config-reverse-order'], { logConfigReverseOrder: true }],
    [['-version'], { version: true }],
    [['--version'], { version: true }],
    [['-help'], { help: true }],
    [['-h'], { help: true }],
    [['--help'], { help: true }],
    [['-dry-run', '--'], { dryRun: true }],
    [
      ['-config.file=/etc/promtail/promtail-config.yml', '-config.expand-env=true'],
      { configFile: '/etc/promtail/promtail-config.yml', expandEnv: true },
    ],
  ];
  for (const [argv, expected] of ok) {
    it(argv.join(' ') || '(no arguments)', () => {
      assert.deepEqual(parseArgs(argv), { ok: true, args: { ...DEFAULTS, ...expected } });
    });
  }

  const bad: Array<[string[], RegExp]> = [
    [['-config.fil=a.yml'], /^Unknown flag -config\.fil \(did you mean -config\.file\?\)/],
    [['-config.expand_env'], /^Unknown flag -config\.expand_env \(did you mean -config\.expand-env\?\)/],
    [['-frobnicate'], /^Unknown flag -frobnicate; run with -help/],
    [['--client.url=http://x'], /^Unknown flag -client\.url/],
    [['-config.file'], /^Flag -config\.file needs a value/],
    [['-config.file='], /^Flag -config\.file needs a non-empty value/],
    [['-env-file='], /^Flag -env-file needs a non-empty value/],
    [['-config.expand-env=yes'], /^Flag -config\.expand-env takes true or false, got "yes"/],
    [['-dry-run=maybe'], /^Flag -dry-run takes true or false/],
    [['-log.level=trace'], /^Flag -log\.level takes debug, info, warn or error, got "trace"/],
    [['-log.format=text'], /^Flag -log\.format takes logfmt or json, got "text"/],
    [['config.yml'], /^Unexpected argument "config\.yml"/],
    [['-dry-run', 'extra'], /^Unexpected argument "extra"/],
    [['--', 'x'], /^Unexpected argument "x"/],
    [['-'], /^Unexpected argument "-"/],
    [['---config.file=a'], /^Bad flag syntax: ---config\.file=a/],
    [['-=x'], /^Bad flag syntax/],
  ];
  for (const [argv, message] of bad) {
    it(`refuses ${argv.join(' ')}`, () => {
      const r = parseArgs(argv);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.error, message);
    });
  }
});

describe('usageText', () => {
  it('lists every flag', () => {
    const text = usageText();
    for (const flag of [
      '-config.file=PATH',
      '-config.expand-env',
      '-env-file=PATH',
      '-dry-run',
      '-print-config-stderr',
      '-check-syntax',
      '-log.level=LEVEL',
      '-log.format=FORMAT',
      '-inspect',
      '-version',
      '-help, -h',
    ]) {
      assert.ok(text.includes(flag), `${flag} missing from\n${text}`);
    }
  });
});
