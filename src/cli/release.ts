import { userInfo } from 'node:os';
import { ErrorCode, SealogError } from '../errors.js';
import { writeHoldRequest } from '../jobs/holds.js';
import { layout } from '../store/layout.js';
import { parseFlags } from './args.js';

export const help = `sealog release [--data DIR] --reason TEXT HOLD_ID

Releases a legal hold placed with sealog hold. Like the hold, the release is a
request the daemon seals (a sealog.hold.released audit record) before it
applies it; retention may then remove what the hold kept.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { data: { type: 'string' }, reason: { type: 'string' } }, true);
  if (values.help) {
    console.log(help);
    return 0;
  }
  if (positionals.length !== 1) throw new SealogError(ErrorCode.USAGE, 'give exactly one hold id');
  if (!values.reason) throw new SealogError(ErrorCode.USAGE, '--reason is required: holds and releases are audit records');
  await writeHoldRequest(layout(values.data ?? './var/data'), { op: 'release', id: positionals[0]!, reason: values.reason, requested_at: new Date().toISOString(), requested_by: userInfo().username });
  console.log(`release of ${positionals[0]} requested`);
  return 0;
}
