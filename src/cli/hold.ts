import { userInfo } from 'node:os';
import { checkHold, newHoldId, writeHoldRequest, type Hold } from '../jobs/holds.js';
import { layout } from '../store/layout.js';
import { parseFlags } from './args.js';

export const help = `sealog hold [--data DIR] --reason TEXT [--id ID] [--stream S] [--from ISO] [--to ISO]
            [--correlation-id ID] [--tenant ID]

Places a legal hold: retention removes no segment holding a record that matches
every criterion given (at least one): the stream, a receive time (ts) from
--from (inclusive) to --to (exclusive), the event's correlation_id or tenant_id.
The hold is written as a request under DIR/holds/requests/; the daemon seals it
as a sealog.hold.placed audit record and applies it at its next holds pickup
(requests.schedule, every 10 s by default) and always before retention removes
anything. With the daemon stopped, the request waits for its next start.
Prints the hold's id, which sealog release takes. See also sealog holds.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    data: { type: 'string' },
    reason: { type: 'string' },
    id: { type: 'string' },
    stream: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    'correlation-id': { type: 'string' },
    tenant: { type: 'string' },
  });
  if (values.help) {
    console.log(help);
    return 0;
  }
  const hold: Hold = {
    id: values.id ?? newHoldId(),
    ...(values.stream !== undefined && { stream: values.stream }),
    ...(values.from !== undefined && { from: values.from }),
    ...(values.to !== undefined && { to: values.to }),
    ...(values['correlation-id'] !== undefined && { correlation_id: values['correlation-id'] }),
    ...(values.tenant !== undefined && { tenant_id: values.tenant }),
    reason: values.reason ?? '',
    requested_at: new Date().toISOString(),
    requested_by: userInfo().username,
  };
  checkHold(hold);
  await writeHoldRequest(layout(values.data ?? './var/data'), { op: 'hold', ...hold });
  console.log(hold.id);
  return 0;
}
