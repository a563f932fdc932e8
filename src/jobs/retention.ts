import { copyFile, mkdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Hex } from '../crypto/hash.js';
import type { Logger } from '../log.js';
import { moveDurable, syncPath, writeFileDurable } from '../store/fsutil.js';
import { layout, listCheckpoints, listSegments, manifestName, segmentName, type Layout } from '../store/layout.js';
import { readOwnManifest } from '../store/manifest.js';
import { segmentRecords } from '../store/records.js';
import { OwnType, type SealOwn } from '../ownRecords.js';
import { holdCovers, type Hold } from './holds.js';

export interface RetentionOptions {
  layout: Layout;
  /** Retention per stream in ms; a stream not listed is kept for ever. */
  streams: Record<string, number>;
  /** Move expired segments (with manifests and checkpoints) here instead of deleting them. */
  archiveDir?: string;
  frameCap: number;
  now(): number;
  /** The segment the store is writing, never touched. */
  openSegment(): number | undefined;
  /** Active legal holds, after pending requests are sealed and applied. */
  holds(): Promise<Hold[]>;
  seal: SealOwn;
  /** Bytes the segments may take (0: no budget); over it, each run reports `overBudget`. */
  maxTotalBytes: number;
  /** Called after each run: a reason when the segments take more than the budget, else undefined. */
  overBudget(reason: string | undefined): void;
  /** The lowest seq the retention-holding sinks acknowledged (DESIGN §11): nothing after it is removed. */
  sinkFloor?(): Promise<number>;
  log: Logger;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "30d", "12h", "2s": the retention periods of config. */
export function parseDuration(text: string): number {
  const m = /^([1-9]\d*)([smhd])$/.exec(text);
  if (!m) throw new Error(`${JSON.stringify(text)} is not a duration like 30d, 12h, 15m or 2s`);
  return Number(m[1]) * UNITS[m[2]!]!;
}

/**
 * Retention: removes whole closed segments whose every record is past its stream's
 * retention and covered by no legal hold. Per segment, in this order, each step
 * durable before the next:
 *   1. its signed manifest is kept as a tombstone in data/removed/ (what lets verify
 *      resume the chain and the Merkle tree across the gap);
 *   2. a sealog.retention.removed audit record naming it is sealed and committed;
 *   3. the segment, its manifest and the checkpoints inside its range are deleted
 *      (or moved to the archive).
 * A crash anywhere leaves the segment in place, still expired: the next run does it
 * again (a crash after 2 seals a second, identical removal record, which verify accepts).
 */
export function retentionJob(
  o: RetentionOptions,
): (signal: AbortSignal) => Promise<{ removed: number[]; held: { segment: number; holds: string[] }[]; total_bytes: number }> {
  // When the last record of a closed segment expires never changes: computed once per segment.
  const expiry = new Map<number, number>();
  const shortest = Math.min(...Object.values(o.streams));
  return async (signal) => {
    const holds = await o.holds();
    const l = o.layout;
    const removed: number[] = [];
    const held: { segment: number; holds: string[] }[] = [];
    const open = o.openSegment();
    const checkpoints = await listCheckpoints(l);
    const newestCheckpoint = checkpoints.length ? checkpoints[checkpoints.length - 1]!.n : 0;
    for (const { n, name } of await listSegments(l)) {
      if (signal.aborted) break;
      if (n === open) continue;
      const manifestFile = join(l.segments, manifestName(n));
      const manifestData = await readFile(manifestFile).catch(() => undefined);
      const m = manifestData && readOwnManifest(manifestData);
      if (!m) continue; // not closed (or being closed right now)
      const path = join(l.segments, name);
      // Receive times only grow: once a segment's first record is inside the shortest
      // retention, no record of it or of any later segment can have expired. Years of
      // segments are not read to learn that.
      if (!expiry.has(n) && (await firstTs(path, o.frameCap)) + shortest > o.now()) break;
      if (!expiry.has(n)) expiry.set(n, await expiresAt(path, o.frameCap, o.streams));
      if (expiry.get(n)! > o.now()) continue;
      if (o.sinkFloor && m.last_seq > (await o.sinkFloor())) {
        held.push({ segment: n, holds: ['sinks: not yet acknowledged by every sink that holds retention'] });
        o.log.info({ segment: n }, 'expired segment kept until the sinks have sent it');
        continue;
      }
      const by = holds.length ? await coveringHolds(path, o.frameCap, holds) : [];
      if (by.length) {
        held.push({ segment: n, holds: by });
        o.log.info({ segment: n, holds: by }, 'expired segment kept by a legal hold');
        continue;
      }
      await mkdir(l.removed, { recursive: true, mode: 0o750 });
      await writeFileDurable(join(l.removed, manifestName(n)), manifestData!, 0o640);
      const seq = await o.seal(OwnType.RETENTION_REMOVED, {
        action: 'retention.removed',
        segment: n,
        first_seq: m.first_seq,
        last_seq: m.last_seq,
        records: m.records,
        tree_size: m.tree_size,
        root: m.root,
        last_hash: m.last_hash,
        segment_sha256: m.sha256,
        manifest_sha256: sha256Hex(manifestData!),
        disposition: o.archiveDir ? 'archived' : 'deleted',
      });
      const inRange = checkpoints.filter((c) => c.n > m.first_seq && c.n <= m.tree_size);
      await dispose(l, n, path, manifestFile, inRange, newestCheckpoint, o.archiveDir);
      expiry.delete(n);
      removed.push(n);
      o.log.info({ segment: n, first_seq: m.first_seq, last_seq: m.last_seq, seq, archive: o.archiveDir || undefined }, 'segment removed by retention');
    }
    const total = await segmentBytes(l);
    const over = o.maxTotalBytes > 0 && total > o.maxTotalBytes;
    const reason = over
      ? `segments take ${total} bytes, over retention.max_total_bytes ${o.maxTotalBytes}; nothing inside its retention period is removed to meet it`
      : undefined;
    if (reason) o.log.warn({ total_bytes: total, max_total_bytes: o.maxTotalBytes }, 'segments over their disk budget');
    o.overBudget(reason);
    return { removed, held, total_bytes: total };
  };
}

async function segmentBytes(l: Layout): Promise<number> {
  let total = 0;
  for (const { name } of await listSegments(l)) total += (await stat(join(l.segments, name)).catch(() => undefined))?.size ?? 0;
  return total;
}

/** The latest moment any record of the segment is still inside its stream's retention. */
async function expiresAt(path: string, frameCap: number, streams: Record<string, number>): Promise<number> {
  let latest = -Infinity;
  for await (const r of records(path, frameCap)) {
    const keep = streams[r.stream as string];
    if (keep === undefined) return Infinity;
    latest = Math.max(latest, Date.parse(r.ts as string) + keep);
  }
  return latest;
}

async function firstTs(path: string, frameCap: number): Promise<number> {
  for await (const r of records(path, frameCap)) return Date.parse(r.ts as string);
  return -Infinity;
}

async function coveringHolds(path: string, frameCap: number, holds: Hold[]): Promise<string[]> {
  const by = new Set<string>();
  for await (const r of records(path, frameCap)) for (const h of holds) if (holdCovers(h, r)) by.add(h.id);
  return [...by];
}

async function* records(path: string, frameCap: number): AsyncGenerator<Record<string, any>> {
  for await (const f of segmentRecords(path, frameCap)) {
    // A closed segment that does not read is the integrity sweep's business; retention leaves it alone.
    if (!('lines' in f)) throw new Error(`${path} at byte ${f.offset}: ${f.reason}; not removed`);
    for (const line of f.lines) yield JSON.parse(line.toString('utf8')) as Record<string, any>;
  }
}

/**
 * Deletes (or archives) a segment, its manifest and the checkpoints inside its range.
 * The newest checkpoint stays in the log: it is what catches a truncated tail.
 */
async function dispose(
  l: Layout,
  n: number,
  path: string,
  manifestFile: string,
  inRange: { n: number; name: string }[],
  newest: number,
  archiveDir?: string,
): Promise<void> {
  if (archiveDir) {
    const a = layout(archiveDir);
    for (const dir of [a.segments, a.checkpoints, a.keys]) await mkdir(dir, { recursive: true, mode: 0o750 });
    // The auditor's public key beside the archive, for `sealog verify --data ARCHIVE`.
    if (!(await stat(a.publicKey).catch(() => undefined))) await copyFile(l.publicKey, a.publicKey);
    for (const c of inRange) {
      const from = join(l.checkpoints, c.name);
      if (c.n === newest) await writeFileDurable(join(a.checkpoints, c.name), await readFile(from));
      else await moveDurable(from, join(a.checkpoints, c.name));
    }
    // The segment before its manifest: a crash between the two leaves a stray manifest, never a segment without one.
    await moveDurable(path, join(a.segments, segmentName(n)));
    await moveDurable(manifestFile, join(a.segments, manifestName(n)));
  } else {
    for (const c of inRange) if (c.n !== newest) await unlink(join(l.checkpoints, c.name));
    await unlink(path);
    await unlink(manifestFile);
  }
  await syncPath(l.checkpoints);
  await syncPath(l.segments);
}
