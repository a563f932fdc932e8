import { existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { openRing, parseRing, type KeyRing, type OpenedRing } from '../crypto/keyRing.js';
import { ErrorCode, SealogError } from '../errors.js';
import { layout } from '../store/layout.js';
import { NOTE_MAX_BYTES, readCapped } from '../store/safeRead.js';
import { loadRegistry } from '../sign/registry.js';
import { verifyLog, type Finding, type Verdict } from '../verify/verifier.js';
import { parseFlags } from './args.js';

export const help = `sealog verify [--data DIR] [--key PUB] [--origin ORIGIN] [--checkpoint FILE] [--signers FILE] [--strict] [--json]
              [--threads N] [--max-frame-mb N]

Re-derives every record hash, the hash chain and the Merkle root at every
signed checkpoint from the files alone, trusting only what you pin:
  --key PUB         a public key you trust (a file, or the key text itself) in
                    signed-note form <name>+<id>+<base64>. Repeat it, or give a
                    file with one key per line, for a key ring: a log whose key
                    was rotated needs the old and the new key: DIR/keys/ring.pub
                    lists them, each retired key bound to the trees it may sign.
                    Without --key, DIR/keys/ring.pub (or signing.pub before any
                    rotation) is used and the verdict says the key was not pinned.
  --origin ORIGIN   the log's origin line; without it, taken from the data.
  --checkpoint FILE a checkpoint saved earlier (e.g. by a witness): the log must
                    contain it, which catches a rollback that also removed the
                    newest checkpoints.
  --signers FILE    the registered electronic signers (keys/signers.pub form) every
                    sealog.signature record is checked against; without it,
                    DIR/keys/signers.pub, and the verdict says so. A signature by
                    an unregistered signer, one that does not verify, or one whose
                    records are not in the log with the signed hashes fails
                    (V_SIGNATURE_INVALID, naming the signer and seq).
  --strict          records after the newest checkpoint (an unsealed tail) fail
                    instead of warn. A clean shutdown leaves none.
  --json            one JSON verdict on stdout, no progress.
  --threads N       threads that decode and hash frames, this one included; the
                    chain, the Merkle tree and the checkpoints stay in log order,
                    so the verdict is the same for any N. Default: one per CPU,
                    but no more than a quarter of the machine's memory allows at
                    3 x the frame cap + 32 MiB per thread.
  --max-frame-mb N  the per-frame cap (default 64, as limits.max_frame_bytes): a
                    frame whose blocks could decode to more fails with
                    V_FRAME_TOO_LARGE. Frames are decoded block by block, so one
                    thread holds at most about 3 x the cap, however hostile the
                    segment; raise it only for a log written with lines of
                    (socket.max_line_bytes) over 48 MiB.

A key rotation is sealed in the log (sealog rotate-key): give the ring both keys
(DIR/keys/ring.pub lists every key the log used); a checkpoint or manifest
signed by the old key after its retirement fails (V_RETIRED_KEY).

Segments removed by retention are crossed through their kept signed manifests
(DIR/removed/) and must each be named by a removal record in the log; they are
reported as removed, not as damage. A segment missing any other way fails.

A directory with no segments, no removed/ manifests and no checkpoints is not a
sealog data directory (exit 2); records with no signed checkpoint at all fail
(V_NO_CHECKPOINT): nothing in them is signed. A file of the log that is a
symlink, FIFO or device fails (V_NOT_REGULAR_FILE); nothing is followed.

Exit 0 intact; 1 integrity failure (the first broken seq, segment, byte offset
and what broke); 2 usage or I/O error.

sealog verify --postgres URL --origin ORIGIN --key PUB [--strict] [--json]
checks one origin's chain and checkpoints as stored in PostgreSQL by sealog
collect or a postgres sink (docs/collect.md): a row edited, deleted or added
in the database fails, naming origin and seq.`;

const MiB = 1024 * 1024;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    data: { type: 'string' },
    key: { type: 'string', multiple: true },
    origin: { type: 'string' },
    checkpoint: { type: 'string' },
    strict: { type: 'boolean' },
    json: { type: 'boolean' },
    threads: { type: 'string' },
    'max-frame-mb': { type: 'string' },
    postgres: { type: 'string' },
    signers: { type: 'string' },
  });
  if (values.help) {
    console.log(help);
    return 0;
  }
  if (values.postgres) return (await import('./verifyPostgres.js')).runPostgres(values);
  const capMb = Number(values['max-frame-mb'] ?? 64);
  if (!Number.isInteger(capMb) || capMb < 1 || capMb > 1024)
    throw new SealogError(ErrorCode.USAGE, `--max-frame-mb must be an integer from 1 to 1024, not ${values['max-frame-mb']}`);
  const frameCap = capMb * MiB;
  const threads = values.threads === undefined ? defaultThreads(frameCap) : Number(values.threads);
  if (!Number.isInteger(threads) || threads < 1 || threads > 256)
    throw new SealogError(ErrorCode.USAGE, `--threads must be an integer from 1 to 256, not ${values.threads}`);
  const data = values.data ?? './var/data';
  if (!existsSync(data)) throw new SealogError(ErrorCode.USAGE, `no data directory at ${data}`);
  const ring = openKeyArgs(values.key?.length ? values.key : [ownRing(data)]);
  const tty = !values.json && process.stderr.isTTY;
  const started = Date.now();
  const verdict = await verifyLog({
    data,
    keys: ring.verifiers,
    retired: ring.limits,
    keyPinned: !!values.key?.length,
    origin: values.origin,
    extraCheckpoint: values.checkpoint ? { name: values.checkpoint, data: await readCapped(values.checkpoint, NOTE_MAX_BYTES, true) } : undefined,
    strict: values.strict ?? false,
    frameCap,
    threads,
    signers: values.signers === undefined ? undefined : await pinnedSigners(values.signers),
    onProgress: tty
      ? (p) => process.stderr.write(`\rverifying segment ${p.segment}/${p.segments}: ${p.records} records, ${(p.bytes / 1e6).toFixed(1)} MB`)
      : undefined,
  });
  if (tty) process.stderr.write('\n');
  if (values.json) console.log(JSON.stringify(verdict));
  else console.log(render(verdict, Date.now() - started));
  return verdict.ok ? 0 : 1;
}

/** One thread per CPU, as many as a quarter of the memory holds at what one thread may hold (3 x the cap + 32 MiB). */
function defaultThreads(frameCap: number): number {
  return Math.max(1, Math.min(availableParallelism(), Math.floor(totalmem() / 4 / (3 * frameCap + 32 * MiB))));
}

/** A registry the caller names must exist (an empty one is a file with no signers). */
async function pinnedSigners(path: string) {
  if (!existsSync(path)) throw new SealogError(ErrorCode.USAGE, `--signers ${path}: no such file`);
  return loadRegistry(path);
}

/** Without --key: the data directory's own ring (ring.pub after a rotation, else signing.pub). */
function ownRing(data: string): string {
  const l = layout(data);
  for (const f of [l.keyRing, l.publicKey]) if (existsSync(f)) return f;
  throw new SealogError(ErrorCode.KEY_MISSING, `no public key in ${l.keys} (ring.pub or signing.pub): give the key you trust with --key`);
}

const KEY_TEXT = /^[^+\s]+\+[0-9a-f]{8}\+/;

/** Each --key is a key or a ring file (keyRing.ts: keys one per line, and signed retirements). */
export function openKeyArgs(args: string[]): OpenedRing {
  const ring: KeyRing = { keys: [], retirements: [] };
  for (const a of args) {
    let part: KeyRing;
    if (existsSync(a)) part = parseRing(readKeyFile(a), a);
    else if (KEY_TEXT.test(a)) part = parseRing(a, '--key');
    else throw new SealogError(ErrorCode.KEY_MISSING, `--key ${a}: no such file (and not a key in signed-note form <name>+<id>+<base64>)`);
    for (const k of part.keys) if (!ring.keys.includes(k)) ring.keys.push(k);
    ring.retirements.push(...part.retirements);
  }
  return openRing(ring, args.join(', '));
}

/** The keys alone, for what checks single notes (check-proof, report, verify --postgres). */
export const keyRing = (args: string[]) => openKeyArgs(args).verifiers;

/** A key file the caller names (a link is fine), but a regular file of key size, never a FIFO or device. */
function readKeyFile(path: string): string {
  const st = statSync(path);
  if (!st.isFile()) throw new SealogError(ErrorCode.NOT_REGULAR_FILE, `--key ${path} is not a regular file`);
  if (st.size > MiB) throw new SealogError(ErrorCode.FILE_TOO_LARGE, `--key ${path} is larger than any key ring (${st.size} bytes)`);
  return readFileSync(path, 'utf8');
}

function render(v: Verdict, ms: number): string {
  const where = (f: Finding) =>
    [f.seq !== undefined && `seq ${f.seq}`, f.segment && `segment ${f.segment}`, f.offset !== undefined && `byte ${f.offset}`, f.file && `file ${f.file}`]
      .filter(Boolean)
      .join(', ');
  const lines = [
    v.ok ? 'INTACT' : 'FAILED',
    `  records    ${v.records} in ${v.segments} segment(s), ${(v.bytes / 1e6).toFixed(1)} MB checked in ${(ms / 1000).toFixed(1)} s`,
    `  checkpoints ${v.checkpoints}, sealed through tree size ${v.sealedThrough}`,
    `  origin     ${v.origin ?? '(none)'}${v.originPinned ? ' (pinned)' : ' (not pinned)'}`,
    `  key        ${v.keyPinned ? 'pinned' : 'NOT pinned (read from the data directory)'}`,
  ];
  if (v.ok) lines.push(`  root       ${v.root} at tree size ${v.treeSize}`);
  for (const t of v.keyTransitions)
    lines.push(
      `  key        rotated at seq ${t.seq}: ${t.old.split('+').slice(0, 2).join('+')} retired, ${t.new.split('+').slice(0, 2).join('+')} signs after`,
    );
  // Years of daily segments removed: one line per run of consecutive ones.
  const runs: Verdict['removed'][] = [];
  for (const r of v.removed) {
    const last = runs[runs.length - 1];
    if (last && last[last.length - 1]!.segment === r.segment - 1) last.push(r);
    else runs.push([r]);
  }
  for (const run of runs) {
    const [a, b] = [run[0]!, run[run.length - 1]!];
    const seqs = run.map((r) => r.record_seq).filter((s) => s !== undefined);
    lines.push(
      `  removed    ${a === b ? `segment ${a.segment}` : `segments ${a.segment}-${b.segment}`} (seq ${a.first_seq}..${b.last_seq}) by retention` +
        (seqs.length ? `; removal record${seqs.length > 1 ? 's' : ''} at seq ${[...new Set([Math.min(...seqs), Math.max(...seqs)])].join('..')}` : ''),
    );
  }
  if (v.failure) lines.push(`  failure    ${v.failure.code}: ${v.failure.message}`, `             at ${where(v.failure)}`);
  for (const s of v.signatures) lines.push(`  signature  seq ${s.seq}: ${s.signer} (${s.meaning}, ${s.signed_at}) over ${s.records.length} record(s)`);
  for (const w of v.warnings) lines.push(`  warning    ${w.code}: ${w.message}`);
  return lines.join('\n');
}
