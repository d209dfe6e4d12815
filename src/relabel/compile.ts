//! `relabel_configs` entries as read from YAML → compiled RelabelRules, with Prometheus' defaults
//! and validation rules (model/relabel/relabel.go `Validate`, v3) and its error texts. Every regex
//! is translated from Go syntax and anchored here, at load time.

import { translateGoRegex } from './go-regex.js';
import type { RelabelAction, RelabelRule } from './relabel.js';
import { isValidLabelName, RELABEL_ACTIONS } from './relabel.js';
import type { TemplatePart } from './template.js';
import { parseTemplate } from './template.js';

/**
 * One `relabel_configs` entry with its YAML values as they come. `null` (a key written with no
 * value) means what it means to Go's yaml.v2: the zero value, so `regex:` is the empty regex and
 * `action:` is an empty action; an absent key takes the default.
 */
export interface RawRelabelConfig {
  /** Labels whose values are joined with `separator` (a list, never a single string). @default [] */
  source_labels?: readonly string[] | null;
  /** @default ';' */
  separator?: string | null;
  /** Go RE2 syntax, anchored at both ends. @default '(.*)' */
  regex?: string | null;
  /** hashmod only, and required there. @default 0 */
  modulus?: number | null;
  /** Required by replace, hashmod, lowercase, uppercase, keepequal, dropequal. @default '' */
  target_label?: string | null;
  /** `$1`, `${name}` references to the regex's groups. @default '$1' */
  replacement?: string | null;
  /** Case-insensitive. @default 'replace' */
  action?: string | null;
}

export interface RelabelIssue {
  /** Relative to the list: `[1, 'regex']`. */
  path: (string | number)[];
  message: string;
}

const DEFAULT_REGEX = '(.*)';
const DEFAULT_REPLACEMENT = '$1';
const DEFAULT_SEPARATOR = ';';
const defaultRegex = translateGoRegex(DEFAULT_REGEX, { anchor: true });

/** Compiles every entry; rules come out only when there is no issue at all. */
export function compileRelabelConfigs(raw: readonly (RawRelabelConfig | null | undefined)[]): {
  rules: RelabelRule[];
  issues: RelabelIssue[];
} {
  const rules: RelabelRule[] = [];
  const issues: RelabelIssue[] = [];
  raw.forEach((entry, i) => {
    const rule = compileOne(entry, i, issues);
    if (rule) rules.push(rule);
  });
  return issues.length > 0 ? { rules: [], issues } : { rules, issues };
}

function compileOne(entry: unknown, i: number, issues: RelabelIssue[]): RelabelRule | undefined {
  if (entry === null || entry === undefined) {
    issues.push({ path: [i], message: 'empty or null relabeling rule' });
    return undefined;
  }
  if (typeof entry !== 'object' || Array.isArray(entry)) {
    issues.push({ path: [i], message: `Expected a relabel config (a mapping), got ${describe(entry)}` });
    return undefined;
  }
  const r = entry as Record<string, unknown>;
  const before = issues.length;
  const issue = (key: string | undefined, message: string): undefined => {
    issues.push({ path: key === undefined ? [i] : [i, key], message });
    return undefined;
  };

  const sourceLabels = labelList(r.source_labels, i, issues);
  const separator = text(r, 'separator', DEFAULT_SEPARATOR, issue);
  const regexSource = text(r, 'regex', DEFAULT_REGEX, issue);
  const targetLabel = text(r, 'target_label', '', issue);
  const replacement = text(r, 'replacement', DEFAULT_REPLACEMENT, issue);
  const actionText = text(r, 'action', 'replace', issue);
  const modulus = r.modulus ?? 0;
  if (typeof modulus !== 'number' || !Number.isSafeInteger(modulus) || modulus < 0) {
    issue('modulus', `Expected \`modulus\` to be a non-negative integer, got ${describe(r.modulus)}`);
  }
  const compiled =
    regexSource === DEFAULT_REGEX ? defaultRegex : translateGoRegex(regexSource ?? '', { anchor: true });
  if (!compiled.ok) issue('regex', compiled.message);
  if (issues.length > before || !compiled.ok || actionText === undefined) return undefined;

  if (r.action === null) return issue('action', 'relabel action cannot be empty');
  const lower = actionText.toLowerCase();
  if (!(RELABEL_ACTIONS as readonly string[]).includes(lower)) {
    return issue('action', `unknown relabel action ${JSON.stringify(actionText)}`);
  }
  const action = lower as RelabelAction;

  const fields = {
    sourceLabelsSet: r.source_labels !== undefined && r.source_labels !== null,
    regexSet: r.regex !== undefined,
    separator: separator ?? '',
    targetLabel: targetLabel ?? '',
    replacement: replacement ?? '',
    modulus: modulus as number,
  };
  const problem = validate(action, fields);
  if (problem) return issue(problem.key, problem.message);

  return Object.freeze({
    action,
    sourceLabels: Object.freeze(sourceLabels ?? []),
    separator: fields.separator,
    regex: compiled.regex,
    groupNames: compiled.groupNames,
    targetLabel: fields.targetLabel,
    targetTemplate:
      action === 'replace' && fields.targetLabel.includes('$') ? parseTemplate(fields.targetLabel) : null,
    replacement: Object.freeze(parseTemplate(fields.replacement)) as readonly TemplatePart[],
    modulus: action === 'hashmod' ? BigInt(fields.modulus) : 0n,
  });
}

interface Fields {
  sourceLabelsSet: boolean;
  regexSet: boolean;
  separator: string;
  targetLabel: string;
  replacement: string;
  modulus: number;
}

/** Prometheus' Validate, in its order; the first problem wins, as there. */
function validate(action: RelabelAction, f: Fields): { key?: string; message: string } | undefined {
  const needsTarget = ['replace', 'hashmod', 'lowercase', 'uppercase', 'keepequal', 'dropequal'].includes(
    action,
  );
  const literalTarget = ['lowercase', 'uppercase', 'keepequal', 'dropequal', 'hashmod'].includes(action);
  const invalidTarget = {
    key: 'target_label',
    message: `${JSON.stringify(f.targetLabel)} is invalid 'target_label' for ${action} action`,
  };
  if (action === 'hashmod' && f.modulus === 0) {
    return { key: 'modulus', message: 'relabel configuration for hashmod requires non-zero modulus' };
  }
  if (needsTarget && f.targetLabel === '') {
    return {
      key: 'target_label',
      message: `relabel configuration for ${action} action requires 'target_label' value`,
    };
  }
  if (action === 'replace') {
    const valid = f.targetLabel.includes('$')
      ? isValidTemplateName(f.targetLabel)
      : isValidLabelName(f.targetLabel);
    if (!valid) return invalidTarget;
  }
  if (literalTarget && !isValidLabelName(f.targetLabel)) return invalidTarget;
  if (
    ['lowercase', 'uppercase', 'keepequal', 'dropequal'].includes(action) &&
    f.replacement !== DEFAULT_REPLACEMENT
  ) {
    return { key: 'replacement', message: `'replacement' can not be set for ${action} action` };
  }
  if (action === 'labelmap' && !isValidTemplateName(f.replacement)) {
    return {
      key: 'replacement',
      message: `${JSON.stringify(f.replacement)} is invalid 'replacement' for labelmap action`,
    };
  }
  if (
    (action === 'keepequal' || action === 'dropequal') &&
    (f.regexSet || f.modulus !== 0 || f.separator !== DEFAULT_SEPARATOR)
  ) {
    return {
      message: `${action} action requires only 'source_labels' and \`target_label\`, and no other fields`,
    };
  }
  if (
    (action === 'labeldrop' || action === 'labelkeep') &&
    (f.sourceLabelsSet ||
      f.targetLabel !== '' ||
      f.modulus !== 0 ||
      f.separator !== DEFAULT_SEPARATOR ||
      f.replacement !== DEFAULT_REPLACEMENT)
  ) {
    return { message: `${action} action requires only 'regex', and no other fields` };
  }
  return undefined;
}

/**
 * Prometheus' `relabelTargetLegacy` (`^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$`): a label name
 * in which `$name` / `${name}` references may stand for parts. Scanned by hand: that regex nests
 * quantifiers and would backtrack exponentially in JS on a long invalid name.
 */
export function isValidTemplateName(s: string): boolean {
  if (s === '' || /^[0-9]/.test(s)) return false;
  let i = 0;
  while (i < s.length) {
    if (s[i] !== '$') {
      if (!/[0-9A-Za-z_]/.test(s[i]!)) return false;
      i++;
      continue;
    }
    const m = /^\$(?:\{\w+\}|\w+)/.exec(s.slice(i));
    if (!m) return false;
    i += m[0].length;
  }
  return true;
}

/** A string field: absent → the default, null → '' (Go's zero value), numbers and booleans as text. */
function text(
  r: Record<string, unknown>,
  key: string,
  fallback: string,
  issue: (key: string, message: string) => undefined,
): string | undefined {
  const value = r[key];
  if (value === undefined) return fallback;
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return issue(key, `Expected \`${key}\` to be a string, got ${describe(value)}`);
}

function labelList(value: unknown, i: number, issues: RelabelIssue[]): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) {
    issues.push({
      path: [i, 'source_labels'],
      message: `Expected \`source_labels\` to be a list of label names, got ${describe(value)}`,
    });
    return undefined;
  }
  const names: string[] = [];
  value.forEach((item: unknown, j) => {
    const name = typeof item === 'number' || typeof item === 'boolean' ? String(item) : item;
    // Source labels are only read, so any non-empty name is accepted (as Prometheus 3 does).
    if (typeof name === 'string' && name !== '') names.push(name);
    else
      issues.push({
        path: [i, 'source_labels', j],
        message: `${JSON.stringify(name ?? null)} is not a valid label name`,
      });
  });
  return names;
}

function describe(value: unknown): string {
  const shown = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  const kind = value === null ? 'null' : Array.isArray(value) ? 'list' : typeof value;
  return `\`${shown.length > 60 ? `${shown.slice(0, 57)}...` : shown}\` (${kind})`;
}
