#!/usr/bin/env node
// The installed command (also the image's entrypoint, which runs it with
// NODE_OPTIONS=--max-semi-space-size=2: see the Dockerfile).
//
// Regexes in configs are user input: let V8 fall back to its linear-time engine when a pattern
// backtracks excessively (must be set before any regex is compiled).
const { setFlagsFromString } = process.getBuiltinModule('node:v8');

setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
await import('../dist/cli/main.js');
