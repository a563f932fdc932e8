/**
 * Merkle subtree hashes of a trail, for proofs and tiles, without rereading the whole
 * log each time: the hashes of every full 256-leaf subtree (tree level 8), and of levels
 * 16, 24, 32, are kept in `data/index/tree/L08.bin` … (32 bytes each, in order) — the same
 * hashes the C2SP tiles of levels ≥ 1 hold — and in `edge.bin` the leaf hashes of the last partial
 * 256-leaf chunk a proof needed (the right edge of a checkpoint's tree, so a proof against it
 * decodes only its own record's frame). Like the segment index, a cache: built from
 * checked records, and a proof made from it is checked against the signed checkpoint before
 * anyone sees it (proofs.ts); a wrong cache is dropped and rebuilt.
 *
 * Exported API
 * - `treeHashes(trail)` → `TreeHashes` (one per Trail):
 *   - `subtree(start, end)` → MTH(D[start:end]) (RFC 9162), end ≤ the committed size;
 *   - `leaves(start, end)` → the leaf hashes of [start, end), from the checked records;
 *   - `perfect(level, index)` → the hash of the full subtree of 2^level leaves at `index`;
 *   - `extend(size)` → the stored levels cover the first `size` leaves (reads what is new);
 *   - `discard(why)` → forget and delete the stored hashes (they proved wrong).
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { nodeHash } from '../crypto/hash.js';
import { emptyFilter } from './filter.js';
import { query } from './query.js';
import type { Trail } from './trail.js';

const STEP = 8; // stored levels: 8, 16, 24, 32 (the tile height of C2SP tlog-tiles)
const LEVELS = [8, 16, 24, 32];
const CHUNK = 1 << STEP;
/** Leaf chunks kept in memory at once (a --with-proof over many records reuses them). */
const CHUNK_CACHE = 512;
const EDGE = 'edge.bin';

export interface TreeHashes {
  subtree(start: number, end: number): Promise<Buffer>;
  leaves(start: number, end: number): Promise<Buffer[]>;
  perfect(level: number, index: number): Promise<Buffer>;
  extend(size: number): Promise<void>;
  discard(why: string): Promise<void>;
}

const cached = new WeakMap<Trail, TreeHashes>();

export function treeHashes(trail: Trail): TreeHashes {
  let t = cached.get(trail);
  if (!t) cached.set(trail, (t = new StoredTree(trail)));
  return t;
}

/** Reduces 2^r consecutive hashes to their subtree's root. */
function reduce(hashes: Buffer[]): Buffer {
  let level = hashes;
  while (level.length > 1) {
    const up: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) up.push(nodeHash(level[i]!, level[i + 1]!));
    level = up;
  }
  return level[0]!;
}

const slice = (b: Buffer, i: number) => b.subarray(32 * i, 32 * i + 32);

class StoredTree implements TreeHashes {
  /** Stored level → its hashes, concatenated. */
  private stored = new Map<number, Buffer>();
  private loaded = false;
  private readonly chunks = new Map<number, Buffer[]>();
  private readonly dir: string;

  constructor(private readonly trail: Trail) {
    this.dir = join(trail.layout.data, 'index', 'tree');
  }

  private async load(): Promise<void> {
    if (this.loaded) return;
    this.loaded = true;
    for (const l of LEVELS) {
      const b = await readFile(join(this.dir, `L${String(l).padStart(2, '0')}.bin`)).catch(() => Buffer.alloc(0));
      this.stored.set(l, b.subarray(0, b.length - (b.length % 32)));
    }
    // Each level must be whole with respect to the one below it; else start over.
    for (const l of LEVELS.slice(1)) if (this.count(l) > Math.floor(this.count(l - STEP) / CHUNK)) this.stored.set(l, Buffer.alloc(0));
    // The leaves of the last partial chunk a proof needed (8-byte chunk number, then its hashes).
    const edge = await readFile(join(this.dir, EDGE)).catch(() => undefined);
    if (edge && edge.length >= 8 + 32 && (edge.length - 8) % 32 === 0 && (edge.length - 8) / 32 < CHUNK) {
      const c = Number(edge.readBigUInt64BE(0));
      if (Number.isSafeInteger(c))
        this.chunks.set(
          c,
          Array.from({ length: (edge.length - 8) / 32 }, (_, i) => slice(edge.subarray(8), i)),
        );
    }
  }

  /**
   * Keeps a partial chunk's leaves (the right edge of a tree size a proof was made for) in
   * EDGE: the next proof against the same checkpoint reads them instead of the frame they are in.
   */
  private async saveEdge(c: number, chunk: Buffer[]): Promise<void> {
    const head = Buffer.alloc(8);
    head.writeBigUInt64BE(BigInt(c));
    await mkdir(this.dir, { recursive: true, mode: 0o750 });
    const path = join(this.dir, EDGE);
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, Buffer.concat([head, ...chunk]), { mode: 0o640, flag: 'wx' });
    await rename(tmp, path).catch(async (err) => {
      await rm(tmp, { force: true });
      throw err;
    });
  }

  private count(level: number): number {
    return (this.stored.get(level)?.length ?? 0) / 32;
  }

  async leaves(start: number, end: number): Promise<Buffer[]> {
    await this.load();
    const out: Buffer[] = [];
    for (let c = Math.floor(start / CHUNK); c * CHUNK < end; c++) {
      let chunk = this.chunks.get(c);
      if (!chunk || chunk.length < Math.min(CHUNK, end - c * CHUNK)) {
        chunk = [];
        const filter = { ...emptyFilter(), seqFrom: c * CHUNK, seqTo: c * CHUNK + CHUNK - 1 };
        for await (const r of query(this.trail, { filter })) chunk.push(Buffer.from(r.hash));
        if (this.chunks.size >= CHUNK_CACHE) this.chunks.clear();
        this.chunks.set(c, chunk);
        if (chunk.length && chunk.length < CHUNK) await this.saveEdge(c, chunk).catch(() => {}); // a read-only archive: in memory only
      }
      for (let i = Math.max(start, c * CHUNK); i < Math.min(end, c * CHUNK + CHUNK); i++) {
        const h = chunk[i - c * CHUNK];
        if (!h) throw new Error(`leaf ${i} is not in the trail (removed by retention, or not yet committed)`);
        out.push(h);
      }
    }
    return out;
  }

  async perfect(level: number, index: number): Promise<Buffer> {
    await this.load();
    if (level < STEP) return reduce(await this.leaves(index * 2 ** level, (index + 1) * 2 ** level));
    const base = Math.floor(level / STEP) * STEP;
    const r = level - base;
    const n = 2 ** r;
    if (this.count(base) < (index + 1) * n) await this.extend((index + 1) * 2 ** level);
    const stored = this.stored.get(base)!;
    return reduce(Array.from({ length: n }, (_, i) => slice(stored, index * n + i)));
  }

  async subtree(start: number, end: number): Promise<Buffer> {
    const n = end - start;
    if (n <= 0) throw new RangeError(`empty subtree [${start}, ${end})`);
    if ((n & (n - 1)) === 0 && start % n === 0 && n <= 2 ** 52) return this.perfect(Math.log2(n), start / n);
    let k = 1;
    while (k * 2 < n) k *= 2;
    return nodeHash(await this.subtree(start, start + k), await this.subtree(start + k, end));
  }

  async extend(size: number): Promise<void> {
    await this.load();
    let grew = false;
    for (const l of LEVELS) {
      const want = Math.floor(size / 2 ** l);
      const have = this.count(l);
      if (want <= have) continue;
      const add: Buffer[] = [];
      if (l === STEP) {
        // One pass over the new records, 256 leaves at a time.
        let chunk: Buffer[] = [];
        const filter = { ...emptyFilter(), seqFrom: have * CHUNK, seqTo: want * CHUNK - 1 };
        for await (const r of query(this.trail, { filter })) {
          chunk.push(Buffer.from(r.hash));
          if (chunk.length === CHUNK) {
            add.push(reduce(chunk));
            chunk = [];
          }
        }
        if (add.length !== want - have) throw new Error(`leaves ${have * CHUNK}..${want * CHUNK - 1} are not all in the trail (removed by retention?)`);
      } else {
        const below = this.stored.get(l - STEP)!;
        for (let i = have; i < want; i++) add.push(reduce(Array.from({ length: CHUNK }, (_, j) => slice(below, i * CHUNK + j))));
      }
      this.stored.set(l, Buffer.concat([this.stored.get(l)!, ...add]));
      grew = true;
    }
    if (grew) await this.save().catch(() => {}); // a read-only archive: kept in memory only
  }

  private async save(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o750 });
    for (const l of LEVELS) {
      const path = join(this.dir, `L${String(l).padStart(2, '0')}.bin`);
      const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(tmp, this.stored.get(l)!, { mode: 0o640, flag: 'wx' }); // never through a planted link
      await rename(tmp, path);
    }
  }

  async discard(why: string): Promise<void> {
    this.trail.warn(`stored tree hashes do not match the trail (${why}): ignored and rebuilt`);
    this.stored = new Map(LEVELS.map((l) => [l, Buffer.alloc(0)]));
    this.chunks.clear();
    this.loaded = true;
    await rm(this.dir, { recursive: true, force: true }).catch(() => {});
  }
}
