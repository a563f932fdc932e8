import { existsSync } from 'node:fs';
import { ErrorCode, SealogError } from '../errors.js';
import { consistencyBundle, inclusionBundle } from '../read/proofs.js';
import { openTrail, readCheckpointFile } from '../read/trail.js';
import { parseFlags } from './args.js';

export const help = `sealog prove SEQ [--data DIR] [--checkpoint FILE]
sealog prove --consistency OLD.ckpt [--to NEW.ckpt] [--data DIR]

Prints a proof bundle (one JSON object) that anyone holding the public key can
check offline with sealog check-proof, without seeing any other record:

  prove SEQ       that record SEQ is in the log: the record's stored line, the
                  RFC 9162 inclusion path from its leaf to the root, and the
                  signed checkpoint with that root (the newest one covering SEQ,
                  or FILE)
                  {"type":"sealog.inclusion.v1","origin","leaf_index","tree_size",
                   "record","proof":[base64 hashes],"checkpoint":"<signed note>"}
  --consistency   that the log at OLD.ckpt (a checkpoint kept earlier, e.g. by an
                  auditor or a witness) is a prefix of the log at NEW.ckpt (default
                  the newest checkpoint): nothing was removed or rewritten since
                  {"type":"sealog.consistency.v1","origin","old_size","new_size",
                   "proof":[…],"old_checkpoint","new_checkpoint"}

Every bundle is checked against its checkpoint's root before it is printed.

Exit 0 printed; 1 the record is not yet sealed ("not yet sealed: wait for the
next checkpoint"), or the log does not produce the signed root, or OLD is not
of this log's history; 2 usage or I/O error.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    { data: { type: 'string' }, checkpoint: { type: 'string' }, consistency: { type: 'string' }, to: { type: 'string' } },
    true,
  );
  if (values.help) {
    console.log(help);
    return 0;
  }
  const usage = (m: string) => new SealogError(ErrorCode.USAGE, m);
  const data = values.data ?? './var/data';
  if (!existsSync(data)) throw usage(`no data directory at ${data}`);
  const trail = openTrail(data);
  const checkpoint = async (file: string) =>
    readCheckpointFile(file).catch((err: Error) => {
      throw usage(`cannot read checkpoint ${file}: ${err.message}`);
    });
  let bundle;
  if (values.consistency !== undefined) {
    if (positionals.length || values.checkpoint) throw usage('--consistency takes OLD.ckpt [--to NEW.ckpt], no SEQ or --checkpoint');
    bundle = await consistencyBundle(trail, await checkpoint(values.consistency), { to: values.to ? await checkpoint(values.to) : undefined });
  } else {
    if (values.to) throw usage('--to goes with --consistency');
    if (positionals.length !== 1 || !/^\d{1,15}$/.test(positionals[0]!)) throw usage('give one SEQ (a record number), or --consistency OLD.ckpt');
    bundle = await inclusionBundle(trail, Number(positionals[0]), { checkpoint: values.checkpoint ? await checkpoint(values.checkpoint) : undefined });
  }
  process.stdout.write(`${JSON.stringify(bundle)}\n`);
  return 0;
}
