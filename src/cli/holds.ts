import { readActiveHolds, readHoldRequests, type Hold } from '../jobs/holds.js';
import { layout } from '../store/layout.js';
import { parseFlags } from './args.js';

export const help = `sealog holds [--data DIR] [--json]

Lists the legal holds in force (sealed and applied by the daemon) and the hold
and release requests it has not picked up yet.

Exit 0 listed; 2 usage or I/O error.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { data: { type: 'string' }, json: { type: 'boolean' } });
  if (values.help) {
    console.log(help);
    return 0;
  }
  const l = layout(values.data ?? './var/data');
  const active = await readActiveHolds(l);
  const pending = (await readHoldRequests(l)).map((r) => r.request);
  if (values.json) {
    console.log(JSON.stringify({ active, pending }));
    return 0;
  }
  const criteria = (h: Partial<Hold>) =>
    [
      h.stream && `stream=${h.stream}`,
      h.from && `from=${h.from}`,
      h.to && `to=${h.to}`,
      h.correlation_id && `correlation_id=${h.correlation_id}`,
      h.tenant_id && `tenant=${h.tenant_id}`,
    ]
      .filter(Boolean)
      .join(' ');
  console.log(active.length ? 'ACTIVE' : 'no active holds');
  for (const h of active) console.log(`  ${h.id}  ${criteria(h)}  (sealed at seq ${h.placed_seq}; ${h.reason})`);
  if (pending.length) console.log('PENDING (the daemon applies these at its next holds pickup)');
  for (const r of pending) console.log(`  ${r.op} ${r.id}  ${r.op === 'hold' ? criteria(r) : ''}  (${r.reason})`);
  return 0;
}
