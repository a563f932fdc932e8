import { readFileSync } from 'node:fs';
import { ErrorCode, SealogError } from '../errors.js';
import { checkBundle } from '../read/proofs.js';
import { parseFlags } from './args.js';
import { keyRing } from './verify.js';

export const help = `sealog check-proof FILE|- --key PUB [--origin ORIGIN] [--json]

Checks a proof bundle printed by sealog prove (or query --with-proof, or the
HTTP API) offline, from the bundle alone, trusting only what you pin:
  --key PUB        the log's public key (a file or the key text, signed-note form
                   <name>+<id>+<base64>); repeat it, or give a file with one key per
                   line, for a log whose key was rotated
  --origin ORIGIN  the log's origin; without it any origin the key signed is accepted

An inclusion bundle: the checkpoint's signature, the record's own hash (recomputed
from the stored line), and the RFC 9162 path from that leaf to the signed root.
A consistency bundle: both checkpoints' signatures, and the RFC 9162 proof that
the older tree is a prefix of the newer one.
  --json           print {"ok":…} instead of a sentence

Exit 0 valid; 1 invalid (saying what fails); 2 usage or I/O error.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { key: { type: 'string', multiple: true }, origin: { type: 'string' }, json: { type: 'boolean' } }, true);
  if (values.help) {
    console.log(help);
    return 0;
  }
  const usage = (m: string) => new SealogError(ErrorCode.USAGE, m);
  if (positionals.length !== 1) throw usage('give one bundle: a FILE, or - for stdin');
  if (!values.key?.length) throw usage('--key is required: a proof is only as good as the key you pin');
  const keys = keyRing(values.key);
  const text = readFileSync(positionals[0] === '-' ? 0 : positionals[0]!, 'utf8');
  const result = checkBundle(text.trim(), keys, values.origin);
  if (values.json) console.log(JSON.stringify(result));
  else if (result.ok) {
    const what = result.type === 'sealog.inclusion.v1' ? `record seq ${result.leaf_index} is in` : `tree size ${result.old_size} is a prefix of`;
    console.log(
      `VALID: ${what} the log ${result.origin} at tree size ${result.tree_size}, checkpoint signed by ${result.signer.split('+').slice(0, 2).join('+')}${values.origin ? '' : ' (origin not pinned)'}`,
    );
  } else console.log(`INVALID: ${result.reason}`);
  return result.ok ? 0 : 1;
}
