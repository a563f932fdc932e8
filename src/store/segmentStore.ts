import { createHash, type Hash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Signer } from '../crypto/keys.js';
import type { CompactTree } from '../crypto/merkle.js';
import type { Frame, Sealed } from '../types.js';
import { signCheckpoint } from './checkpoint.js';
import { fatalSync, isNoSpace, syncPath, writeAll, writeFileDurable } from './fsutil.js';
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
  /** Durations for the metrics: each datasync, and each frame from append() to durable. */
  observe?: { fsync(seconds: number): void; commit(seconds: number): void };
  /** Called when a write first finds the disk full (with what failed), and again (undefined) when space returns. */
  onDiskFull?(problem: string | undefined): void;
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
  private undurable: { records: Sealed[]; at: number }[] = [];
  private lastCheckpointSize: number;
  private lastCheckpointAt = Date.now();
  private lastCommitAt = 0;
  private checkpointWrittenAt = 0;
  private durableThrough: number;
  private syncTimer: NodeJS.Timeout | undefined;
  private ckptTimer: NodeJS.Timeout | undefined;
  private failed: Error | undefined;
  private timedCheckpointQueued = false;
  /** A checkpoint being written behind the appends (at most one), until its file is durable. */
  private checkpointing: Promise<void> | undefined;
  private diskFull: string | undefined;
  private signer: Signer;

  constructor(
    private readonly opts: StoreOptions,
    private readonly state: StoreState,
    lastCheckpointSize: number,
  ) {
    this.lastCheckpointSize = lastCheckpointSize;
    this.signer = opts.signer;
    this.durableThrough = state.tree.size - 1;
    if (opts.fsync.mode === 'interval') this.syncTimer = setInterval(() => this.enqueue(() => this.sync()), opts.fsync.intervalMs).unref();
    this.ckptTimer = setInterval(
      () => {
        // While a write waits for space, one queued timed checkpoint is enough.
        if (this.timedCheckpointQueued) return;
        this.timedCheckpointQueued = true;
        void this.enqueue(() => {
          this.timedCheckpointQueued = false;
          return this.maybeCheckpoint(true);
        }).catch(() => {});
      },
      Math.min(opts.checkpoint.everyMs, 1000),
    ).unref();
  }

  get treeSize(): number {
    return this.state.tree.size;
  }
  /**
   * When records last became durable and the newest checkpoint (ms since epoch; 0 if never in this run),
   * and the seq through which every record is durable and its onCommit has run.
   */
  get progress(): { lastCommitAt: number; lastCheckpointAt: number; checkpointSize: number; durableThrough: number } {
    return {
      lastCommitAt: this.lastCommitAt,
      lastCheckpointAt: this.checkpointWrittenAt,
      checkpointSize: this.lastCheckpointSize,
      durableThrough: this.durableThrough,
    };
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

  /**
   * Key rotation: every checkpoint and manifest written after the operations queued
   * so far is signed with the new key.
   */
  setSigner(signer: Signer): Promise<void> {
    return this.enqueue(async () => {
      await this.checkpointing;
      this.signer = signer;
    });
  }

  /**
   * Writes the frames to the open segment (opening one first if none is open), in order, in one
   * writev, then makes them durable per the fsync policy. In batch mode the segment is open with
   * O_DSYNC, so the write itself returns once they are durable, as a write and then an fdatasync
   * would, in one system call: frames that queued up behind a slow one share the next.
   */
  append(...frames: Frame[]): Promise<void> {
    const at = performance.now();
    return this.enqueue(async () => {
      const seg = this.seg ?? (await this.openSegment(frames[0]!.records[0]!.seq));
      const t0 = performance.now();
      // A partly written run is cut back off before the retry: nothing torn stays on disk.
      await this.whenSpace(
        `segment ${seg.n}`,
        () =>
          writeAll(
            seg.fh,
            frames.map((f) => f.data),
            seg.bytes,
          ).catch(this.durableWriteFailed),
        () => seg.fh.truncate(seg.bytes),
      );
      if (this.opts.fsync.mode === 'batch') this.opts.observe?.fsync((performance.now() - t0) / 1000);
      for (const frame of frames) {
        seg.bytes += frame.data.length;
        seg.sha.update(frame.data);
        for (const r of frame.records) this.state.tree.append(r.hash);
        this.state.lastHash = frame.records[frame.records.length - 1]!.hash.toString('hex');
        this.undurable.push({ records: frame.records, at });
      }
      if (this.opts.fsync.mode !== 'interval') this.release();
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
    const path = join(this.opts.layout.segments, segmentName(n));
    const fh = await this.whenSpace(
      `segment ${n}`,
      () => open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (this.opts.fsync.mode === 'batch' ? constants.O_DSYNC : 0), 0o640),
      () => unlink(path).catch(() => {}),
    );
    await syncPath(this.opts.layout.segments).catch(fatalSync);
    this.seg = { n, fh, bytes: 0, openedAt: Date.now(), firstSeq, prev: this.state.lastHash, sha: createHash('sha256') };
    this.opts.log.info({ segment: n }, 'segment opened');
    return this.seg;
  }

  private async sync(): Promise<void> {
    if (this.seg && this.undurable.length) {
      const t0 = performance.now();
      await this.seg.fh.datasync().catch(fatalSync);
      this.opts.observe?.fsync((performance.now() - t0) / 1000);
    }
    this.release();
  }

  /** In batch mode the O_DSYNC write is the sync: its failure (other than no space) is a failed fsync, never retried. */
  private durableWriteFailed = (err: unknown): never => {
    if (this.opts.fsync.mode !== 'batch' || isNoSpace(err)) throw err;
    return fatalSync(err);
  };

  private release(): void {
    const done = this.undurable;
    this.undurable = [];
    const now = performance.now();
    for (const { records, at } of done) {
      this.opts.onCommit(records);
      this.opts.observe?.commit((now - at) / 1000);
    }
    if (done.length) {
      this.lastCommitAt = Date.now();
      const last = done[done.length - 1]!.records;
      this.durableThrough = last[last.length - 1]!.seq;
    }
  }

  private async maybeCheckpoint(timed: boolean): Promise<void> {
    const due = () => {
      const grown = this.state.tree.size - this.lastCheckpointSize;
      return grown > 0 && (grown >= this.opts.checkpoint.everyRecords || (timed && Date.now() - this.lastCheckpointAt >= this.opts.checkpoint.everyMs));
    };
    if (!due()) return;
    // One at a time: one due while another is still being written waits for it (and is due
    // again only if records enough came after it), so every N records still get theirs.
    if (this.checkpointing) {
      await this.checkpointing;
      if (!due()) return;
    }
    await this.sync();
    // Written behind the appends: its two fsyncs would otherwise hold every ack queued
    // behind them. It covers what is durable now; a failure is sticky like any other.
    const written = this.writeCheckpoint().finally(() => (this.checkpointing = undefined));
    this.checkpointing = written;
    written.catch((err: Error) => {
      this.failed ??= err;
    });
  }

  /** A checkpoint of every record, now (at a segment's close and at shutdown): only ever of durable records, so sync first whatever the policy. */
  private async checkpointNow(): Promise<void> {
    await this.checkpointing;
    const { tree } = this.state;
    if (tree.size === 0 || tree.size === this.lastCheckpointSize) return;
    await this.sync();
    await this.writeCheckpoint();
  }

  /** Signs the tree as it stands (the caller has made it durable) and writes the checkpoint file. */
  private async writeCheckpoint(): Promise<void> {
    const { tree } = this.state;
    const size = tree.size;
    const text = signCheckpoint(this.opts.origin, size, tree.root(), this.signer);
    const path = join(this.opts.layout.checkpoints, checkpointName(size));
    await this.whenSpace('checkpoint', () => writeFileDurable(path, text));
    this.lastCheckpointSize = size;
    this.lastCheckpointAt = this.checkpointWrittenAt = Date.now();
    this.opts.log.debug({ treeSize: size }, 'checkpoint written');
  }

  private async closeNow(): Promise<void> {
    const seg = this.seg;
    if (!seg) return;
    await this.sync();
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
    const path = join(this.opts.layout.segments, manifestName(seg.n));
    // The checkpoint and the manifest are files of their own: written side by side, the
    // appends waiting on this close wait for one file's fsyncs, not for both in turn.
    await Promise.all([this.checkpointNow(), seg.fh.close(), this.whenSpace('manifest', () => writeFileDurable(path, signManifest(manifest, this.signer)))]);
    this.opts.log.info({ segment: seg.n, records: manifest.records, bytes: seg.bytes }, 'segment closed');
  }

  /**
   * A full disk pauses the log rather than failing it: the failed write is
   * undone, and it is retried until space returns. Meanwhile the queue holds,
   * the pipeline fills and the sources stop reading, so producers wait and
   * nothing accepted is dropped. Any other error passes through.
   */
  private async whenSpace<T>(what: string, write: () => Promise<T>, undo: () => Promise<void> = async () => {}): Promise<T> {
    for (let wait = 50; ; wait = Math.min(wait * 2, 1000)) {
      try {
        const result = await write();
        if (this.diskFull) {
          this.opts.log.warn({ what, was: this.diskFull }, 'disk space returned: writing resumed');
          this.diskFull = undefined;
          this.opts.onDiskFull?.(undefined);
        }
        return result;
      } catch (err) {
        if (!isNoSpace(err)) throw err;
        await undo();
        if (!this.diskFull) {
          this.diskFull = `${(err as NodeJS.ErrnoException).code} writing ${what} in ${this.opts.layout.data}`;
          this.opts.log.error({ what, code: (err as NodeJS.ErrnoException).code }, 'disk full: input paused until space returns');
          this.opts.onDiskFull?.(this.diskFull);
        }
        await sleep(wait);
      }
    }
  }
}
