#!/usr/bin/env node
// 6. Where sealog's time goes: one throughput run (fsync per batch, 4 clients)
// with the daemon under `node --cpu-prof`. V8 writes one CPU profile per
// thread: the main thread (seal, batch, compress, writes) and the front
// worker (parse, sanitize, classify, serialize). Each is summarized by self
// time: per source file of sealog, per npm package, per Node subsystem, GC, and
// the hottest functions.
//
// usage: node benchmarks/profile.mjs [--events N] [--quick]
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { makeBuffer } from './lib/events.mjs';
import { isMain, machine, machineLine } from './lib/machine.mjs';
import { COMMON_USAGE, parseOptions } from './lib/options.mjs';
import { ROOT, runMain, countNewlines, headLines, makeTempDir, removeTempDir, splitLines } from './lib/proc.mjs';
import { fmtNum, markdownTable, textTable } from './lib/stats.mjs';
import { SEALOG_BATCH, runSealog } from './lib/systems.mjs';

/** Where a profile node's self time is charged: a sealog source file, a package, a Node subsystem, or V8. */
function bucketOf(cf) {
  const url = cf.url ?? '';
  if (cf.functionName === '(garbage collector)') return 'GC';
  if (cf.functionName === '(program)') return 'V8 and native, unattributed (program)';
  if (cf.functionName === '(idle)') return '(idle)';
  if (cf.functionName.startsWith('RegExp: ')) return 'regular expressions (V8 RegExp code)';
  const path = url.startsWith('file://') ? decodeURIComponent(url.slice(7)) : url;
  const dist = path.indexOf('/dist/src/');
  if (dist >= 0) return 'src/' + path.slice(dist + '/dist/src/'.length).replace(/\.js$/, '.ts');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + '/node_modules/'.length).split('/');
    return `npm ${rest[0].startsWith('@') ? rest.slice(0, 2).join('/') : rest[0]}`;
  }
  if (path.startsWith('node:')) {
    const parts = path.slice(5).split('/');
    // node:internal/streams/readable -> node streams; node:net -> node net
    return `node ${parts[0] === 'internal' ? (parts[1]?.replace(/\.js$/, '') ?? 'internal') : parts[0]}`;
  }
  if (path === '') return 'V8 builtins and native';
  return relative(ROOT, path) || path;
}

/** Self time per bucket and per function, in ms, from a .cpuprofile. */
export function summarizeProfile(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000; // the time until the next sample is this sample's
    self.set(id, (self.get(id) ?? 0) + dt);
  }
  const buckets = new Map();
  const fns = new Map();
  let total = 0;
  let idle = 0;
  for (const [id, ms] of self) {
    const cf = byId.get(id).callFrame;
    const b = bucketOf(cf);
    if (b === '(idle)') {
      idle += ms;
      continue;
    }
    total += ms;
    buckets.set(b, (buckets.get(b) ?? 0) + ms);
    const name = cf.functionName || '(anonymous)';
    const short = name.length > 60 ? name.slice(0, 57) + '...' : name;
    const fname = `${short} ${b.startsWith('src/') || b.startsWith('npm ') || b.startsWith('node ') ? `${b}:${cf.lineNumber + 1}` : ''}`.trim();
    fns.set(fname, (fns.get(fname) ?? 0) + ms);
  }
  const sorted = (m) => [...m].sort((a, b) => b[1] - a[1]).map(([name, ms]) => ({ name, ms: +ms.toFixed(1), pct: +((ms / total) * 100).toFixed(1) }));
  return { busyMs: +total.toFixed(0), idleMs: +idle.toFixed(0), buckets: sorted(buckets), functions: sorted(fns).slice(0, 15) };
}

export const PROFILE_METHOD = (p, env) => [
  `run       one sealog throughput run as in section 1: ${fmtNum(p.events)} events, ${p.clients} clients, fsync per batch, batch max_records ${SEALOG_BATCH.max_records}, linger_ms ${SEALOG_BATCH.linger_ms}`,
  `profile   node --cpu-prof (V8 sampling profiler, ${p.intervalUs} µs interval), one profile per thread of the daemon, start-up to exit; self time, idle excluded`,
  `buckets   sealog source files (src/...ts), npm packages, Node subsystems, GC, and V8/native time no JS function owns`,
  `machine   ${machineLine(env)}`,
];

export async function runProfile(o, { input, log = console.log } = {}) {
  const events = o.profileEvents ?? (o.quick ? 20_000 : 300_000);
  input = input ? headLines(input, events) : makeBuffer(events, o.seed);
  const N = countNewlines(input);
  const profDir = makeTempDir('sealog-prof-');
  const intervalUs = 500;
  const env = machine();
  const params = { events: N, clients: o.clients, intervalUs };
  log(["6. where sealog's time goes (CPU profile)", ...PROFILE_METHOD(params, env).map((l) => '  ' + l)].join('\n'));
  try {
    const r = await runSealog(
      { N, input, parts: splitLines(input, o.clients) },
      {
        fsync: 'batch',
        verify: false,
        nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profDir, `--cpu-prof-interval`, String(intervalUs)],
      },
    );
    // Node names them CPU.<date>.<time>.<pid>.<threadId>.<n>.cpuprofile; thread 0 is the main thread.
    const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
    if (files.length === 0) throw new Error('the daemon wrote no .cpuprofile');
    const threads = files
      .map((f) => ({ threadId: Number(f.split('.').at(-3)), summary: summarizeProfile(JSON.parse(readFileSync(join(profDir, f), 'utf8'))) }))
      .sort((a, b) => a.threadId - b.threadId)
      .map((t) => ({ name: t.threadId === 0 ? 'main thread' : `worker thread ${t.threadId} (front)`, summary: t.summary }));
    const busy = threads.map((t) => `${t.name} ${(t.summary.busyMs / 1000).toFixed(1)} s busy`).join(', ');
    log(`  ${fmtNum(N / r.wallSec)} events/s under the profiler, ${r.check}; ${busy}`);
    return {
      date: new Date().toISOString(),
      params,
      machine: env,
      method: PROFILE_METHOD(params, env),
      run: { eventsPerSec: N / r.wallSec, wallSec: r.wallSec, cpuSec: r.cpuSec, check: r.check },
      threads,
    };
  } finally {
    removeTempDir(profDir);
  }
}

function profileRows(t, limit = 14) {
  const rows = [[`${t.name}: where (self time)`, 'share of its busy CPU', 'ms']];
  for (const b of t.summary.buckets.slice(0, limit)) rows.push([b.name, `${b.pct.toFixed(1)}%`, fmtNum(b.ms)]);
  return rows;
}

function profileFnRows(t, limit = 12) {
  const rows = [[`${t.name}: hottest functions (self time)`, 'share of its busy CPU', 'ms']];
  for (const f of t.summary.functions.slice(0, limit)) rows.push([f.name, `${f.pct.toFixed(1)}%`, fmtNum(f.ms)]);
  return rows;
}

const perThread = (res, table) =>
  res.threads
    .flatMap((t) => [table(profileRows(t)), '', table(profileFnRows(t)), ''])
    .join('\n')
    .trimEnd();
export const profileMarkdown = (res) => perThread(res, markdownTable);
export const printProfile = (res, log = console.log) => log('\n' + perThread(res, textTable));

if (isMain(import.meta.url)) {
  await runMain(async () => {
    const o = parseOptions(process.argv.slice(2));
    if (o.help)
      console.log(
        `usage: node benchmarks/profile.mjs [options]\n${COMMON_USAGE}\n  (--events is the profiled run's size here: default 300,000; --quick 20,000)`,
      );
    else {
      const res = await runProfile({ ...o, profileEvents: process.argv.includes('--events') ? o.events : undefined });
      printProfile(res);
      return res.run.check === 'ok' ? 0 : 1;
    }
  });
}
