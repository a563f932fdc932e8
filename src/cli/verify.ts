import { existsSync, readFileSync } from 'node:fs';
import { parseVerifierKey } from '../crypto/keys.js';
import { ErrorCode, SealogError } from '../errors.js';
import { layout } from '../store/layout.js';
import { verifyLog, type Finding, type Verdict } from '../verify/verifier.js';
import { parseFlags } from './args.js';

export const help = `sealog verify [--data DIR] [--key PUB] [--origin ORIGIN] [--checkpoint FILE] [--strict] [--json]

Re-derives every record hash, the hash chain and the Merkle root at every
signed checkpoint from the files alone, trusting only what you pin:
  --key PUB         the public key (file, or the key text itself) in signed-note
                    form <name>+<id>+<base64>. Without it the key in DIR/keys is
                    used and the verdict says the key was not pinned.
  --origin ORIGIN   the log's origin line; without it, taken from the data.
  --checkpoint FILE a checkpoint saved earlier (e.g. by a witness): the log must
                    contain it, which catches a rollback that also removed the
                    newest checkpoints.
  --strict          records after the newest checkpoint (an unsealed tail) fail
                    instead of warn. A clean shutdown leaves none.
  --json            one JSON verdict on stdout, no progress.

Exit 0 intact; 1 integrity failure (the first broken seq, segment, byte offset
and what broke); 2 usage or I/O error.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    data: { type: 'string' },
    key: { type: 'string' },
    origin: { type: 'string' },
    checkpoint: { type: 'string' },
    strict: { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if (values.help) {
    console.log(help);
    return 0;
  }
  const data = values.data ?? './var/data';
  if (!existsSync(data)) throw new SealogError(ErrorCode.USAGE, `no data directory at ${data}`);
  const keyText = values.key ? (existsSync(values.key) ? readFileSync(values.key, 'utf8') : values.key) : readFileSync(layout(data).publicKey, 'utf8');
  const key = parseVerifierKey(keyText);
  const tty = !values.json && process.stderr.isTTY;
  const started = Date.now();
  const verdict = await verifyLog({
    data,
    key,
    keyPinned: !!values.key,
    origin: values.origin,
    extraCheckpoint: values.checkpoint ? { name: values.checkpoint, data: readFileSync(values.checkpoint) } : undefined,
    strict: values.strict ?? false,
    frameCap: 1024 * 1024 * 1024,
    onProgress: tty
      ? (p) => process.stderr.write(`\rverifying segment ${p.segment}/${p.segments}: ${p.records} records, ${(p.bytes / 1e6).toFixed(1)} MB`)
      : undefined,
  });
  if (tty) process.stderr.write('\n');
  if (values.json) console.log(JSON.stringify(verdict));
  else console.log(render(verdict, Date.now() - started));
  return verdict.ok ? 0 : 1;
}

function render(v: Verdict, ms: number): string {
  const where = (f: Finding) =>
    [f.seq !== undefined && `seq ${f.seq}`, f.segment && `segment ${f.segment}`, f.offset !== undefined && `byte ${f.offset}`, f.file && `file ${f.file}`].filter(Boolean).join(', ');
  const lines = [
    v.ok ? 'INTACT' : 'FAILED',
    `  records    ${v.records} in ${v.segments} segment(s), ${(v.bytes / 1e6).toFixed(1)} MB checked in ${(ms / 1000).toFixed(1)} s`,
    `  checkpoints ${v.checkpoints}, sealed through tree size ${v.sealedThrough}`,
    `  origin     ${v.origin ?? '(none)'}${v.originPinned ? ' (pinned)' : ' (not pinned)'}`,
    `  key        ${v.keyPinned ? 'pinned' : 'NOT pinned (read from the data directory)'}`,
  ];
  if (v.ok) lines.push(`  root       ${v.root} at tree size ${v.treeSize}`);
  if (v.failure) lines.push(`  failure    ${v.failure.code}: ${v.failure.message}`, `             at ${where(v.failure)}`);
  for (const w of v.warnings) lines.push(`  warning    ${w.code}: ${w.message}`);
  return lines.join('\n');
}
