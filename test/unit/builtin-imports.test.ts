// The agent takes Node's built-in modules with process.getBuiltinModule(), never with a value import:
// an ESM import of a built-in builds its namespace from every export, which runs the export's lazy
// getters. On Node 24 (the image's) `import … from 'node:http'` thereby loads undici, http2 and
// worker_threads for http's WebSocket exports: 13.7 MB of RSS in a bare process, 4.9 MB in the agent
// (README, Performance). Type imports are erased and stay allowed.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..');

/** Statements in `text` that load a built-in at run time, as `line: statement` strings. */
function valueImportsOfBuiltins(text: string): string[] {
  const found: string[] = [];
  // An import or export clause holds names, braces, commas, `*`, `as` and `type` only.
  const statement = /^[ \t]*(import|export)\b([\w\s{},*$]*?)(?:\bfrom\s*)?['"](node:[^'"]+)['"]/gm;
  for (const m of text.matchAll(statement)) {
    const clause = m[2]!.trim();
    if (clause.startsWith('type ') || clause.startsWith('type{')) continue;
    found.push(`${text.slice(0, m.index).split('\n').length}: ${m[0].trim().replace(/\s+/g, ' ')}`);
  }
  // `typeof import('node:…')` is a type query, erased like a type import.
  for (const m of text.matchAll(/(?<!\btypeof\s+)\bimport\s*\(\s*['"](node:[^'"]+)['"]/g)) {
    found.push(`${text.slice(0, m.index).split('\n').length}: ${m[0]}`);
  }
  return found;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter(f => /\.(ts|js|mjs)$/.test(f))
    .map(f => join(dir, f));
}

describe('built-in modules', () => {
  it('the scan finds value imports of built-ins and lets type imports pass', () => {
    const text = [
      "import type { Socket } from 'node:net';",
      "import { request } from 'node:http';",
      'import {',
      '  readFile,',
      '  writeFile,',
      "} from 'node:fs/promises';",
      "import http from 'node:http';",
      "import * as tls from 'node:tls';",
      "import 'node:crypto';",
      "export { once } from 'node:events';",
      "export type { Readable } from 'node:stream';",
      "const v8 = await import('node:v8');",
      'import type {',
      '  Agent,',
      "} from 'node:https';",
      "import { local } from './node-things.js';",
      "const { readFileSync } = process.getBuiltinModule('node:fs');",
      "let createHash: typeof import('node:crypto').createHash | undefined;",
      'export function hash(value: string): string {',
      "  return process.getBuiltinModule('node:crypto').createHash('md5').update(value).digest('hex');",
      '}',
    ].join('\n');
    assert.deepEqual(valueImportsOfBuiltins(text), [
      "2: import { request } from 'node:http'",
      "3: import { readFile, writeFile, } from 'node:fs/promises'",
      "7: import http from 'node:http'",
      "8: import * as tls from 'node:tls'",
      "9: import 'node:crypto'",
      "10: export { once } from 'node:events'",
      "12: import('node:v8'",
    ]);
  });

  it('src/ and bin/ take built-ins with process.getBuiltinModule()', () => {
    const files = [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'bin'))];
    assert.ok(files.length > 50, `only ${files.length} source files found under src/ and bin/`);
    const offenders = files.flatMap(file =>
      valueImportsOfBuiltins(readFileSync(file, 'utf8')).map(s => `${relative(ROOT, file)}:${s}`),
    );
    assert.deepEqual(offenders, []);
    // The rule is in use, not vacuous: the agent does take built-ins.
    const taken = files.filter(f => readFileSync(f, 'utf8').includes("process.getBuiltinModule('node:"));
    assert.ok(taken.length >= 10, `getBuiltinModule found in ${taken.length} files`);
  });
});
