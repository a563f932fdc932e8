import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Signer } from '../crypto/keys.js';
import { CompactTree } from '../crypto/merkle.js';
import type { Frame, Sealed } from '../types.js';
import { signCheckpoint } from './checkpoint.js';
import { fatalSync, syncDir, writeAll, writeFileDurable } from './fsutil.js';
import { checkpointName, manifestName, segmentName, type Layout } from './layout.js';
import { signManifest, type Manifest } from './manifest.js';

export type FsyncMode = 'batch' | 'interval' | 'never';

export interface StoreOptions {
  layout: Layout;
  origin: string;
  signer: Signer;
  fsync: { mode: FsyncMode; intervalMs: number };
  checkpoint: { everyRecords: number; everyMs: number };
  log: Logger;
  /** Called once records are durable (per the fsync policy), in seq order. */
  onCommit(records: Sealed[]): void;
}

/** Where the log stands: the next segment number and the Merkle tree of every record so far. */
export interface StoreState {
  nextSegment: number;
  tree: CompactTree;
  lastHash: string;
}

interface OpenSegment {
  n: number;
  fh: FileHandle;
  bytes: number;
  openedAt: number;
  firstSeq: number;
  prev: string;
  sha: Hash;
}

/**
 * The segment writer: appends LZ4 frames, makes them durable, keeps the Merkle
 * tree of committed records, writes checkpoints and closes segments with a
 * signed manifest. Every operation runs one at a time on an internal queue.
 */
export class SegmentStore {
  private seg: OpenSegment | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private undurable: Sealed[][] = [];
  private lastCheckpointSize: number;
  private lastCheckpointAt = Date.now();
  private lastCommitAt = 0;
  /** Records made durable in this run. */
  committedRecords = 0;
  private syncTimer: NodeJS.Timeout | undefined;
  private ckptTimer: NodeJS.Timeout | undefined;
  private failed: Error | undefined;

  constructor(private readonly opts: StoreOptions, private readonly state: StoreState, lastCheckpointSize: number) {
    this.lastCheckpointSize = lastCheckpointSize;
    if (opts.fsync.mode === 'interval') this.syncTimer = setInterval(() => this.enqueue(() => this.sync()), opts.fsync.intervalMs).unref();
    this.ckptTimer = setInterval(() => this.enqueue(() => this.maybeCheckpoint(true)), Math.min(opts.checkpoint.everyMs, 1000)).unref();
  }

  get treeSize(): number {
    return this.state.tree.size;
  }
  /** When records last became durable and the newest checkpoint (ms since epoch; 0 if never in this run). */
  get progress(): { lastCommitAt: number; lastCheckpointAt: number; checkpointSize: number } {
    return { lastCommitAt: this.lastCommitAt, lastCheckpointAt: this.lastCheckpointAt, checkpointSize: this.lastCheckpointSize };
  }
  get segment(): { n: number; bytes: number; openedAt: number } | undefined {
    return this.seg && { n: this.seg.n, bytes: this.seg.bytes, openedAt: this.seg.openedAt };
  }

  /** Runs fn after every earlier operation; a failure is sticky, since a failed fsync leaves nothing to trust. */
  enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.failed) throw this.failed;
      return fn();
    });
    this.queue = run.catch((err: Error) => {
      this.failed ??= err;
    });
    return run;
  }

  append(frame: Frame): Promise<void> {
    return this.enqueue(async () => {
      const seg = this.seg ?? (await this.openSegment(frame.records[0]!.seq));
      await writeAll(seg.fh, frame.data);
      seg.bytes += frame.data.length;
      seg.sha.update(frame.data);
      for (const r of frame.records) this.state.tree.append(r.hash);
      this.state.lastHash = frame.records[frame.records.length - 1]!.hash.toString('hex');
      this.undurable.push(frame.records);
      if (this.opts.fsync.mode === 'batch') await this.sync();
      else if (this.opts.fsync.mode === 'never') this.release();
      await this.maybeCheckpoint(false);
    });
  }

  /** Closes the open segment (if any): sync, checkpoint, signed manifest. The next append opens a new one. */
  closeSegment(): Promise<void> {
    return this.enqueue(() => this.closeNow());
  }

  /** Final close at shutdown; timers stop. */
  async close(): Promise<void> {
    clearInterval(this.syncTimer);
    clearInterval(this.ckptTimer);
    await this.enqueue(async () => {
      await this.closeNow();
      await this.checkpointNow();
    });
  }

  private async openSegment(firstSeq: number): Promise<OpenSegment> {
    const n = this.state.nextSegment++;
    const fh = await open(join(this.opts.layout.segments, segmentName(n)), 'wx', 0o640);
    await syncDir(this.opts.layout.segments).catch(fatalSync);
    this.seg = { n, fh, bytes: 0, openedAt: Date.now(), firstSeq, prev: this.state.lastHash, sha: createHash('sha256') };
    this.opts.log.info({ segment: n }, 'segment opened');
    return this.seg;
  }

  private async sync(): Promise<void> {
    if (this.seg && this.undurable.length) await this.seg.fh.datasync().catch(fatalSync);
    this.release();
  }

  private release(): void {
    const done = this.undurable;
    this.undurable = [];
    if (done.length) this.lastCommitAt = Date.now();
    for (const records of done) {
      this.committedRecords += records.length;
      this.opts.onCommit(records);
    }
  }

  private async maybeCheckpoint(timed: boolean): Promise<void> {
    const grown = this.state.tree.size - this.lastCheckpointSize;
    if (grown <= 0) return;
    if (grown >= this.opts.checkpoint.everyRecords || (timed && Date.now() - this.lastCheckpointAt >= this.opts.checkpoint.everyMs)) {
      await this.checkpointNow();
    }
  }

  /** A checkpoint only ever covers durable records, so sync first whatever the policy. */
  private async checkpointNow(): Promise<void> {
    const { tree } = this.state;
    if (tree.size === 0 || tree.size === this.lastCheckpointSize) return;
    await this.sync();
    const text = signCheckpoint(this.opts.origin, tree.size, tree.root(), this.opts.signer);
    await writeFileDurable(join(this.opts.layout.checkpoints, checkpointName(tree.size)), text).catch(fatalSync);
    this.lastCheckpointSize = tree.size;
    this.lastCheckpointAt = Date.now();
    this.opts.log.debug({ treeSize: tree.size }, 'checkpoint written');
  }

  private async closeNow(): Promise<void> {
    const seg = this.seg;
    if (!seg) return;
    await this.sync();
    await this.checkpointNow();
    await seg.fh.close();
    this.seg = undefined;
    const { tree } = this.state;
    const manifest: Manifest = {
      origin: this.opts.origin,
      segment: seg.n,
      first_seq: seg.firstSeq,
      last_seq: tree.size - 1,
      records: tree.size - seg.firstSeq,
      prev: seg.prev,
      last_hash: this.state.lastHash,
      tree_size: tree.size,
      root: tree.root().toString('base64'),
      peaks: tree.peaks.map((p) => p.toString('hex')),
      bytes: seg.bytes,
      sha256: seg.sha.digest('hex'),
    };
    await writeFileDurable(join(this.opts.layout.segments, manifestName(seg.n)), signManifest(manifest, this.opts.signer)).catch(fatalSync);
    this.opts.log.info({ segment: seg.n, records: manifest.records, bytes: seg.bytes }, 'segment closed');
  }
}
