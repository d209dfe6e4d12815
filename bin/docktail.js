#!/usr/bin/env -S node --max-semi-space-size=2
// The installed command (also the image's entrypoint). `--max-semi-space-size=2`: nothing per log line
// outlives a scavenge (batches hold encoded bytes), so a young generation of 2 MB semi-spaces is
// enough; V8 would otherwise grow it to 16 MB ones while reading a backlog. Measured on the bench's
// 1M-line backlog: peak RSS 86.4 MB → 73.7–75.7 MB, CPU per line within the noise (README,
// Performance). The bench starts this file with the flags of this line.
//
// Regexes in configs are user input: let V8 fall back to its linear-time engine when a pattern
// backtracks excessively (must be set before any regex is compiled).
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
await import('../dist/cli/main.js');
