import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import canonicalize from 'canonicalize';
import { compressFrameSync } from 'lz4-napi';
import { parseSignerKey } from '../../src/crypto/keys.js';
import { CompactTree } from '../../src/crypto/merkle.js';
import { checkpointName } from '../../src/store/layout.js';
import { signCheckpoint } from '../../src/store/checkpoint.js';

// What the holder of the log's own signing key can do to a stopped log: rewrite any
// record and seal the whole trail again (hashes, chain, a fresh signed checkpoint), so
// every integrity check of the log itself passes. What such a forger cannot redo is a
// signature by someone else's key: that is what electronic signatures add.

const ZERO = '0'.repeat(64);

/** Records of one segment file, decoded by the lz4 CLI. */
export function segmentRecords(file: string): Record<string, any>[] {
  const r = spawnSync('lz4', ['-dc', file], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`lz4 -dc ${file}: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, any>);
}

/** The stored line of a record, sealed as DESIGN §2 says, and its hash. */
export function sealRecord(record: Record<string, unknown>): { line: string; hash: string } {
  const { hash: _drop, ...body } = record;
  const jcs = canonicalize(body)!;
  const hash = createHash('sha256')
    .update(Buffer.from([0]))
    .update(jcs)
    .digest('hex');
  return { line: `${jcs.slice(0, -1)},"hash":"${hash}"}`, hash };
}

/**
 * Applies `edit` to every record (in seq order; it may change one in place) and re-seals
 * the whole log with the data directory's signing key: each segment one frame, its
 * manifest dropped, every checkpoint replaced by one over the new tree.
 */
export function resealLog(data: string, edit: (r: Record<string, any>) => void): void {
  const segDir = join(data, 'segments');
  const files = readdirSync(segDir)
    .filter((f) => f.endsWith('.seg.lz4'))
    .sort();
  let prev = ZERO;
  const tree = new CompactTree();
  let origin = '';
  for (const f of files) {
    const lines: string[] = [];
    for (const r of segmentRecords(join(segDir, f))) {
      edit(r);
      const sealed = sealRecord({ ...r, prev });
      prev = sealed.hash;
      lines.push(sealed.line);
      tree.append(Buffer.from(sealed.hash, 'hex'));
    }
    writeFileSync(join(segDir, f), compressFrameSync(Buffer.from(lines.map((l) => `${l}\n`).join('')), { contentChecksum: true }));
    rmSync(join(segDir, f.replace('.seg.lz4', '.manifest')), { force: true });
  }
  const cpDir = join(data, 'checkpoints');
  for (const c of readdirSync(cpDir)) {
    origin ||= readFileSync(join(cpDir, c), 'utf8').split('\n')[0]!;
    rmSync(join(cpDir, c));
  }
  const signer = parseSignerKey(readFileSync(join(data, 'keys/signing.key'), 'utf8').trim());
  writeFileSync(join(cpDir, checkpointName(tree.size)), signCheckpoint(origin, tree.size, tree.root(), signer));
}
