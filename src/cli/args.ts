//! Command-line flags, parsed the way Go's `flag` package (and so Promtail) reads them: one or two
//! dashes, `-flag=value` or `-flag value`, bare boolean flags, `-flag=false`, the last repeat wins, and
//! `--` ends the flags. Unlike Go, any positional argument is an error. Pure: never touches process.

import { suggest } from '../config/check.js';
import type { LogFormat, LogLevel } from '../core/logger.js';
import { isLogLevel } from '../core/logger.js';

export interface CliArgs {
  /** `-config.file`: the Promtail config; undefined when not given. */
  configFile?: string;
  /** `-config.expand-env`: expand `${VAR}` in the config. @default false */
  expandEnv: boolean;
  /** `-env-file`: undefined means `.env` in the working directory, which may be missing. */
  envFile?: string;
  /** `-dry-run`: print entries instead of pushing them; positions stay read-only. @default false */
  dryRun: boolean;
  /** `-print-config-stderr`: print the effective config (secrets masked) at start. @default false */
  printConfigStderr: boolean;
  /** `-check-syntax`: load and check the config, then exit. @default false */
  checkSyntax: boolean;
  /** `-log.level`; when undefined, `server.log_level` decides. */
  logLevel?: LogLevel;
  /** `-log.format`; when undefined, `server.log_format` decides. */
  logFormat?: LogFormat;
  /** `-inspect`: print what each pipeline stage changes in every entry to stderr. @default false */
  inspect: boolean;
  /** `-log-config-reverse-order`: accepted for Promtail compatibility, ignored. @default false */
  logConfigReverseOrder: boolean;
  /** `-version`: print the version and exit. @default false */
  version: boolean;
  /** `-help` or `-h`: print `usageText()` and exit. @default false */
  help: boolean;
}

export type ParseArgsResult = { ok: true; args: CliArgs } | { ok: false; error: string };

interface FlagSpec {
  names: readonly string[];
  /** How `usageText` shows the value; absent for boolean flags. */
  value?: string;
  help: string;
  /** Applies a value; returns an error message when the value is not acceptable. */
  set: (args: CliArgs, value: string | boolean) => string | undefined;
}

function nonEmpty(name: string, apply: (args: CliArgs, v: string) => void): FlagSpec['set'] {
  return (args, value) => {
    if (value === '') return `Flag -${name} needs a non-empty value`;
    apply(args, String(value));
    return undefined;
  };
}

type BoolKey = { [K in keyof CliArgs]-?: CliArgs[K] extends boolean ? K : never }[keyof CliArgs];

function bool(key: BoolKey): FlagSpec['set'] {
  return (args, value) => {
    args[key] = value === true;
    return undefined;
  };
}

const FLAGS: readonly FlagSpec[] = [
  {
    names: ['config.file'],
    value: 'PATH',
    help: 'Promtail config file to load (a comma-separated list: the first that exists)',
    set: nonEmpty('config.file', (a, v) => {
      a.configFile = v;
    }),
  },
  {
    names: ['config.expand-env'],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the help shows the ${VAR} syntax itself
    help: 'Expand ${VAR}, ${VAR:-default} and $VAR in the config from the environment and the .env file',
    set: bool('expandEnv'),
  },
  {
    names: ['env-file'],
    value: 'PATH',
    help: 'File of VAR=value lines under the real environment (default .env in the working directory, optional)',
    set: nonEmpty('env-file', (a, v) => {
      a.envFile = v;
    }),
  },
  {
    names: ['dry-run'],
    help: 'Print entries to stdout instead of sending them to Loki; positions are read but not written',
    set: bool('dryRun'),
  },
  {
    names: ['print-config-stderr'],
    help: 'Print the effective config (secrets masked) to stderr at start',
    set: bool('printConfigStderr'),
  },
  {
    names: ['check-syntax'],
    help: 'Check the config file, report every problem and exit',
    set: bool('checkSyntax'),
  },
  {
    names: ['log.level'],
    value: 'LEVEL',
    help: "debug, info, warn or error (default: the config's server.log_level, else info)",
    set: (a, v) => {
      if (typeof v !== 'string' || !isLogLevel(v))
        return `Flag -log.level takes debug, info, warn or error, got "${v}"`;
      a.logLevel = v;
      return undefined;
    },
  },
  {
    names: ['log.format'],
    value: 'FORMAT',
    help: "logfmt or json (default: the config's server.log_format, else logfmt)",
    set: (a, v) => {
      if (v !== 'logfmt' && v !== 'json') return `Flag -log.format takes logfmt or json, got "${v}"`;
      a.logFormat = v;
      return undefined;
    },
  },
  {
    names: ['inspect'],
    help: 'Print what each pipeline stage changes in every entry (labels, extracted data, line, timestamp) to stderr',
    set: bool('inspect'),
  },
  {
    names: ['log-config-reverse-order'],
    help: 'Accepted for Promtail compatibility (ignored)',
    set: bool('logConfigReverseOrder'),
  },
  { names: ['version'], help: 'Print the version and exit', set: bool('version') },
  { names: ['help', 'h'], help: 'Print this help and exit', set: bool('help') },
];

const BY_NAME: ReadonlyMap<string, FlagSpec> = new Map(FLAGS.flatMap(f => f.names.map(n => [n, f] as const)));

/** Go's strconv.ParseBool. */
function parseBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(text)) return false;
  return undefined;
}

function defaults(): CliArgs {
  return {
    expandEnv: false,
    dryRun: false,
    printConfigStderr: false,
    checkSyntax: false,
    inspect: false,
    logConfigReverseOrder: false,
    version: false,
    help: false,
  };
}

/** Parses the arguments after the program name (`process.argv.slice(2)`). Never throws. */
export function parseArgs(argv: readonly string[]): ParseArgsResult {
  const args = defaults();
  for (let i = 0; i < argv.length; i++) {
    const arg = String(argv[i]);
    if (arg === '--') {
      const rest = argv.slice(i + 1);
      return rest.length === 0
        ? { ok: true, args }
        : { ok: false, error: `Unexpected argument "${rest[0]}"` };
    }
    if (arg.length < 2 || !arg.startsWith('-')) {
      return {
        ok: false,
        error: `Unexpected argument "${arg}": flags start with - (run with -help to list them)`,
      };
    }
    const body = arg.startsWith('--') ? arg.slice(2) : arg.slice(1);
    if (body === '' || body.startsWith('-') || body.startsWith('=')) {
      return { ok: false, error: `Bad flag syntax: ${arg}` };
    }
    const eq = body.indexOf('=');
    const name = eq === -1 ? body : body.slice(0, eq);
    const flag = BY_NAME.get(name);
    if (flag === undefined) {
      const hint = suggest(name, BY_NAME.keys());
      return {
        ok: false,
        error: `Unknown flag -${name}${hint === undefined ? '' : ` (did you mean -${hint}?)`}; run with -help to list the flags`,
      };
    }
    let value: string | boolean;
    if (flag.value === undefined) {
      if (eq === -1) value = true;
      else {
        const parsed = parseBool(body.slice(eq + 1));
        if (parsed === undefined) {
          return { ok: false, error: `Flag -${name} takes true or false, got "${body.slice(eq + 1)}"` };
        }
        value = parsed;
      }
    } else if (eq !== -1) {
      value = body.slice(eq + 1);
    } else if (i + 1 < argv.length) {
      // As in Go, the next argument is the value even when it starts with a dash.
      i += 1;
      value = String(argv[i]);
    } else {
      return { ok: false, error: `Flag -${name} needs a value: -${name}=${flag.value}` };
    }
    const error = flag.set(args, value);
    if (error !== undefined) return { ok: false, error };
  }
  return { ok: true, args };
}

/** The text of `-help`. */
export function usageText(): string {
  const rows = FLAGS.map(f => {
    const names = f.names.map(n => `-${n}${f.value === undefined ? '' : `=${f.value}`}`).join(', ');
    return [names, f.help] as const;
  });
  const width = Math.max(...rows.map(([n]) => n.length)) + 2;
  const lines = rows.map(([n, h]) => `  ${n.padEnd(width)}${h}`);
  return [
    'Usage: docktail -config.file=PATH [flags]',
    '',
    'Ships the logs of every Docker container to Grafana Loki, configured by a Promtail config.',
    '',
    'Flags take one or two dashes, and -flag=value or -flag value:',
    ...lines,
    '',
  ].join('\n');
}
