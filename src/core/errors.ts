//! Error classes with a stable `code`, and the shape of a configuration issue.

/** Base of every error docktail raises on purpose. */
export class DocktailError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** One problem in the configuration, located by its path (`scrape_configs[0].relabel_configs[1].regex`). */
export interface ConfigIssue {
  path: ReadonlyArray<string | number>;
  message: string;
  /** 1-based line in the config file, when known. */
  line?: number;
}

/** Every issue found in a configuration, reported together. */
export class ConfigError extends DocktailError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[], file?: string) {
    super('CONFIG_INVALID', formatIssues(issues, file));
    this.issues = issues;
  }
}

/** `scrape_configs[0].relabel_configs[1].regex` */
export function formatPath(path: ReadonlyArray<string | number>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out === '' ? '(root)' : out;
}

/** `✖ <message> → at <path> (<file>:<line>)`, one per line. */
export function formatIssues(issues: readonly ConfigIssue[], file?: string): string {
  return issues
    .map(issue => {
      const where = issue.line !== undefined && file !== undefined ? ` (${file}:${issue.line})` : '';
      if (issue.path.length === 0) return `✖ ${issue.message}${where}`;
      return `✖ ${issue.message} → at ${formatPath(issue.path)}${where}`;
    })
    .join('\n');
}

/** The Docker engine answered with an error, or not at all. */
export class DockerError extends DocktailError {
  readonly status: number | undefined;
  constructor(message: string, status?: number, options?: ErrorOptions) {
    super('DOCKER', message, options);
    this.status = status;
  }
}

/** Loki refused a push. */
export class LokiPushError extends DocktailError {
  readonly status: number;
  readonly body: string;
  constructor(message: string, status: number, body: string) {
    super('LOKI_PUSH', message);
    this.status = status;
    this.body = body;
  }
}

/** The positions file could not be read or written. */
export class PositionsError extends DocktailError {
  constructor(message: string, options?: ErrorOptions) {
    super('POSITIONS', message, options);
  }
}

/** A short text for any thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
