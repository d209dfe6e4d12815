#!/usr/bin/env node
// The installed command (also the image's entrypoint, which runs it with
// NODE_OPTIONS=--max-semi-space-size=2: see the Dockerfile).
const { setFlagsFromString } = process.getBuiltinModule('node:v8');

// Regexes in configs are user input: let V8 fall back to its linear-time engine when a pattern
// backtracks excessively (must be set before any regex is compiled).
setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
// No Maglev, V8's mid-tier compiler (on by default from Node 22; Node 20 has it off): on Node 24 the
// backlog's peak RSS was 86.0, 85.3, 85.2 MB without it against 87.0, 89.5, 120.0 MB with it, at the
// same CPU per line within the noise (README, Performance). Hot code still reaches TurboFan. The flag
// cannot go in NODE_OPTIONS, and it only has to be set before code gets hot.
setFlagsFromString('--no-maglev');
await import('../dist/cli/main.js');
