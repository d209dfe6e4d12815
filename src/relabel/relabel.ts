//! Prometheus relabelling applied to one label set, with the semantics of prometheus/prometheus
//! model/relabel/relabel.go (v3): every action, Go's template expansion, md5-based hashmod, and the
//! order in which Go's labels.Builder visits labels (which decides labelmap collisions).
//! Pure: the input is never mutated. It runs once per target and Docker stream, not per line.

import type { Labels } from '../core/types.js';
import type { TemplatePart } from './template.js';
import { expandTemplate } from './template.js';

export const RELABEL_ACTIONS = [
  'replace',
  'keep',
  'drop',
  'keepequal',
  'dropequal',
  'hashmod',
  'labelmap',
  'labeldrop',
  'labelkeep',
  'lowercase',
  'uppercase',
] as const;
export type RelabelAction = (typeof RELABEL_ACTIONS)[number];

/** One compiled `relabel_configs` entry (build it with compileRelabelConfigs). */
export interface RelabelRule {
  readonly action: RelabelAction;
  readonly sourceLabels: readonly string[];
  readonly separator: string;
  /** Anchored as Prometheus anchors it (`^(?s:<regex>)$`). */
  readonly regex: RegExp;
  /** The capture group names of `regex`, by number, for `${name}` references. */
  readonly groupNames: readonly string[];
  readonly targetLabel: string;
  /** `targetLabel` parsed as a template when it contains `$` (replace only), else null. */
  readonly targetTemplate: readonly TemplatePart[] | null;
  readonly replacement: readonly TemplatePart[];
  /** hashmod only; 0n otherwise. */
  readonly modulus: bigint;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Prometheus' legacy label-name rule. docktail uses it where Prometheus 3 would accept any UTF-8
 * name, because Loki accepts only these names: a rule writing another name would make every push
 * of the stream fail.
 */
export function isValidLabelName(name: string): boolean {
  return LABEL_NAME.test(name);
}

/**
 * A label set under relabelling, mirroring Go's labels.Builder: an empty value deletes, and labels
 * are visited in name order for untouched ones, then in the order they were first set.
 */
class LabelBuilder {
  readonly #labels: Map<string, string>;
  readonly #set = new Set<string>();

  constructor(labels: Readonly<Record<string, string>>) {
    const entries = Object.entries(labels).filter(([, value]) => value !== '');
    this.#labels = new Map(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  get(name: string): string {
    return this.#labels.get(name) ?? '';
  }

  set(name: string, value: string): void {
    if (value === '') {
      this.delete(name);
      return;
    }
    if (!this.#set.has(name)) {
      // Go moves a label it sets to the end of its visiting order; a Map does that on re-insertion.
      this.#labels.delete(name);
      this.#set.add(name);
    }
    this.#labels.set(name, value);
  }

  delete(name: string): void {
    this.#labels.delete(name);
    this.#set.delete(name);
  }

  /** A copy of the current labels, in Go's visiting order, safe to iterate while changing them. */
  snapshot(): [string, string][] {
    return [...this.#labels];
  }

  result(): Record<string, string> {
    return Object.fromEntries(this.snapshot().sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
}

/**
 * Applies the rules in order. Returns the new labels (sorted by name, `__` labels still present),
 * or null when a keep/drop/keepequal/dropequal rule dropped the target.
 */
export function applyRelabel(
  labels: Readonly<Record<string, string>>,
  rules: readonly RelabelRule[],
): Record<string, string> | null {
  const builder = new LabelBuilder(labels);
  for (const rule of rules) {
    if (!applyRule(rule, builder)) return null;
  }
  return builder.result();
}

function applyRule(rule: RelabelRule, b: LabelBuilder): boolean {
  const value = rule.sourceLabels.map(name => b.get(name)).join(rule.separator);
  switch (rule.action) {
    case 'drop':
      return !rule.regex.test(value);
    case 'keep':
      return rule.regex.test(value);
    case 'dropequal':
      return b.get(rule.targetLabel) !== value;
    case 'keepequal':
      return b.get(rule.targetLabel) === value;
    case 'replace': {
      const m = rule.regex.exec(value);
      // No match: nothing is written. An invalid expanded name: nothing either.
      if (m === null) return true;
      const target = rule.targetTemplate
        ? expandTemplate(rule.targetTemplate, m, rule.groupNames)
        : rule.targetLabel;
      if (!isValidLabelName(target)) return true;
      // An empty result deletes the target label.
      b.set(target, expandTemplate(rule.replacement, m, rule.groupNames));
      return true;
    }
    case 'lowercase':
      b.set(rule.targetLabel, goCaseMap(value, false));
      return true;
    case 'uppercase':
      b.set(rule.targetLabel, goCaseMap(value, true));
      return true;
    case 'hashmod':
      b.set(rule.targetLabel, hashMod(value, rule.modulus).toString());
      return true;
    case 'labelmap':
      for (const [name, labelValue] of b.snapshot()) {
        const m = rule.regex.exec(name);
        if (m === null) continue;
        const mapped = expandTemplate(rule.replacement, m, rule.groupNames);
        // Prometheus would set any name here; one Loki refuses is skipped instead.
        if (isValidLabelName(mapped)) b.set(mapped, labelValue);
      }
      return true;
    case 'labeldrop':
    case 'labelkeep': {
      const keepMatching = rule.action === 'labelkeep';
      for (const [name] of b.snapshot()) {
        if (rule.regex.test(name) !== keepMatching) b.delete(name);
      }
      return true;
    }
  }
}

/**
 * Prometheus' hashmod: md5 of the UTF-8 value, its last 8 bytes read as a big-endian uint64
 * ("to give the same result as earlier versions of this code"), modulo the modulus.
 */
export function hashMod(value: string, modulus: bigint): bigint {
  // node:crypto is loaded by the first hashmod (once per target), not with the module.
  const digest = process.getBuiltinModule('node:crypto').createHash('md5').update(value, 'utf8').digest();
  return digest.readBigUInt64BE(8) % modulus;
}

/**
 * Go's strings.ToLower/ToUpper: a one-to-one mapping per code point (Unicode simple case mapping),
 * where JS applies full mappings (ß → SS, final sigma, İ → i̇). Characters whose JS mapping is
 * several code points keep their form, except İ, whose simple lowercase is i.
 */
function goCaseMap(value: string, upper: boolean): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range is the point.
  if (/^[\x00-\x7f]*$/.test(value)) return upper ? value.toUpperCase() : value.toLowerCase();
  let out = '';
  for (const ch of value) {
    const mapped = upper ? ch.toUpperCase() : ch.toLowerCase();
    if ([...mapped].length === 1) out += mapped;
    else out += !upper && ch === '\u0130' ? 'i' : ch;
  }
  return out;
}

/**
 * What the caller does after relabelling, as Prometheus and Promtail do: drops the labels whose
 * name starts with `__`; null when no label is left (the target is then dropped).
 */
export function finalizeLabels(labels: Readonly<Record<string, string>>): Labels | null {
  const out: Record<string, string> = {};
  let count = 0;
  for (const [name, value] of Object.entries(labels)) {
    if (name.startsWith('__')) continue; // `__proto__` too, so plain assignment below is safe
    out[name] = value;
    count++;
  }
  return count === 0 ? null : out;
}
