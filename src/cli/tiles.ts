import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ErrorCode, SealogError } from '../errors.js';
import { entryBundle, tileBytes, tilePath, tilesOf } from '../read/tiles.js';
import { openTrail, readCheckpointFile } from '../read/trail.js';
import { parseFlags } from './args.js';

export const help = `sealog tiles --out DIR [--data DATA] [--checkpoint FILE]

Writes the trail in the C2SP tlog-tiles layout (https://c2sp.org/tlog-tiles),
for static hosting and for transparency-log monitors and witnesses:
  DIR/checkpoint                    the newest checkpoint (or FILE)
  DIR/tile/<L>/<N>[.p/<W>]          Merkle hash tiles (height 8), full and partial
  DIR/tile/entries/<N>[.p/<W>]      entry bundles: the stored record lines
The HTTP API serves the same bytes. A sealog leaf hash is SHA-256(0x00 || the
stored line without its "hash" member): strip ,"hash":"…" before hashing an entry.

Exit 0 written; 1 a record fails its check or is too long for an entry (65535
bytes); 2 usage or I/O error.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { data: { type: 'string' }, out: { type: 'string' }, checkpoint: { type: 'string' } });
  if (values.help) {
    console.log(help);
    return 0;
  }
  const data = values.data ?? './var/data';
  if (!values.out) throw new SealogError(ErrorCode.USAGE, '--out DIR is required');
  if (!existsSync(data)) throw new SealogError(ErrorCode.USAGE, `no data directory at ${data}`);
  const trail = openTrail(data);
  const cp = values.checkpoint ? await readCheckpointFile(values.checkpoint) : await trail.newestCheckpoint();
  if (!cp) throw new SealogError(ErrorCode.NOT_SEALED, 'the trail has no checkpoint yet: wait for the first one');
  const tty = process.stderr.isTTY;
  const tiles = tilesOf(cp.size);
  for (const [i, t] of tiles.entries()) {
    const bytes = t.level === 'entries' ? await entryBundle(trail, t.n, t.width) : await tileBytes(trail, t.level, t.n, t.width);
    const path = join(values.out, tilePath(t.level, t.n, t.width));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, bytes);
    if (tty && i % 64 === 0) process.stderr.write(`\rtiles: ${i + 1}/${tiles.length}`);
  }
  await writeFile(join(values.out, 'checkpoint'), cp.text);
  if (tty) process.stderr.write('\n');
  console.log(`wrote ${tiles.length} tiles and the checkpoint (tree size ${cp.size}) to ${values.out}`);
  return 0;
}
