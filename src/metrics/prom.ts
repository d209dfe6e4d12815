//! prom-client's classes, each taken from its own module rather than the package's index. The index
//! also loads its Pushgateway (node:https, hence node:tls and OpenSSL) and the cluster aggregator, which
//! docktail never uses; with them gone an agent that talks plain HTTP loads no TLS stack at all
//! (README, Performance: 3.5–4.2 MB of RSS on Node 24). test/unit/metrics-prom.test.ts checks that each
//! of these is the very class the index exports, so a prom-client that moves them fails there.

import type * as Prom from 'prom-client';

const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);

export const Counter: typeof Prom.Counter = require('prom-client/lib/counter');
export type Counter<T extends string = string> = Prom.Counter<T>;
export const Gauge: typeof Prom.Gauge = require('prom-client/lib/gauge');
export type Gauge<T extends string = string> = Prom.Gauge<T>;
export const Histogram: typeof Prom.Histogram = require('prom-client/lib/histogram');
export type Histogram<T extends string = string> = Prom.Histogram<T>;
export const Registry: typeof Prom.Registry = require('prom-client/lib/registry');
export type Registry = Prom.Registry;
export const collectDefaultMetrics: typeof Prom.collectDefaultMetrics = require('prom-client/lib/defaultMetrics');
