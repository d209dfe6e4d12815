// A second reporter for node's test runner: after the run it lists every failed test with its file,
// its place in the suite and the first lines of its error, so the tail of a long TAP log (all that a CI
// page may keep) still names what failed. Prints nothing when every test passed.

const MAX_ERROR_LINES = 12;

function errorText(error) {
  const cause = error?.cause ?? error;
  const text = cause instanceof Error ? (cause.stack ?? cause.message) : String(cause);
  // Frames inside node itself say nothing about the failure.
  const lines = text
    .split('\n')
    .filter(line => !/^\s+at .*(\bnode:|new Promise \(<anonymous>\)|Array\.map \(<anonymous>\))/.test(line));
  return lines.length > MAX_ERROR_LINES
    ? [...lines.slice(0, MAX_ERROR_LINES), `… ${lines.length - MAX_ERROR_LINES} more lines`]
    : lines;
}

export default async function* failureSummary(source) {
  const failures = [];
  // Per test file (files run in parallel, so their events interleave): the names of the suites and tests
  // that enclose the current event, by nesting.
  const paths = new Map();
  for await (const event of source) {
    if (event.type === 'test:start') {
      const path = paths.get(event.data.file) ?? [];
      paths.set(event.data.file, path);
      path.length = event.data.nesting;
      path.push(event.data.name);
    } else if (event.type === 'test:fail') {
      const { name, nesting, file, details } = event.data;
      // A suite fails because a test in it failed: the test itself is listed.
      if (details?.error?.failureType === 'subtestsFailed') continue;
      const trail = [...(paths.get(file) ?? []).slice(0, nesting), name].join(' › ');
      // The file only: under tsx the line numbers are those of the transpiled code.
      failures.push({ where: file ?? '(no file)', trail, details });
    }
  }
  if (failures.length === 0) return;
  yield `\n# ${failures.length} failed test${failures.length === 1 ? '' : 's'}:\n`;
  for (const { where, trail, details } of failures) {
    yield `# ✗ ${trail}\n#   at ${where} (${Math.round(details?.duration_ms ?? 0)} ms)\n`;
    for (const text of errorText(details?.error)) yield `#     ${text}\n`;
  }
}
