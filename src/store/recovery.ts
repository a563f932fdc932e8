import { mkdir, readFile, truncate, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Logger } from 'pino';
import { ZERO_HASH_HEX, sha256Hex } from '../crypto/hash.js';
import { parseVerifierKey, type Signer, type Verifier } from '../crypto/keys.js';
import { CompactTree } from '../crypto/merkle.js';
import { ErrorCode, SealogError } from '../errors.js';
import { openCheckpoint, signCheckpoint, type Checkpoint } from './checkpoint.js';
import { fatalSync, openNew, syncPath, writeFileDurable } from './fsutil.js';
import { checkpointName, listCheckpoints, listRemoved, listSegments, manifestName, type Layout } from './layout.js';
import { openManifest, signManifest, type Manifest } from './manifest.js';
import { openLine } from './recordLine.js';
import { segmentRecords } from './records.js';
import { NOTE_MAX_BYTES, readCapped } from './safeRead.js';
import type { StoreState } from './segmentStore.js';

export interface TornTail {
  segment: number;
  offset: number;
  bytes: number;
  sha256: string;
  reason: string;
  savedAs: string;
}

export interface Recovered {
  state: StoreState;
  lastCheckpointSize: number;
  torn: TornTail[];
}

/**
 * Finds where the log stands at start. Closed segments are trusted through their
 * signed manifests; segments left open by a crash are read record by record, a
 * torn tail of the newest is cut (and kept under recovery/), and each is closed
 * with a checkpoint and manifest so the chain continues from the last good record.
 */
export async function recover(l: Layout, origin: string, signer: Signer, ring: string[], frameCap: number, log: Logger): Promise<Recovered> {
  // The log's own keys: a rotation leaves manifests signed by the old key and the new.
  const verifier = [signer.verifierKey, ...ring].map(parseVerifierKey);
  const segments = await listSegments(l);
  let tree = new CompactTree();
  let lastHash = ZERO_HASH_HEX;
  let firstOpen = 0;
  for (let i = segments.length - 1; i >= 0; i--) {
    const path = join(l.segments, manifestName(segments[i]!.n));
    const data = await readCapped(path, NOTE_MAX_BYTES).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
    if (!data) continue;
    const opened = openManifest(data, verifier);
    if ('error' in opened) throw new SealogError(ErrorCode.RECOVERY, `${path}: ${opened.error}; refusing to append to a log whose state cannot be trusted`);
    const m = opened.manifest;
    tree = new CompactTree(
      m.tree_size,
      m.peaks.map((p) => Buffer.from(p, 'hex')),
    );
    lastHash = m.last_hash;
    firstOpen = i + 1;
    break;
  }
  // Retention may have removed every closed segment after the newest one read here: then
  // the log continues from the newest removed segment's kept manifest (its tombstone).
  const removed = await listRemoved(l);
  const tomb = removed[removed.length - 1];
  let nextSegment = Math.max(segments.length ? segments[segments.length - 1]!.n + 1 : 1, tomb ? tomb.n + 1 : 1);
  if (tomb && (firstOpen === 0 || tomb.n > segments[firstOpen - 1]!.n)) {
    const path = join(l.removed, tomb.name);
    const opened = openManifest(await readCapped(path, NOTE_MAX_BYTES), verifier);
    if ('error' in opened) throw new SealogError(ErrorCode.RECOVERY, `${path}: ${opened.error}; refusing to append to a log whose state cannot be trusted`);
    const m = opened.manifest;
    if (m.tree_size > tree.size) {
      tree = new CompactTree(
        m.tree_size,
        m.peaks.map((p) => Buffer.from(p, 'hex')),
      );
      lastHash = m.last_hash;
      firstOpen = segments.findIndex((s) => s.n > tomb.n);
      if (firstOpen < 0) firstOpen = segments.length;
    }
  }
  const torn: TornTail[] = [];
  const checkpoints = await listCheckpoints(l);
  let lastCheckpointSize = checkpoints.length ? checkpoints[checkpoints.length - 1]!.n : 0;
  // The log must reach the newest signed checkpoint with its root: appending after records
  // it covers were cut away would sign a second, different tree of the same size (a fork).
  const newest = checkpoints.length ? await newestCheckpoint(join(l.checkpoints, checkpoints[checkpoints.length - 1]!.name), verifier) : undefined;
  const atNewest = () => {
    if (newest && tree.size === newest.size && !tree.root().equals(newest.root)) {
      throw new SealogError(
        ErrorCode.LOG_DAMAGED,
        `the first ${tree.size} records do not hash to the root of the newest signed checkpoint; refusing to append (run sealog verify)`,
      );
    }
  };
  atNewest();

  for (let i = firstOpen; i < segments.length; i++) {
    const { n, name } = segments[i]!;
    const path = join(l.segments, name);
    const newest = i === segments.length - 1;
    const firstSeq = tree.size;
    const prev = lastHash;
    for await (const f of segmentRecords(path, frameCap)) {
      if ('lines' in f) {
        for (const line of f.lines) {
          const r = openLine(line);
          const bad =
            typeof r === 'string'
              ? r
              : r.claimed !== r.hash.toString('hex')
                ? 'hash mismatch'
                : r.seq !== tree.size
                  ? `seq ${r.seq}, expected ${tree.size}`
                  : r.prev !== lastHash
                    ? 'prev does not chain'
                    : '';
          if (bad) throw new SealogError(ErrorCode.RECOVERY, `${path} at byte ${f.offset}: ${bad}; the log is damaged, run sealog verify`);
          const ok = r as Exclude<typeof r, string>;
          tree.append(ok.hash);
          atNewest();
          lastHash = ok.claimed;
        }
        continue;
      }
      if (!newest) throw new SealogError(ErrorCode.RECOVERY, `${path} at byte ${f.offset}: ${f.reason}; only the newest segment may have a torn tail`);
      torn.push(await cutTail(l, n, path, f.offset, f.reason, log));
    }
    if (tree.size === firstSeq && newest) {
      // Created but never written: reuse its number rather than leave an empty segment.
      await unlink(path);
      await syncPath(l.segments);
      nextSegment = n;
      continue;
    }
    const root = tree.root();
    if (tree.size > lastCheckpointSize) {
      await writeFileDurable(join(l.checkpoints, checkpointName(tree.size)), signCheckpoint(origin, tree.size, root, signer));
      lastCheckpointSize = tree.size;
    }
    const data = await readFile(path);
    const manifest: Manifest = {
      origin,
      segment: n,
      first_seq: firstSeq,
      last_seq: tree.size - 1,
      records: tree.size - firstSeq,
      prev,
      last_hash: lastHash,
      tree_size: tree.size,
      root: root.toString('base64'),
      peaks: tree.peaks.map((p) => p.toString('hex')),
      bytes: data.length,
      sha256: sha256Hex(data),
    };
    await writeFileDurable(join(l.segments, manifestName(n)), signManifest(manifest, signer));
    log.warn({ segment: n, records: manifest.records }, 'closed a segment left open by a crash');
  }
  if (newest && newest.size > tree.size) {
    throw new SealogError(
      ErrorCode.LOG_DAMAGED,
      `the log holds ${tree.size} records but its newest signed checkpoint covers ${newest.size}: records were removed from the end; refusing to append (run sealog verify)`,
    );
  }
  return { state: { nextSegment, tree, lastHash }, lastCheckpointSize, torn };
}

async function newestCheckpoint(path: string, ring: Verifier[]): Promise<Checkpoint> {
  const opened = openCheckpoint(await readCapped(path, NOTE_MAX_BYTES), ring);
  if ('error' in opened)
    throw new SealogError(ErrorCode.LOG_DAMAGED, `${path}: ${opened.error}; refusing to append to a log whose newest checkpoint does not verify`);
  return opened.checkpoint;
}

async function cutTail(l: Layout, n: number, path: string, offset: number, reason: string, log: Logger): Promise<TornTail> {
  const data = await readFile(path);
  const cut = data.subarray(offset);
  await mkdir(l.recovery, { recursive: true, mode: 0o750 });
  // A new file, never one already there (an earlier cut at the same offset, or a planted link).
  let savedAs = join(l.recovery, `${String(n).padStart(10, '0')}-${offset}.torn`);
  const fh = await openNew(savedAs, 0o640).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
    savedAs = `${savedAs}.${Date.now()}`;
    return openNew(savedAs, 0o640);
  });
  try {
    await fh.writeFile(cut);
  } finally {
    await fh.close();
  }
  await truncate(path, offset);
  await syncPath(path).catch(fatalSync);
  const t = { segment: n, offset, bytes: cut.length, sha256: sha256Hex(cut), reason, savedAs: `recovery/${basename(savedAs)}` };
  log.warn(t, 'cut a torn tail left by a crash');
  return t;
}
