import { loadConfig } from '../config.js';
import { askDaemon } from '../control.js';
import { ErrorCode, SealogError, SignCode } from '../errors.js';
import { layout } from '../store/layout.js';
import { recordHashes } from '../sign/recordHashes.js';
import { MAX_SIGNED_RECORDS, MEANINGS, signRecords, type Meaning } from '../sign/signature.js';
import { readSignerKey, unlockSignerKey } from '../sign/signerKey.js';
import { parseFlags } from './args.js';
import { readPassphrase } from './passphrase.js';

export const help = `sealog sign --key SIGNER.key --name "Printed Name" --meaning authorship|review|approval|responsibility
           (--seq N ... | --range A..B) [--reason TEXT] [--config FILE] [--passphrase-file FILE]

Signs records electronically (21 CFR 11.50, 11.70). Reads the records' hashes from
the log, signs them with the signer's key (unlocked by its passphrase), and asks
the running daemon, over its control socket, to seal the signature as a record of
type sealog.signature (stream audit). The daemon checks it first, as sealog verify
will: the signer registered in keys/signers.pub under that printed name, the
signature valid, the records in the log with those hashes. The signature covers
the record hashes, so it cannot be moved to another record.
  --key FILE              the signer key (sealog signer add)
  --name TEXT             the printed name: must be the key's own
  --meaning M             what the signature means: authorship, review, approval
                          or responsibility
  --seq N                 a record to sign (repeat it); --range A..B signs A to B
                          (at most ${MAX_SIGNED_RECORDS} records per signature)
  --reason TEXT           why, in words (optional)
  --config FILE           the daemon's config (data directory, control socket;
                          default: the embedded defaults under ./var)
  --passphrase-file FILE  the passphrase is its first line (- for standard input);
                          without it, asked at the terminal

Prints {"seq":S,"signer":…,"meaning":…,"records":[…]}: S is the signature record.
Exit 0 sealed; 1 refused (wrong passphrase E_SIGNER_PASSPHRASE, unregistered
signer E_SIGNER_UNKNOWN, records not in the log E_SIGNED_RECORD); 2 usage error or
no daemon.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    key: { type: 'string' },
    name: { type: 'string' },
    meaning: { type: 'string' },
    seq: { type: 'string', multiple: true },
    range: { type: 'string' },
    reason: { type: 'string' },
    config: { type: 'string' },
    'passphrase-file': { type: 'string' },
  });
  if (values.help) {
    console.log(help);
    return 0;
  }
  if (!values.key || !values.name || !values.meaning) throw new SealogError(ErrorCode.USAGE, '--key, --name and --meaning are required');
  if (!MEANINGS.includes(values.meaning as Meaning)) throw new SealogError(ErrorCode.USAGE, `--meaning must be one of ${MEANINGS.join(', ')}`);
  const seqs = parseSeqs(values.seq ?? [], values.range);
  const cfg = loadConfig(values.config);
  const file = await readSignerKey(values.key);
  if (file.name !== values.name)
    throw new SealogError(ErrorCode.USAGE, `--name ${JSON.stringify(values.name)} is not the printed name of this key (${JSON.stringify(file.name)})`);
  const signer = unlockSignerKey(file, await readPassphrase(values['passphrase-file'], `passphrase for ${file.name}: `));
  const found = await recordHashes(layout(cfg.data_dir), new Set(seqs), cfg.limits.max_frame_bytes);
  const missing = seqs.find((s) => !found.hashes.has(s));
  if (missing !== undefined)
    throw new SealogError(
      ErrorCode.USAGE,
      `record ${missing} is not in the log at ${cfg.data_dir}${found.removed.has(missing) ? ' (removed by retention)' : ''}`,
    );
  const signature = signRecords(
    signer,
    file.name,
    values.meaning as Meaning,
    seqs.map((seq) => ({ seq, hash: found.hashes.get(seq)! })),
    values.reason ?? null,
  );
  let answer: Record<string, unknown>;
  try {
    answer = await askDaemon(cfg.control.path, { cmd: 'sign', signature }, 30_000);
  } catch (err) {
    throw new SealogError(ErrorCode.USAGE, (err as Error).message);
  }
  const error = answer.error as { code?: string; message?: string } | string | undefined;
  if (error) {
    if (typeof error === 'string') throw new Error(`the daemon refused: ${error}`);
    throw new SealogError(error.code ?? SignCode.REFUSED, `the daemon refused the signature: ${error.message}`);
  }
  console.log(
    JSON.stringify({ seq: answer.seq, signer: signature.signer, meaning: signature.meaning, signed_at: signature.signed_at, records: signature.records }),
  );
  return 0;
}

function parseSeqs(list: string[], range: string | undefined): number[] {
  const seqs = list.map((s) => {
    if (!/^\d+$/.test(s)) throw new SealogError(ErrorCode.USAGE, `--seq ${s} is not a record number`);
    return Number(s);
  });
  if (range !== undefined) {
    const m = /^(\d+)\.\.(\d+)$/.exec(range);
    if (!m || Number(m[1]) > Number(m[2])) throw new SealogError(ErrorCode.USAGE, `--range ${range} is not A..B with A <= B`);
    if (Number(m[2]) - Number(m[1]) + 1 > MAX_SIGNED_RECORDS)
      throw new SealogError(ErrorCode.USAGE, `--range ${range} names more than ${MAX_SIGNED_RECORDS} records`);
    for (let s = Number(m[1]); s <= Number(m[2]); s++) seqs.push(s);
  }
  const unique = [...new Set(seqs)].sort((a, b) => a - b);
  if (!unique.length) throw new SealogError(ErrorCode.USAGE, 'name the records to sign: --seq N or --range A..B');
  if (unique.length > MAX_SIGNED_RECORDS) throw new SealogError(ErrorCode.USAGE, `at most ${MAX_SIGNED_RECORDS} records per signature`);
  return unique;
}
