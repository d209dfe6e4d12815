//! Summarises a V8 `.cpuprofile` (from `npm run bench -- --profile`): self time per function and per
//! file, the heaviest first. Run: `node --import tsx bench/profile-summary.ts <file.cpuprofile> [top]`.

import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write('usage: profile-summary.ts <file.cpuprofile> [top]\n');
  process.exit(2);
}
const top = Number(topArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map(n => [n.id, n]));
const selfUs = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]!;
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
let total = 0;
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
for (const [id, us] of selfUs) {
  const frame = byId.get(id)!.callFrame;
  total += us;
  const short = frame.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/').replace(/^node:/, 'node:');
  const key = `${frame.functionName || '(anonymous)'}  ${short}:${frame.lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  const fileKey = short === '' ? `(${frame.functionName})` : short;
  byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + us);
}
const print = (title: string, map: Map<string, number>) => {
  process.stdout.write(`\n${title} (total ${(total / 1000).toFixed(0)} ms)\n`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(
      `${((us / total) * 100).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}\n`,
    );
  }
};
// Inclusive time: a node's own samples plus its descendants', summed per function (a function that
// recurses is counted once per path, so nested frames of one function may overlap).
const inclusive = new Map<number, number>();
const visit = (id: number): number => {
  const node = byId.get(id)!;
  let us = selfUs.get(id) ?? 0;
  for (const child of node.children ?? []) us += visit(child);
  inclusive.set(id, us);
  return us;
};
visit(profile.nodes[0]!.id);
const byFunctionTotal = new Map<string, number>();
for (const [id, us] of inclusive) {
  const frame = byId.get(id)!.callFrame;
  if (frame.functionName === '(root)' || frame.functionName === '(idle)') continue;
  const short = frame.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/');
  const key = `${frame.functionName || '(anonymous)'}  ${short}:${frame.lineNumber + 1}`;
  byFunctionTotal.set(key, (byFunctionTotal.get(key) ?? 0) + us);
}
print('self time by function', byFunction);
print('inclusive time by function', byFunctionTotal);
print('self time by file', byFile);
