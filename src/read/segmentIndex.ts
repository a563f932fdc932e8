/**
 * The index of DESIGN §10: one sidecar file per closed segment, `data/index/NNNNNNNNNN.idx`,
 * that lets a query skip frames. A cache, never evidence: query checks every record it reads
 * from the segment itself, verify never reads an index, and deleting one changes only speed.
 *
 * Exported API
 * - `buildIndex(trail, segment)` → `SegmentIndex` (reads the segment; checks nothing: a cache).
 * - `encodeIndex(index)` / `decodeIndex(bytes, segment)`: the file's bytes; decode returns a
 *   string saying why when the bytes are damaged, truncated or describe another segment.
 * - `defaultIndex(trail)` → `IndexSource` (one per Trail): `get(segment)` loads the file, or
 *   builds it when it is missing or damaged (warning through the trail's onWarning) and writes
 *   it when the directory is writable; for the open segment, an index in memory of its frames
 *   so far, extended as frames commit (it may cover fewer frames than the segment has by the
 *   time they are read); `discard(segment, why)` drops one that proved wrong.
 * - `rebuildIndexes(trail, { segments? })`: writes every closed segment's index anew.
 *
 * When it is written: by the reader, not the writer. The daemon's commit path stays untouched;
 * the first query (or `sealog index rebuild`) after a segment closes builds its index. A segment
 * still open has no file: a reader indexes its frames in memory as it meets them.
 *
 * File format: gzip (its CRC-32 catches flipped bytes and truncation) of one JSON object:
 *   { v: 1, segment, bytes: segment size, frames: { offset[], length[], maxDecoded[], first[],
 *     count[], tsMin[], tsMax[] (µs) } (each column delta-coded), blocks: [{ start: first frame,
 *     streams[], types[] | null (too many), levels[], m, k, bloom: base64 }] }.
 * A block is a run of frames of about BLOCK_BYTES compressed bytes; its bloom filter holds
 * `event.<key>=<JCS value>` (and `event.payload.<key>=…`) for the id fields below, and
 * `p=<pseudonym>` for each pseudonym in its lines: 20 bits a distinct value, at most 1 % of the block.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { jcs } from '../crypto/canonical.js';
import { levelRank, tsMicros, type CompiledFilter, type Filter } from './filter.js';
import type { FrameRef, SegmentInfo, Trail } from './trail.js';

export interface IndexedFrame extends FrameRef {
  first: number;
  count: number;
  tsMin: number;
  tsMax: number;
  block: number;
}

interface Block {
  start: number;
  streams: string[];
  types: string[] | null;
  levels: string[];
  m: number;
  k: number;
  bloom: Buffer;
}

export interface SegmentIndex {
  segment: number;
  bytes: number;
  frames: IndexedFrame[];
  blocks: Block[];
  /** False when no record of the block can match the filter. */
  blockMayMatch(block: number, cf: CompiledFilter): boolean;
}

export interface IndexSource {
  get(seg: SegmentInfo): Promise<SegmentIndex | undefined>;
  discard(seg: SegmentInfo, why: string): Promise<void>;
}

/** Id fields whose values go into the bloom filter (under `event.` and `event.payload.`). */
export const INDEXED_KEYS = ['correlation_id', 'session_id', 'agent_id', 'tenant_id', 'event_id', 'trace_id', 'causation_id', 'ticket_id', 'user_id', 'run_id'];
const INDEXED_PATHS = new Set(INDEXED_KEYS.flatMap((k) => [`event.${k}`, `event.payload.${k}`]));
/** The filter has a criterion the index can skip frames by (not a seq range alone, nor text or other fields). */
export const indexCanSkip = (f: Filter): boolean =>
  f.streams.length > 0 ||
  f.types.length > 0 ||
  f.level !== undefined ||
  f.pseudonyms.length > 0 ||
  f.since !== undefined ||
  f.until !== undefined ||
  f.fields.some((m) => INDEXED_PATHS.has(m.path));
const PSEUDONYM = /(?:pii|secret):[a-z0-9_]+:[0-9a-f]{24}/g;
const BLOCK_BYTES = 128 * 1024;
const MAX_TYPES = 64;
/** Bloom bits per distinct token (20: about 1 false hit in 10,000 blocks), and the cap as a share of the block's compressed bytes. */
const BITS_PER_TOKEN = 20;
const BLOOM_SHARE = 0.01;

export const indexPath = (trail: Trail, n: number) => join(trail.layout.data, 'index', `${String(n).padStart(10, '0')}.idx`);

type Acc = { start: number; bytes: number; streams: Set<string>; types: Set<string>; levels: Set<string>; tokens: Set<string> };
const newAcc = (start: number): Acc => ({ start, bytes: 0, streams: new Set(), types: new Set(), levels: new Set(), tokens: new Set() });
const blockOf = (acc: Acc): Block => ({
  start: acc.start,
  streams: [...acc.streams],
  types: acc.types.size > MAX_TYPES ? null : [...acc.types],
  levels: [...acc.levels],
  ...bloomOf(acc.tokens, acc.bytes),
});

/** One frame's records into the block being gathered; the frame's entry (its block number left to the caller). */
function indexFrame(f: FrameRef, decoded: Buffer, acc: Acc): Omit<IndexedFrame, 'block'> {
  let first = -1;
  let count = 0;
  let tsMin = Infinity;
  let tsMax = -Infinity;
  for (let s = 0, e = decoded.indexOf(0x0a); e !== -1; s = e + 1, e = decoded.indexOf(0x0a, s)) {
    const text = decoded.toString('utf8', s, e);
    const r = JSON.parse(text) as Record<string, any>;
    if (count++ === 0) first = r.seq;
    const ts = typeof r.ts === 'string' ? tsMicros(r.ts) : NaN;
    if (ts < tsMin) tsMin = ts;
    if (ts > tsMax) tsMax = ts;
    if (typeof r.stream === 'string') acc.streams.add(r.stream);
    if (typeof r.type === 'string' && acc.types.size <= MAX_TYPES) acc.types.add(r.type);
    if (typeof r.level === 'string') acc.levels.add(r.level);
    for (const t of tokensOf(r)) acc.tokens.add(t);
    for (const p of text.match(PSEUDONYM) ?? []) acc.tokens.add(`p=${p}`);
  }
  // A record without a readable ts makes its frame's range unbounded: never skipped by time.
  if (!(tsMin <= tsMax)) [tsMin, tsMax] = [-Infinity, Infinity];
  acc.bytes += f.length;
  return { ...f, first, count, tsMin, tsMax };
}

export async function buildIndex(trail: Trail, seg: SegmentInfo): Promise<SegmentIndex> {
  const frames: IndexedFrame[] = [];
  const blocks: Block[] = [];
  let acc: Acc | undefined;
  for (const f of await trail.frames(seg)) {
    const decoded = await trail.decode(seg, f);
    acc ??= newAcc(frames.length);
    frames.push({ ...indexFrame(f, decoded, acc), block: blocks.length });
    if (acc.bytes >= BLOCK_BYTES) {
      blocks.push(blockOf(acc));
      acc = undefined;
    }
  }
  if (acc) blocks.push(blockOf(acc));
  return withMatcher({ segment: seg.n, bytes: seg.bytes, frames, blocks });
}

/**
 * The open segment's frames so far, indexed in memory a frame at a time as they commit (a
 * block per frame; never written): a search of a live daemon then reads only the open frames
 * that may match, not every frame of up to an hour's records. Extended by one caller at a time.
 */
class OpenIndex {
  readonly frames: IndexedFrame[] = [];
  readonly blocks: Block[] = [];
  private extending: Promise<void> | undefined;

  constructor(readonly segment: number) {}

  async through(trail: Trail, seg: SegmentInfo): Promise<SegmentIndex> {
    while (this.extending) await this.extending;
    const frames = await trail.frames(seg);
    if (frames.length > this.frames.length) {
      this.extending = (async () => {
        for (let k = this.frames.length; k < frames.length; k++) {
          const f = frames[k]!;
          const acc = newAcc(k);
          const entry = indexFrame(f, await trail.decode(seg, f), acc);
          this.blocks.push(blockOf(acc));
          this.frames.push({ ...entry, block: this.blocks.length - 1 });
        }
      })().finally(() => (this.extending = undefined));
      await this.extending;
    }
    const last = this.frames[this.frames.length - 1];
    return withMatcher({ segment: seg.n, bytes: last ? last.offset + last.length : 0, frames: this.frames.slice(), blocks: this.blocks });
  }
}

function tokensOf(r: Record<string, any>): string[] {
  const out: string[] = [];
  for (const [prefix, o] of [
    ['event', r.event],
    ['event.payload', r.event?.payload],
  ] as const) {
    if (!o || typeof o !== 'object' || Array.isArray(o)) continue;
    for (const k of INDEXED_KEYS) {
      const v = Object.hasOwn(o, k) ? o[k] : undefined;
      if (typeof v === 'string' || typeof v === 'number') out.push(`${prefix}.${k}=${jcs(v)}`);
    }
  }
  return out;
}

// Two 32-bit FNV-1a hashes (different offsets) combined as h1 + i*h2: the k bit positions.
function fnv(s: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
function* positions(token: string, m: number, k: number): Generator<number> {
  const h1 = fnv(token, 0x811c9dc5);
  const h2 = fnv(token, 0x050c5d1f) | 1;
  for (let i = 0; i < k; i++) yield ((h1 + Math.imul(i, h2)) >>> 0) % m;
}

function bloomOf(tokens: Set<string>, blockBytes: number): { m: number; k: number; bloom: Buffer } {
  const cap = Math.max(64, Math.floor(blockBytes * BLOOM_SHARE * 8));
  const m = Math.max(64, Math.min(tokens.size * BITS_PER_TOKEN, cap));
  const k = Math.max(1, Math.min(14, Math.round((m / Math.max(1, tokens.size)) * Math.LN2)));
  const bloom = Buffer.alloc(Math.ceil(m / 8));
  for (const t of tokens) for (const p of positions(t, m, k)) bloom[p >> 3]! |= 1 << (p & 7);
  return { m, k, bloom };
}

function bloomHas(b: Block, token: string): boolean {
  for (const p of positions(token, b.m, b.k)) if (!(b.bloom[p >> 3]! & (1 << (p & 7)))) return false;
  return true;
}

function withMatcher(ix: Omit<SegmentIndex, 'blockMayMatch'>): SegmentIndex {
  return {
    ...ix,
    blockMayMatch(i, cf) {
      const b = ix.blocks[i];
      if (!b) return true;
      const f = cf.filter;
      if (f.streams.length && !f.streams.some((s) => b.streams.includes(s))) return false;
      if (f.types.length && b.types && !b.types.some((t) => cf.typeMatches(t))) return false;
      if (f.level && !b.levels.some((l) => levelRank(l) >= levelRank(f.level!))) return false;
      for (let j = 0; j < f.fields.length; j++) if (INDEXED_PATHS.has(f.fields[j]!.path) && !bloomHas(b, cf.fieldTokens[j]!)) return false;
      if (f.pseudonyms.length && !f.pseudonyms.some((p) => bloomHas(b, `p=${p}`))) return false;
      return true;
    },
  };
}

const delta = (xs: number[]) => xs.map((x, i) => (i === 0 ? x : x - xs[i - 1]!));
const undelta = (xs: number[]) => {
  const out: number[] = [];
  for (const [i, x] of xs.entries()) out.push(i === 0 ? x : out[i - 1]! + x);
  return out;
};
const COLUMNS = ['offset', 'length', 'maxDecoded', 'first', 'count', 'tsMin', 'tsMax'] as const;

export function encodeIndex(ix: SegmentIndex): Buffer {
  const finite = (x: number) => (Number.isFinite(x) ? x : null);
  const frames = Object.fromEntries(COLUMNS.map((c) => [c, c.startsWith('ts') ? ix.frames.map((f) => finite(f[c])) : delta(ix.frames.map((f) => f[c]))]));
  const blocks = ix.blocks.map((b) => ({ ...b, bloom: b.bloom.toString('base64') }));
  return gzipSync(JSON.stringify({ v: 1, segment: ix.segment, bytes: ix.bytes, frames, blocks }));
}

/** The index in these bytes, or why they are not a usable index of this segment. */
export function decodeIndex(bytes: Buffer, seg: SegmentInfo): SegmentIndex | string {
  let o: any;
  try {
    o = JSON.parse(gunzipSync(bytes).toString('utf8'));
  } catch (err) {
    return `unreadable (${(err as Error).message})`;
  }
  if (o?.v !== 1 || o.segment !== seg.n) return 'not an index of this segment';
  if (o.bytes !== seg.bytes) return `describes ${o.bytes} bytes, the segment has ${seg.bytes}`;
  const cols = COLUMNS.map((c) => o.frames?.[c]);
  const n = cols[0]?.length;
  if (!cols.every((c) => Array.isArray(c) && c.length === n) || !Array.isArray(o.blocks)) return 'malformed';
  const [offset, length, maxDecoded, first, count] = cols.slice(0, 5).map((c) => undelta(c as number[])) as number[][];
  const frames: IndexedFrame[] = [];
  let block = -1;
  for (let i = 0; i < n; i++) {
    while (block + 1 < o.blocks.length && o.blocks[block + 1].start === i) block++;
    const tsMin = cols[5]![i] ?? -Infinity;
    const tsMax = cols[6]![i] ?? Infinity;
    frames.push({ offset: offset![i]!, length: length![i]!, maxDecoded: maxDecoded![i]!, first: first![i]!, count: count![i]!, tsMin, tsMax, block });
  }
  const last = frames[frames.length - 1];
  if ((last ? last.offset + last.length : 0) !== seg.bytes || frames.some((f, i) => i > 0 && f.offset !== frames[i - 1]!.offset + frames[i - 1]!.length))
    return 'frames do not tile the segment';
  const blocks: Block[] = o.blocks.map((b: any) => ({ ...b, bloom: Buffer.from(String(b.bloom), 'base64') }));
  if (blocks.some((b) => !(Number.isInteger(b.m) && b.m > 0 && b.bloom.length * 8 >= b.m && Number.isInteger(b.k) && b.k > 0))) return 'malformed bloom filter';
  return withMatcher({ segment: seg.n, bytes: seg.bytes, frames, blocks });
}

const sources = new WeakMap<Trail, IndexSource>();

/** The trail's index source: loaded from data/index/, built and written when missing or damaged. */
export function defaultIndex(trail: Trail): IndexSource {
  let s = sources.get(trail);
  if (s) return s;
  const cache = new Map<number, SegmentIndex>();
  let open: OpenIndex | undefined;
  s = {
    async get(seg) {
      if (seg.open) {
        if (open?.segment !== seg.n) open = new OpenIndex(seg.n);
        return open.through(trail, seg);
      }
      if (open?.segment === seg.n) open = undefined; // closed since: its index is built (or loaded) whole
      const known = cache.get(seg.n);
      if (known && known.bytes === seg.bytes) return known;
      const bytes = await readFile(indexPath(trail, seg.n)).catch(() => undefined);
      let ix = bytes && decodeIndex(bytes, seg);
      if (typeof ix === 'string') trail.warn(`index of segment ${seg.name} is damaged or out of date (${ix}): ignored and rebuilt`);
      if (!ix || typeof ix === 'string') {
        ix = await buildIndex(trail, seg);
        await saveIndex(trail, ix).catch(() => {}); // a read-only archive: kept in memory only
      }
      cache.set(seg.n, ix);
      return ix;
    },
    async discard(seg, why) {
      trail.warn(`index of segment ${seg.name} does not match the segment (${why}): ignored and rebuilt`);
      cache.delete(seg.n);
      if (open?.segment === seg.n) open = undefined;
      await rm(indexPath(trail, seg.n), { force: true }).catch(() => {});
    },
  };
  sources.set(trail, s);
  return s;
}

/** Write-then-rename: a reader sees the old index or the new one (a cache: no fsync). */
export async function saveIndex(trail: Trail, ix: SegmentIndex): Promise<void> {
  const path = indexPath(trail, ix.segment);
  await mkdir(join(trail.layout.data, 'index'), { recursive: true, mode: 0o750 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, encodeIndex(ix), { mode: 0o640, flag: 'wx' }); // never through a planted link
  await rename(tmp, path).catch(async (err) => {
    await rm(tmp, { force: true });
    throw err;
  });
}

/** Builds and writes the index of every closed segment (or those listed), and drops those of segments gone. Returns how many. */
export async function rebuildIndexes(trail: Trail, opts: { segments?: number[]; onSegment?(seg: SegmentInfo): void } = {}): Promise<number> {
  let n = 0;
  const segs = await trail.segments();
  const names = new Set(segs.map((s) => `${String(s.n).padStart(10, '0')}.idx`));
  const dir = join(trail.layout.data, 'index');
  for (const f of await readdir(dir).catch(() => [] as string[])) if (/^\d{10}\.idx$/.test(f) && !names.has(f)) await rm(join(dir, f), { force: true });
  for (const seg of segs) {
    if (seg.open || (opts.segments && !opts.segments.includes(seg.n))) continue;
    opts.onSegment?.(seg);
    await saveIndex(trail, await buildIndex(trail, seg));
    n++;
  }
  return n;
}
