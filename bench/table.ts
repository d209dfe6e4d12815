//! Renders the benchmark's figures as one plain-text table, each figure beside its target.

import { EVENT_LOOP_RESOLUTION_MS } from '../src/metrics/metrics.js';
import type { BenchResults } from './run.js';

interface Row {
  phase: string;
  figure: string;
  measured: string;
  target?: string;
  /** true: meets the target; false: misses it; undefined: no target. */
  ok?: boolean | undefined;
}

const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const k = (n: number) => (Number.isFinite(n) ? `${(n / 1000).toFixed(1)} k` : 'n/a');
const check = (ok: boolean, n: number) => (Number.isFinite(n) ? ok : false);

/** docktail's event-loop delay in a phase, beside the idle probe's over the same window. */
function loopDelayRow(
  phase: string,
  d: { loopDelayP99Ms: number; loopDelayMaxMs: number; probeDelayP99Ms: number; probeDelayMaxMs: number },
): Row {
  return {
    phase,
    figure: `event-loop delay p99 / max (${EVENT_LOOP_RESOLUTION_MS} ms timer)`,
    measured: `${f(d.loopDelayP99Ms)} / ${f(d.loopDelayMaxMs)} ms (idle probe ${f(d.probeDelayP99Ms)} / ${f(d.probeDelayMaxMs)})`,
  };
}

/** Every line delivered, none twice. */
function deliveryRow(
  phase: string,
  figure: string,
  delivered: number,
  duplicates: number,
  expected: number,
): Row {
  return {
    phase,
    figure,
    measured: `${delivered} / ${duplicates}`,
    target: `${expected} / 0`,
    ok: delivered === expected && duplicates === 0,
  };
}

export function renderTable(r: BenchResults): string {
  const rows: Row[] = [];
  const b = r.backlog;
  if (b !== undefined) {
    const n = `${k(b.lines)} lines`;
    rows.push({
      phase: 'backlog',
      figure: `engine rate, follow=0 reader (${b.engineReads.length} reads)`,
      measured: `${k(b.engineRate)} lines/s`,
    });
    rows.push({
      phase: 'backlog',
      figure: 'engine CPU per line (dockerd, reader)',
      measured: `${f(b.engineCpuUsPerLine)} µs`,
    });
    rows.push({
      phase: 'backlog',
      figure: `docktail rate, ${n} until all received`,
      measured: `${k(b.rate)} lines/s`,
    });
    rows.push({
      phase: 'backlog',
      figure: 'ratio docktail / engine',
      measured: f(b.ratio, 2),
      target: '≥ 0.85',
      ok: check(b.ratio >= 0.85, b.ratio),
    });
    rows.push({
      phase: 'backlog',
      figure: 'docktail CPU per line (streaming)',
      measured: `${f(b.cpuUsPerLine, 2)} µs`,
      target: '≤ 5 µs',
      ok: check(b.cpuUsPerLine <= 5, b.cpuUsPerLine),
    });
    rows.push({
      phase: 'backlog',
      figure: 'docktail CPU per line (incl. start-up)',
      measured: `${f(b.cpuUsPerLineTotal, 2)} µs`,
    });
    rows.push({
      phase: 'backlog',
      figure: 'CPU per line meanwhile: dockerd / receiver',
      measured: `${f(b.engineCpuUsPerLineDuringDocktail)} / ${f(b.receiverCpuUsPerLine, 2)} µs`,
    });
    rows.push({
      phase: 'backlog',
      figure: 'docktail peak RSS (VmHWM)',
      measured: `${f(b.peakRssMb)} MB`,
      target: '≤ 70 MB',
      ok: check(b.peakRssMb <= 70, b.peakRssMb),
    });
    rows.push(loopDelayRow('backlog', b));
    rows.push(
      deliveryRow('backlog', 'delivered (distinct) / duplicates', b.delivered, b.duplicates, b.lines),
    );
  }
  const p = r.pipeline;
  if (p !== undefined && 'skipped' in p) {
    rows.push({
      phase: 'pipeline',
      figure: 'json + labels + timestamp',
      measured: `skipped: ${p.skipped.slice(0, 160)}`,
    });
  } else if (p !== undefined) {
    const per = b !== undefined ? p.cpuUsPerLine / b.cpuUsPerLine : Number.NaN;
    rows.push({
      phase: 'pipeline',
      figure: 'docktail rate (json lines)',
      measured: `${k(p.rate)} lines/s (engine ${k(p.engineRate)})`,
    });
    rows.push({ phase: 'pipeline', figure: 'ratio docktail / engine', measured: f(p.ratio, 2) });
    rows.push({ phase: 'pipeline', figure: 'docktail CPU per line', measured: `${f(p.cpuUsPerLine, 2)} µs` });
    rows.push({
      phase: 'pipeline',
      figure: 'CPU per line vs plain backlog',
      measured: `${f(per, 2)}×`,
      target: '≤ 2×',
      ok: check(per <= 2, per),
    });
    rows.push({ phase: 'pipeline', figure: 'peak RSS', measured: `${f(p.peakRssMb)} MB` });
    const applied = p.labelSets.some(l => l.includes('level='));
    rows.push({
      phase: 'pipeline',
      figure: 'delivered / duplicates; `level` label set',
      measured: `${p.delivered} / ${p.duplicates}; ${applied ? 'yes' : 'NO'}`,
      target: `${p.lines} / 0; yes`,
      ok: p.delivered === p.lines && p.duplicates === 0 && applied,
    });
  }
  const fl = r.fleet;
  if (fl !== undefined) {
    const what = `${fl.containers} × ${fl.linesPerSecond} lines/s, ${fl.seconds} s`;
    rows.push({
      phase: 'fleet',
      figure: `docktail CPU, steady (${what})`,
      measured: `${f(fl.cpuPercent, 2)} % of a core`,
      target: '≤ 4 %',
      ok: check(fl.cpuPercent <= 4, fl.cpuPercent),
    });
    rows.push({
      phase: 'fleet',
      figure: 'docktail RSS, steady / peak',
      measured: `${f(fl.rssMb)} / ${f(fl.peakRssMb)} MB`,
      target: '≤ 70 MB',
      ok: check(fl.rssMb <= 70, fl.rssMb),
    });
    rows.push({
      phase: 'fleet',
      figure: 'floor: bare socket reader, same fleet, alone',
      measured: `${f(fl.minFollowerCpuPercent, 2)} % of a core (docktail ${f(fl.cpuPercent / fl.minFollowerCpuPercent, 1)}×)`,
    });
    rows.push({
      phase: 'fleet',
      figure: 'floor: the same reader, reading once a second',
      measured: `${f(fl.minFollowerTickCpuPercent, 2)} % of a core (docktail ${f(fl.cpuPercent / fl.minFollowerTickCpuPercent, 1)}×)`,
    });
    rows.push({
      phase: 'fleet',
      figure: 'dockerd CPU, same window',
      measured: `${f(fl.engineCpuPercent)} % of a core`,
    });
    rows.push(loopDelayRow('fleet', fl));
    rows.push({
      phase: 'fleet',
      figure: 'follow streams open / reopened',
      measured: `${f(fl.followStreams, 0)} / ${f(fl.reconnects, 0)}`,
      target: `${fl.containers} / 0`,
      ok: fl.followStreams === fl.containers && fl.reconnects === 0,
    });
    rows.push(deliveryRow('fleet', 'delivered / duplicates', fl.delivered, fl.duplicates, fl.expected));
  }
  const l = r.latency;
  if (l !== undefined) {
    const limit = l.batchwaitMs + 100;
    rows.push({
      phase: 'latency',
      figure: `p50 (1 container, ${l.linesPerSecond} lines/s, batchwait 1s)`,
      measured: `${f(l.p50Ms, 0)} ms`,
    });
    rows.push({
      phase: 'latency',
      figure: 'p99 / max',
      measured: `${f(l.p99Ms, 0)} / ${f(l.maxMs, 0)} ms`,
      target: `≤ ${limit} ms`,
      ok: check(l.p99Ms <= limit, l.p99Ms),
    });
    rows.push({
      phase: 'latency',
      figure: 'received',
      measured: `${l.received} / ${l.lines}`,
      ok: l.received === l.lines,
      target: 'all',
    });
  }
  const s = r.scale;
  if (s !== undefined) {
    rows.push({
      phase: 'scale',
      figure: `${s.containers} idle containers followed`,
      measured: `${s.followed}`,
    });
    rows.push({
      phase: 'scale',
      figure: 'docktail CPU idle / RSS',
      measured: `${f(s.cpuPercent, 2)} % / ${f(s.rssMb)} MB (${f(s.kbPerFollower, 0)} kB per follower)`,
    });
    rows.push({
      phase: 'scale',
      figure: 'dockerd CPU idle / RSS',
      measured: `${f(s.engineCpuPercent, 1)} % / ${f(s.engineRssMb)} MB`,
    });
    rows.push({
      phase: 'scale',
      figure: 'follow streams / inotify budget (metrics)',
      measured: `${f(s.openFollowStreams, 0)} / ${f(s.inotifyBudget, 0)}`,
    });
    rows.push({
      phase: 'scale',
      figure: 'budget warning logged',
      measured: s.warning === undefined ? 'no' : 'yes',
    });
  }
  const header = `docktail bench  ${r.startedAt}  node ${r.node}  ${r.cpus} CPUs  load ${r.loadAverageAtStart.join(' ')}  engine API ${r.engineApi}\n`;
  const cols = [
    ['phase', ...rows.map(x => x.phase)],
    ['figure', ...rows.map(x => x.figure)],
    ['measured', ...rows.map(x => x.measured)],
    ['target', ...rows.map(x => x.target ?? '')],
    ['', ...rows.map(x => (x.ok === undefined ? '' : x.ok ? 'meets' : 'MISSES'))],
  ];
  const widths = cols.map(c => Math.max(...c.map(v => v.length)));
  const lines = cols[0]!.map((_, i) =>
    cols
      .map((c, j) => c[i]!.padEnd(widths[j]!))
      .join('  ')
      .trimEnd(),
  );
  lines.splice(1, 0, widths.map(w => '-'.repeat(w)).join('  '));
  const notes = [
    ...[r.backlog, r.pipeline, r.fleet, r.latency, r.scale]
      .map(x => (x !== undefined && 'note' in x && x.note ? `note: ${x.note}` : ''))
      .filter(x => x !== ''),
    ...r.errors.map(e => `error: ${e.split('\n')[0]}`),
  ];
  return `${header}${lines.join('\n')}\n${notes.length > 0 ? `${notes.join('\n')}\n` : ''}`;
}
