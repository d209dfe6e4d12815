//! Loads a Promtail config: reads `.env` (under the real environment, which wins), reads the file,
//! expands `${VAR}` when asked (on the raw text, as Promtail does), parses the YAML and validates it.
//! Every problem comes back as a located ConfigIssue, all of them together; nothing here throws, and
//! process.env is never written.

import { parse as parseDotenv } from 'dotenv';
import type { ConfigIssue } from '../core/errors.js';
import { errorMessage } from '../core/errors.js';
import { expandEnv } from './expand-env.js';
import type { Config, Locate } from './schema.js';
import { validateConfig } from './validate.js';
import { EXECUTABLE_STAGES } from './validate-scrape.js';
import { parseYaml } from './yaml.js';

const { readFileSync, statSync } = process.getBuiltinModule('node:fs');
const { resolve } = process.getBuiltinModule('node:path');

export type Env = Readonly<Record<string, string | undefined>>;

export interface LoadTextOptions {
  /** Expand `${VAR}` before parsing (`-config.expand-env`). */
  expandEnv: boolean;
  /** Variables for expansion: the merged view `loadConfig` builds, or any map in tests. */
  env: Env;
  /** Directory that relative `*_file` paths resolve against. @default process.cwd() */
  cwd?: string;
  /** Expand bare `$VAR` too (see expand-env.ts). @default false */
  bareVariables?: boolean;
  /**
   * Pipeline stages this version runs; a config naming another (known) stage gets an issue.
   * @default EXECUTABLE_STAGES
   */
  executableStages?: ReadonlySet<string>;
}

export interface LoadOptions extends LoadTextOptions {
  /** The config file; as in Promtail, a comma-separated list means the first one that exists. */
  file: string;
  /**
   * The .env file (dotenv syntax). Undefined means `.env` in `cwd`, and then a missing file is fine;
   * a file named here must exist.
   */
  envFile?: string;
}

export interface LoadResult {
  /** Present only when there is no issue. */
  config?: Config;
  issues: ConfigIssue[];
  /** Promtail settings accepted but not used, and other things worth a log line. */
  notices: string[];
  /** Line of a config path in the file as written (before expansion). */
  locate: Locate;
}

export interface LoadFileResult extends LoadResult {
  /** The environment seen by the config: .env values, overridden by the real environment. */
  env: Record<string, string>;
  /** The config file that was read, if any. */
  file?: string;
}

const noLine: Locate = () => undefined;

/** Parses and validates config text. Never throws. */
export function loadConfigText(text: string, options: LoadTextOptions): LoadResult {
  const cwd = options.cwd ?? process.cwd();
  let source = text;
  let lineMap: number[] | undefined;
  const issues: ConfigIssue[] = [];
  if (options.expandEnv) {
    const expanded = expandEnv(text, options.env, { bareVariables: options.bareVariables });
    source = expanded.text;
    lineMap = expanded.lineMap;
    issues.push(...expanded.issues);
  }
  const sourceLine = (line: number | undefined): number | undefined =>
    line === undefined || lineMap === undefined ? line : (lineMap[line - 1] ?? line);

  const parsed = parseYaml(source);
  if (!parsed.ok) {
    issues.push({ path: [], message: parsed.message, line: sourceLine(parsed.line) });
    return { issues, notices: [], locate: noLine };
  }
  const index = parsed.index;
  const locate: Locate = path => sourceLine(index.line(path));
  // Expansion issues are found in the raw text, by line: name the config path written on that line.
  for (let i = 0; i < issues.length; i++) {
    const issue = issues[i]!;
    if (issue.path.length > 0 || issue.line === undefined) continue;
    const parsedLine = lineMap === undefined ? issue.line : lineMap.indexOf(issue.line) + 1;
    const path = parsedLine > 0 ? index.pathAt(parsedLine) : undefined;
    if (path !== undefined) issues[i] = { ...issue, path };
  }
  const result = validateConfig(parsed.value, {
    locate,
    scalar: path => index.scalar(path),
    expandEnv: options.expandEnv,
    executableStages: options.executableStages ?? EXECUTABLE_STAGES,
    readSecret: file => {
      try {
        return { ok: true, value: readFileSync(resolve(cwd, file), 'utf8').trim() };
      } catch (err) {
        return { ok: false, error: errorMessage(err) };
      }
    },
  });
  // A value broken by an unset variable would be reported twice: keep the cause, on its line.
  const causeLines = new Set(issues.map(i => i.line));
  for (const issue of result.issues) {
    if (issue.line === undefined || !causeLines.has(issue.line)) issues.push(issue);
  }
  // In file order (stable, so issues of one line keep theirs); unlocated ones last.
  issues.sort((a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER));
  return issues.length === 0
    ? { config: result.config, issues, notices: result.notices, locate }
    : { issues, notices: result.notices, locate };
}

/** Reads a .env file into a map; `required` makes a missing file an issue. */
export function readEnvFile(
  file: string,
  required: boolean,
): { vars: Record<string, string>; issue?: ConfigIssue } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    if (missing && !required) return { vars: {} };
    return { vars: {}, issue: { path: [], message: `Cannot read env file ${file}: ${errorMessage(err)}` } };
  }
  try {
    return { vars: parseDotenv(text) };
  } catch (err) {
    return { vars: {}, issue: { path: [], message: `Cannot parse env file ${file}: ${errorMessage(err)}` } };
  }
}

/** The environment a config sees: `.env` values under the real ones (a real variable wins, even empty). */
export function mergeEnv(fileVars: Readonly<Record<string, string>>, env: Env): Record<string, string> {
  const merged: Record<string, string> = { ...fileVars };
  for (const [name, value] of Object.entries(env)) if (value !== undefined) merged[name] = value;
  return merged;
}

/** Picks the config file: the first of a comma-separated list that exists (Promtail's rule). */
function pickFile(spec: string, cwd: string): { file?: string; issue?: ConfigIssue } {
  const candidates = spec
    .split(',')
    .map(s => s.trim())
    .filter(s => s !== '');
  if (candidates.length === 0)
    return { issue: { path: [], message: 'No config file given: use -config.file=PATH' } };
  for (const candidate of candidates) {
    try {
      statSync(resolve(cwd, candidate));
      return { file: candidate };
    } catch {
      // try the next one
    }
  }
  return { issue: { path: [], message: `Config file ${spec} does not exist; set -config.file=PATH` } };
}

/** Loads the config file with its .env. Never throws. */
export function loadConfig(options: LoadOptions): LoadFileResult {
  const cwd = options.cwd ?? process.cwd();
  const issues: ConfigIssue[] = [];
  const explicit = options.envFile !== undefined;
  const dotenv = readEnvFile(resolve(cwd, options.envFile ?? '.env'), explicit);
  if (dotenv.issue) issues.push(dotenv.issue);
  const env = mergeEnv(dotenv.vars, options.env);

  const picked = pickFile(options.file, cwd);
  if (picked.file === undefined) {
    if (picked.issue) issues.push(picked.issue);
    return { issues, notices: [], locate: noLine, env };
  }
  let text: string;
  try {
    text = readFileSync(resolve(cwd, picked.file), 'utf8');
  } catch (err) {
    issues.push({ path: [], message: `Cannot read config file ${picked.file}: ${errorMessage(err)}` });
    return { issues, notices: [], locate: noLine, env, file: picked.file };
  }
  const loaded = loadConfigText(text, { ...options, env, cwd });
  if (issues.length === 0) return { ...loaded, env, file: picked.file };
  return {
    issues: [...issues, ...loaded.issues],
    notices: loaded.notices,
    locate: loaded.locate,
    env,
    file: picked.file,
  };
}
