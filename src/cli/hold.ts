import { userInfo } from 'node:os';
import { checkHold, newHoldId, type Hold } from '../jobs/holds.js';
import { ErrorCode, SealogError } from '../errors.js';
import { parseFlags } from './args.js';
import { holdTarget, knownHolds, submitRequest } from './holdRequest.js';

export const help = `sealog hold [--config FILE | --data DIR --control PATH] --reason TEXT [--id ID]
            [--stream S] [--from ISO] [--to ISO] [--correlation-id ID] [--tenant ID]

Places a legal hold: retention removes no segment holding a record that matches
every criterion given (at least one): the stream (application, audit, security
or rejected), a receive time (ts) from --from (inclusive) to --to (exclusive),
the event's correlation_id or tenant_id. The hold is written as a request under
DIR/holds/requests/ and the running daemon is asked, over its control socket, to
seal it as a sealog.hold.placed audit record and apply it now; the command waits
for that verdict. With no daemon answering, it says so: the request waits for the
daemon's next start (retention always applies requests before removing anything).
Prints the hold's id, which sealog release takes. See also sealog holds.

Exit 0 placed (or, with no daemon, requested); 1 refused (an id already in use,
by the CLI's check or the daemon's); 2 usage error (no criterion, a time that
does not parse, an unknown stream).`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    config: { type: 'string', short: 'c' },
    data: { type: 'string' },
    control: { type: 'string' },
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
  const { l, control } = holdTarget(values);
  const known = await knownHolds(l);
  if (known.active.has(hold.id) || known.pending.some((r) => r.op === 'hold' && r.id === hold.id)) {
    throw new SealogError(ErrorCode.HOLD_REFUSED, `a hold with id ${hold.id} is already ${known.active.has(hold.id) ? 'active' : 'requested'}`);
  }
  return submitRequest(l, control, { op: 'hold', ...hold });
}
