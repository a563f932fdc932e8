/**
 * The trail as C2SP tlog-tiles (https://c2sp.org/tlog-tiles): the bytes of `checkpoint`,
 * `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`, so `sealog tiles --out DIR` and the
 * HTTP API serve the same bytes and standard transparency-log monitors and witnesses can follow.
 *
 * Exported API
 * - `tilePath(level | 'entries', n, width?)`: the path of a tile (`tile/0/x001/234`, `….p/17`);
 *   `parseTilePath(path)` the reverse (undefined when the path is not a tile's).
 * - `tilesOf(size)` → every tile `{ level, n, width }` of a tree of `size` leaves: the full ones
 *   and, at each level, the one partial tile on the right edge; entries tiles have level 'entries'.
 * - `tileBytes(trail, level, n, width)`: a hash tile: `width` hashes of 32 bytes, those of tree
 *   level 8·L at indexes 256·n … (a leaf hash at level 0). `width` must be available in the
 *   committed tree (a server checks it against the checkpoint it serves: `tileWidth`).
 * - `entryBundle(trail, n, width)`: the stored lines of leaves 256·n …, each prefixed by its length
 *   as a big-endian uint16 (the spec's limit: a record over 65535 bytes cannot be an entry, and
 *   throws E_TILE_ENTRY_TOO_LARGE naming its seq).
 * - `tileWidth(size, level, n)` → the width tile n of that level has in a tree of `size` (0: none).
 *
 * Note for generic clients: a tlog leaf hash is SHA-256(0x00 ‖ entry), while a sealog leaf is
 * SHA-256(0x00 ‖ the stored line without its `,"hash":"…"` member, closing brace kept): the entry
 * is the stored line as DESIGN §10 asks, so a monitor recomputing leaves from entries strips that
 * member first (docs/query.md).
 */
import { ErrorCode, SealogError } from '../errors.js';
import { emptyFilter } from './filter.js';
import { query } from './query.js';
import type { Trail } from './trail.js';
import { treeHashes } from './treeHashes.js';

export const TILE_HEIGHT = 8;
const WIDTH = 1 << TILE_HEIGHT;
export type TileLevel = number | 'entries';

export interface TileRef {
  level: TileLevel;
  n: number;
  width: number;
}

/** N as the spec writes it: 3-digit groups, every one but the last prefixed with "x". */
function encodeIndex(n: number): string {
  const groups: string[] = [];
  let x = n;
  do {
    groups.unshift(String(x % 1000).padStart(3, '0'));
    x = Math.floor(x / 1000);
  } while (x > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

export function tilePath(level: TileLevel, n: number, width = WIDTH): string {
  return `tile/${level}/${encodeIndex(n)}${width < WIDTH ? `.p/${width}` : ''}`;
}

export function parseTilePath(path: string): TileRef | undefined {
  const m = /^tile\/(entries|\d{1,2})\/((?:x\d{3}\/)*\d{3})(?:\.p\/(\d{1,3}))?$/.exec(path);
  if (!m) return undefined;
  const n = Number(m[2]!.replace(/x|\//g, ''));
  const width = m[3] === undefined ? WIDTH : Number(m[3]);
  if (!Number.isSafeInteger(n) || width < 1 || width > WIDTH || (m[3] !== undefined && width === WIDTH)) return undefined;
  return { level: m[1] === 'entries' ? 'entries' : Number(m[1]), n, width };
}

export function tileWidth(size: number, level: TileLevel, n: number): number {
  const count = Math.floor(size / WIDTH ** (level === 'entries' ? 0 : level)); // hashes at that level
  return Math.max(0, Math.min(WIDTH, count - n * WIDTH));
}

export function tilesOf(size: number): TileRef[] {
  const out: TileRef[] = [];
  for (const level of ['entries', 0, 1, 2, 3, 4] as TileLevel[]) {
    const count = Math.floor(size / WIDTH ** (level === 'entries' ? 0 : level));
    if (count === 0) continue;
    for (let n = 0; n * WIDTH < count; n++) out.push({ level, n, width: Math.min(WIDTH, count - n * WIDTH) });
  }
  return out;
}

export async function tileBytes(trail: Trail, level: number, n: number, width: number): Promise<Buffer> {
  const tree = treeHashes(trail);
  const start = n * WIDTH;
  if (level === 0) return Buffer.concat(await tree.leaves(start, start + width));
  const hashes: Buffer[] = [];
  for (let i = start; i < start + width; i++) hashes.push(await tree.perfect(TILE_HEIGHT * level, i));
  return Buffer.concat(hashes);
}

export async function entryBundle(trail: Trail, n: number, width: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  const filter = { ...emptyFilter(), seqFrom: n * WIDTH, seqTo: n * WIDTH + width - 1 };
  for await (const r of query(trail, { filter })) {
    if (r.line.length > 0xffff)
      throw new SealogError(ErrorCode.TILE_ENTRY_TOO_LARGE, `record seq ${r.seq} is ${r.line.length} bytes: a tlog-tiles entry holds at most 65535`);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(r.line.length);
    parts.push(len, Buffer.from(r.line));
  }
  if (parts.length !== 2 * width) throw new SealogError(ErrorCode.INTEGRITY, `entries ${n * WIDTH}..${n * WIDTH + width - 1} are not all in the trail`);
  return Buffer.concat(parts);
}
