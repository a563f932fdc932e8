// Command-line options shared by every benchmark script, with one set of
// defaults: the full run the issue specifies, and --quick, the CI smoke size.
import { parseArgs } from 'node:util';

export const FULL = { events: 2_000_000, runs: 3, clients: 4, seed: 42 };
export const QUICK = { events: 20_000, runs: 1, clients: 4, seed: 42 };

const COMMON = {
  events: { type: 'string' },
  runs: { type: 'string' },
  clients: { type: 'string' },
  seed: { type: 'string' },
  quick: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
};

export const COMMON_USAGE = `  --events N    events per throughput run (default ${FULL.events.toLocaleString('en-US')}; --quick ${QUICK.events.toLocaleString('en-US')})
  --runs R      runs of every measurement, interleaved (default ${FULL.runs}; --quick ${QUICK.runs})
  --clients C   concurrent client connections for throughput (default ${FULL.clients})
  --seed S      event generator seed (default ${FULL.seed})
  --quick       smoke size: finishes in well under 2 minutes; explicit flags still win`;

/**
 * Parses argv with the common options plus `extra` (node:util parseArgs
 * specs). Returns { events, runs, clients, seed, quick, help, ...extra values }.
 * Throws on an unknown flag or a non-positive size.
 */
export function parseOptions(argv, extra = {}) {
  const { values } = parseArgs({ args: argv, options: { ...COMMON, ...extra }, allowPositionals: false });
  const base = values.quick ? QUICK : FULL;
  const o = { ...values };
  for (const k of ['events', 'runs', 'clients', 'seed']) {
    o[k] = values[k] === undefined ? base[k] : Number(values[k]);
    if (!Number.isInteger(o[k]) || o[k] < (k === 'seed' ? 0 : 1))
      throw new Error(`--${k} must be a ${k === 'seed' ? 'non-negative' : 'positive'} integer, not ${values[k]}`);
  }
  return o;
}
