import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, SealogError } from '../errors.js';
import { rebuildIndexes } from '../read/segmentIndex.js';
import { openTrail } from '../read/trail.js';
import { treeHashes } from '../read/treeHashes.js';
import { parseFlags } from './args.js';

export const help = `sealog index rebuild [--data DIR]

Writes anew the query index of every closed segment (DIR/index/NNNNNNNNNN.idx:
each frame's seq and time range; per block of frames the streams, types and
levels present and a bloom filter of id fields and pseudonyms) and the stored
Merkle tree hashes that proofs and tiles use (DIR/index/tree/).

The index is a cache: sealog query and prove build what is missing on their own,
ignore (with a warning) and rebuild what is damaged, and give the same answers
without it; sealog verify never reads it. Run this after restoring an archive,
or to pay the cost of building up front.

Exit 0 done; 1 a record fails its check; 2 usage or I/O error.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { data: { type: 'string' } }, true);
  if (values.help) {
    console.log(help);
    return 0;
  }
  if (positionals.length !== 1 || positionals[0] !== 'rebuild') throw new SealogError(ErrorCode.USAGE, 'usage: sealog index rebuild [--data DIR]');
  const data = values.data ?? './var/data';
  if (!existsSync(data)) throw new SealogError(ErrorCode.USAGE, `no data directory at ${data}`);
  const trail = openTrail(data);
  const tty = process.stderr.isTTY;
  const n = await rebuildIndexes(trail, { onSegment: tty ? (s) => process.stderr.write(`\rindexing segment ${s.name}`) : undefined });
  await rm(join(data, 'index', 'tree'), { recursive: true, force: true });
  const tree = treeHashes(trail);
  await tree.extend(await trail.committedSize());
  // The right edge of the newest checkpoint's tree too, so a proof against it reads only its own record's frame.
  const cp = await trail.newestCheckpoint();
  if (cp?.size) await tree.subtree(0, cp.size).catch(() => {}); // records retention removed: proofs read what is left
  if (tty) process.stderr.write('\n');
  console.log(`indexed ${n} closed segment(s); tree hashes through ${await trail.committedSize()} records`);
  return 0;
}
