import { loadConfig } from '../config.js';
import { askDaemon } from '../control.js';
import { ErrorCode } from '../errors.js';
import type { Counts } from '../eventCounts.js';
import type { Condition, HealthLevel } from '../status.js';
import { parseFlags } from './args.js';

export const help = `sealog status [--config FILE | --control PATH] [--json]

Asks the running daemon, over its control socket (not the data socket), how it
is doing: health (ok, degraded or unhealthy, and why), uptime, events taken in,
committed, rejected, absorbed as duplicates and pending per source, the current segment, the last
commit and checkpoint, and what each pipeline stage holds against its mark.
  --config FILE   the daemon's config, to find its control socket
                  (default: the embedded defaults, ./var/sealog.ctl)
  --control PATH  the control socket itself
  --json          the whole report as one JSON object

Exit 0 healthy; 1 degraded or unhealthy; 2 no answer or usage error (with --json,
no answer prints {"error":{"code":"E_NO_ANSWER","message":...}}).`;

interface Report {
  health: { level: HealthLevel; conditions: Condition[] };
  daemon?: {
    pid: number;
    uptime_s: number;
    rss_bytes: number;
    memory: { heap_used: number; external: number };
    origin: string;
    data_dir: string;
    socket: string;
  };
  events?: Record<string, Counts>;
  log?: {
    tree_size: number;
    segment: { n: number; bytes: number } | null;
    last_commit: string | null;
    last_checkpoint: string | null;
    checkpoint_size: number;
  };
  queues?: { stage: string; items: number; mark: number }[];
  connections?: { open: number; total: number; refused: number };
  [section: string]: unknown;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { config: { type: 'string' }, control: { type: 'string' }, json: { type: 'boolean' } });
  if (values.help) {
    console.log(help);
    return 0;
  }
  const path = values.control ?? loadConfig(values.config).control.path;
  let report: Report;
  try {
    report = (await askDaemon(path, { cmd: 'status' })) as unknown as Report;
  } catch (err) {
    // A program reading --json gets JSON whatever happened (the HTTP API's error shape).
    if (values.json) console.log(JSON.stringify({ error: { code: ErrorCode.NO_ANSWER, message: (err as Error).message } }));
    else console.error(`sealog status: ${(err as Error).message}`);
    return 2;
  }
  if (values.json) console.log(JSON.stringify(report));
  else console.log(table(report));
  return report.health.level === 'ok' ? 0 : 1;
}

const ago = (iso: string | null | undefined) => (iso ? `${((Date.now() - Date.parse(iso)) / 1000).toFixed(1)} s ago` : 'none yet');
const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

function table(r: Report): string {
  const out = [`health      ${r.health.level.toUpperCase()}`];
  for (const c of r.health.conditions) out.push(`            ${c.level} ${c.component}: ${c.reason} (since ${c.since})`);
  if (r.daemon) {
    const d = r.daemon;
    out.push(
      `daemon      pid ${d.pid}, up ${d.uptime_s} s, rss ${mib(d.rss_bytes)} (heap ${mib(d.memory.heap_used)}, buffers ${mib(d.memory.external)}), origin ${d.origin}`,
    );
  }
  if (r.log) {
    const l = r.log;
    out.push(`log         ${l.tree_size} records, segment ${l.segment ? `${l.segment.n} (${mib(l.segment.bytes)})` : 'none open'}`);
    out.push(`            last commit ${ago(l.last_commit)}, last checkpoint ${ago(l.last_checkpoint)} (size ${l.checkpoint_size})`);
  }
  if (r.events) {
    const rows = Object.entries(r.events);
    out.push(`events      ${'source'.padEnd(8)}${['in', 'committed', 'rejected', 'duplicates', 'pending'].map((h) => h.padStart(11)).join('')}`);
    for (const [kind, c] of rows)
      out.push(`            ${kind.padEnd(8)}${[c.in, c.committed, c.rejected, c.duplicates, c.pending].map((n) => String(n).padStart(11)).join('')}`);
  }
  if (r.queues) out.push(`queues      ${r.queues.map((q) => `${q.stage} ${q.items}/${q.mark}`).join(', ')}`);
  if (r.connections)
    out.push(`connections ${r.connections.open} open, ${r.connections.total} since start, ${r.connections.refused} refused (socket.max_connections)`);
  // The other parts' sections (jobs, dedupe, reload, systemd, ...): one line each, or one per entry.
  const known = new Set(['health', 'daemon', 'log', 'events', 'queues', 'connections']);
  for (const [name, value] of Object.entries(r)) {
    if (known.has(name)) continue;
    const label = name.replaceAll('_', ' ');
    const entries = isObject(value) ? Object.entries(value) : [];
    if (entries.length && entries.every(([, v]) => isObject(v))) {
      out.push(label);
      for (const [k, v] of entries) out.push(`  ${k.padEnd(15)} ${inline(v)}`);
    } else out.push(`${label}${' '.repeat(Math.max(1, 12 - label.length))}${inline(value)}`);
  }
  return out.join('\n');
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const inline = (v: unknown): string =>
  isObject(v)
    ? Object.entries(v)
        .map(([k, x]) => `${k.replaceAll('_', ' ')} ${typeof x === 'object' && x !== null ? JSON.stringify(x) : String(x)}`)
        .join(', ')
    : typeof v === 'string'
      ? v
      : JSON.stringify(v);
