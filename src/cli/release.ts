import { userInfo } from 'node:os';
import { ErrorCode, SealogError } from '../errors.js';
import { parseFlags } from './args.js';
import { holdTarget, knownHolds, submitRequest } from './holdRequest.js';

export const help = `sealog release [--config FILE | --data DIR --control PATH] --reason TEXT HOLD_ID

Releases a legal hold placed with sealog hold. Like the hold, the release is a
request the daemon seals (a sealog.hold.released audit record) before it
applies it; the command asks the running daemon to apply it now and waits for
its verdict (with no daemon answering, it says the request waits for the
daemon's next start). Retention may then remove what the hold kept.

Exit 0 released (or, with no daemon, requested); 1 refused (no hold with this
id is active or requested); 2 usage error.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    { config: { type: 'string', short: 'c' }, data: { type: 'string' }, control: { type: 'string' }, reason: { type: 'string' } },
    true,
  );
  if (values.help) {
    console.log(help);
    return 0;
  }
  if (positionals.length !== 1) throw new SealogError(ErrorCode.USAGE, 'give exactly one hold id');
  if (!values.reason) throw new SealogError(ErrorCode.USAGE, '--reason is required: holds and releases are audit records');
  const id = positionals[0]!;
  const { l, control } = holdTarget(values);
  const known = await knownHolds(l);
  if (!known.active.has(id) && !known.pending.some((r) => r.op === 'hold' && r.id === id)) {
    throw new SealogError(ErrorCode.HOLD_REFUSED, `no hold with id ${id} is active or requested (sealog holds lists them)`);
  }
  return submitRequest(l, control, { op: 'release', id, reason: values.reason, requested_at: new Date().toISOString(), requested_by: userInfo().username });
}
