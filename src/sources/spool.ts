import { lstat, readdir, stat, unlink } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from 'pino';
import { SpoolCode } from '../errors.js';
import { OwnType } from '../ownRecords.js';
import { syncPath } from '../store/fsutil.js';
import type { JsonObject } from '../types.js';
import type { Ingest } from './ingest.js';
import { coalesced } from './coalesced.js';
import { ensureOwnDir, finishCutMove, moveNoReplace, prepareSpoolDir } from './spoolDirs.js';
import { FileIngest, fingerprint, type FileHost, type FilePart, type FileStatus } from './spoolFile.js';
import { MovedFiles } from './spoolMoved.js';
import type { InputSource } from './source.js';
import { openSpoolFile } from './spoolOpen.js';
import { DOCUMENT, readPart, startsWith } from './spoolRead.js';
import { continuing, type SpoolProgress } from './spoolProgress.js';

export type { FileStatus } from './spoolFile.js';

export interface SpoolOptions {
  dir: string;
  stabilityMs: number;
  /** A file written in place stays in the spool until it has not changed for this long; what it gains meanwhile continues it. */
  idleMs: number;
  onDone: 'move' | 'delete';
  duplicates: 'reject' | 'ingest';
  maxLineBytes: number;
  /** Files read at once: bounds open descriptors, and hides per-file I/O latency for many small files. */
  parallelFiles: number;
  /** The seq through which every record is durable and applied to the progress (the store's). */
  durableThrough(): number;
}

const READY = /\.jsonl?$/;
const TMP = /\.jsonl?\.tmp$/;
// At most this many records are replayed at start for spool progress (plus those since the last save).
const REPLAY_BOUND = 100_000;
// A periodic rescan catches what the watcher may miss (an overflowing inotify queue when thousands of files land at once).
const RESCAN_MS = 5000;

/** A file written in place, ingested through `end`, waiting to be idle before it leaves the spool. */
interface Resting {
  ino: number;
  size: number;
  mtimeMs: number;
  end: number;
  seq: number;
  status: FileStatus;
}

/**
 * The spool directory source. Producers drop `name.jsonl` (by renaming
 * `name.jsonl.tmp`: complete, picked up at once and moved when sealed; or by
 * writing it in place: picked up once it has not changed for the stability
 * window, ingested through its last whole line, and moved only once it has been
 * idle for `idleMs`, what it gains meanwhile continuing it). Files are read in
 * bounded chunks, so neither memory nor open descriptors grow with file size or
 * count. Each line's record names the file's content fingerprint and line number:
 * the log itself is the durable progress, and a file leaves the spool only after
 * its last record and its `ingested` record are committed.
 */
export class SpoolSource implements InputSource {
  private watcher: FSWatcher | undefined;
  private queue: { name: string; complete: boolean }[] = [];
  private known = new Set<string>(); // queued, being ingested, or resting
  private timers = new Map<string, NodeJS.Timeout>();
  private renamed = new Set<string>(); // names whose .tmp we saw: the rename protocol
  private resting = new Map<string, Resting>();
  private restTimers = new Map<string, NodeJS.Timeout>();
  private moved: MovedFiles;
  private workers = new Set<Promise<void>>();
  /** One fsync of the spool directory covers every move made before it started: many small files need few. */
  private readonly syncSpool = coalesced(() => syncPath(this.opts.dir));
  private stopped = false;
  private saveTimer: NodeJS.Timeout | undefined;
  private rescanTimer: NodeJS.Timeout | undefined;
  readonly files = new Map<string, FileStatus>();
  /** Set when the spool is open to producers in a way sealog could not fix (no sticky bit on a folder it does not own). */
  warning: string | undefined;

  constructor(
    private readonly opts: SpoolOptions,
    private readonly ingest: Ingest,
    private readonly progress: SpoolProgress,
    private readonly log: Logger,
  ) {
    this.moved = new MovedFiles((event) => this.record(OwnType.SPOOL_GROWN_AFTER_MOVE, 'warn', event, () => {}));
  }

  private get doneDir() {
    return join(this.opts.dir, 'done');
  }
  private get rejectedDir() {
    return join(this.opts.dir, 'rejected');
  }

  async start(): Promise<void> {
    this.warning = await prepareSpoolDir(this.opts.dir);
    if (this.warning) this.log.warn({ dir: this.opts.dir }, this.warning);
    for (const dir of [this.doneDir, this.rejectedDir]) await this.ownDir(dir);
    // Only the directory is watched: every entry is `ignored`, so chokidar keeps no watcher per
    // file (10,000 waiting files are one inotify watch, not 10,000). Its raw events name the
    // entry that changed; we look at that entry ourselves.
    const dir = resolve(this.opts.dir);
    const watcher = watch(dir, { depth: 0, ignoreInitial: true, ignored: (p) => p !== dir, followSymlinks: false, atomic: false });
    watcher.on('raw', (_event, name) => typeof name === 'string' && name && this.seen(basename(name)));
    watcher.on('error', (err) => this.log.error({ err }, 'spool watcher error'));
    await new Promise<void>((res) => watcher.once('ready', () => res()));
    this.watcher = watcher;
    await this.rescan(); // files already present at start
    this.rescanTimer = setInterval(() => void this.rescan(), RESCAN_MS).unref();
    // The progress cache only shortens the replay at the next start; once a second is plenty.
    this.saveTimer = setInterval(() => this.saveProgress().catch((err) => this.log.warn({ err }, 'could not save spool progress')), 1000).unref();
  }

  /** The pipeline has drained: the progress cache is saved at the end of the log, so the next start replays nothing. */
  finish(): Promise<void> {
    return this.saveProgress(true);
  }

  /** done/ or rejected/, checked before each use: anything a producer planted in its place is moved aside and recorded. */
  private async ownDir(dir: string): Promise<void> {
    const planted = await ensureOwnDir(dir);
    if (!planted) return;
    this.log.error({ dir, moved_to: planted }, "something else stood in place of sealog's own spool folder; moved it aside");
    this.record(OwnType.SPOOL_PLANTED, 'warn', { folder: basename(dir), moved_to: basename(planted), reason: 'not a directory owned by sealog' }, () => {});
  }

  private async rescan(): Promise<void> {
    const names = await readdir(this.opts.dir).catch((err) => {
      this.log.error({ err, dir: this.opts.dir }, 'cannot list the spool directory');
      return [] as string[];
    });
    const present = new Set(names);
    for (const name of names) if (READY.test(name) && !this.known.has(name) && !this.timers.has(name)) this.seen(name);
    // Forget renames that never happened (the .tmp was deleted instead).
    for (const name of this.renamed) if (!present.has(`${name}.tmp`) && !present.has(name)) this.renamed.delete(name);
    await this.moved.check();
  }

  private saveProgress(final = false): Promise<void> {
    // Records from other sources hold no spool progress, but the cache may pass them, so the
    // next start replays only what came after. Passing them is worth a save (two fsyncs) only
    // at stop or when the replay would grow long, not every second under socket load.
    const through = this.opts.durableThrough();
    if (final || through - this.progress.throughSeq >= REPLAY_BOUND) this.progress.advance(through);
    return this.progress.save();
  }

  /** Stops watching and reading; what was submitted still commits, the rest resumes at the next start. */
  async stopAccepting(): Promise<void> {
    this.stopped = true;
    clearInterval(this.saveTimer);
    clearInterval(this.rescanTimer);
    for (const t of [...this.timers.values(), ...this.restTimers.values()]) clearTimeout(t);
    this.timers.clear();
    this.restTimers.clear();
    await this.watcher?.close();
    await Promise.all(this.workers);
  }

  private seen(name: string): void {
    if (this.stopped) return;
    if (TMP.test(name)) {
      this.renamed.add(name.slice(0, -'.tmp'.length));
      return;
    }
    if (!READY.test(name) || this.known.has(name)) return;
    // name.jsonl.tmp became name.jsonl: the producer says it is complete.
    if (this.renamed.delete(name)) return this.enqueue(name, true);
    this.settle(name);
  }

  /** Waits until the file has not changed for the stability window. */
  private settle(name: string): void {
    clearTimeout(this.timers.get(name));
    this.timers.set(
      name,
      setTimeout(async () => {
        this.timers.delete(name);
        const st = await lstat(join(this.opts.dir, name)).catch(() => undefined);
        if (!st) return;
        if (Date.now() - st.mtimeMs >= this.opts.stabilityMs) this.enqueue(name, false);
        else this.settle(name);
      }, this.opts.stabilityMs),
    );
  }

  private enqueue(name: string, complete: boolean): void {
    if (this.stopped || this.known.has(name)) return;
    clearTimeout(this.timers.get(name));
    this.timers.delete(name);
    this.known.add(name);
    this.queue.push({ name, complete });
    while (this.workers.size < this.opts.parallelFiles && this.queue.length) {
      const w: Promise<void> = this.work().finally(() => this.workers.delete(w));
      this.workers.add(w);
    }
  }

  private async work(): Promise<void> {
    while (this.queue.length && !this.stopped) {
      const { name, complete } = this.queue.shift()!;
      try {
        await this.ingestFile(name, complete);
      } catch (err) {
        // Never a crash and never a silent skip: the file stays, the error is logged with its name.
        this.log.error({ file: name, err }, 'spool file could not be ingested; it stays in the spool');
        this.known.delete(name);
      }
    }
  }

  /** `complete`: the producer renamed it into place (or it has been idle): read to its end, last line with or without a newline. */
  private async ingestFile(name: string, renamed: boolean): Promise<void> {
    const complete = renamed || DOCUMENT.test(name);
    const path = join(this.opts.dir, name);
    const opened = await openSpoolFile(path);
    if ('gone' in opened) return void this.known.delete(name); // gone before we began: nothing of it was read
    if ('code' in opened) {
      if (opened.code === SpoolCode.LINKED && (await this.finishCutMove(name))) return;
      return this.refuse(name, undefined, opened.code, opened.reason);
    }
    const { fh, st } = opened;
    const status: FileStatus = { file: name, state: 'reading', bytes: 0, size: 0, lines: 0 };
    this.files.set(name, status);
    try {
      const print = await fingerprint(fh, st.size, !complete);
      if (print === undefined) return this.refuse(name, undefined, SpoolCode.TRUNCATED, 'the file shrank while it was fingerprinted');
      const { fp, end } = print;
      const rest = { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, end, status };
      if (end === 0 && st.size > 0 && !complete) return this.rest(name, { ...rest, seq: -1 }); // no whole line yet
      Object.assign(status, { fp, size: end });
      let resumeAfter = this.progress.committed.get(fp);
      const done = this.progress.done.get(fp);
      if (resumeAfter === undefined && done) {
        if (done.name === name && (done.ino !== undefined ? done.ino === st.ino : !(await exists(join(this.doneDir, name))))) {
          // Ingested and sealed before (a crash came before the move, or it waits to be idle): finish it only.
          this.log.info({ file: name, fp }, 'spool file was already ingested');
          return this.settled(name, 'done', done.seq, complete ? undefined : { ...rest, seq: done.seq });
        }
        if (this.opts.duplicates === 'reject') {
          return this.refuse(name, fp, SpoolCode.DUPLICATE, `same content as ${done.name}, ingested at seq ${done.seq}`, {
            first_file: done.name,
            first_seq: done.seq,
          });
        }
      }
      // A file written in place that grew since its first part was sealed: only its new lines go in.
      const prev = this.progress.lastByName.get(name);
      let continues: string | undefined;
      if (prev?.bytes !== undefined && prev.lines !== undefined && prev.fp !== fp && prev.bytes < end && (await startsWith(fh, prev.fp, prev.bytes))) {
        continues = prev.fp;
        resumeAfter = Math.max(resumeAfter ?? 0, this.progress.committed.get(continuing(prev.fp)) ?? 0, prev.lines);
      }
      const part: FilePart = {
        name,
        fp,
        end,
        resumeAfter: resumeAfter ?? 0,
        owner: { uid: st.uid, gid: st.gid },
        ino: st.ino,
        ...(continues ? { continues } : {}),
      };
      const ingest = new FileIngest(this.host(name, status, complete ? undefined : rest), part, status);
      this.log.info({ file: name, fp, size: end, resumeAfterLine: part.resumeAfter, continues }, 'spool file picked up');
      const outcome = await readPart(fh, ingest, status, {
        complete,
        maxLineBytes: this.opts.maxLineBytes,
        ingest: this.ingest,
        stopped: () => this.stopped,
        log: this.log,
      });
      if (outcome === 'stopped') return;
      const now = await stat(path).catch(() => undefined);
      let problem: [string, string] | undefined;
      if (outcome === 'short') problem = [SpoolCode.TRUNCATED, `the file was truncated while being read (read ${status.bytes} of ${end} bytes)`];
      else if (!now) problem = [SpoolCode.VANISHED, 'the file was removed while being read; every line of it was read'];
      else if (now.size < end) problem = [SpoolCode.TRUNCATED, `the file was truncated after it was read (${end} -> ${now.size} bytes)`];
      else if (complete && (now.size !== st.size || now.mtimeMs !== st.mtimeMs)) {
        problem = [SpoolCode.CHANGED, `the file changed after pickup (size ${st.size} -> ${now.size}); only its first ${end} bytes were ingested`];
      }
      ingest.endOfInput(problem);
    } finally {
      await fh.close();
    }
  }

  /**
   * A file whose second name is in done/ or rejected/ is one whose move a crash cut short
   * (finishCutMove): it is finished. Those folders are sealog's own (0700, checked by ownDir
   * first), where no producer can make a name. Any other second name is a producer's, and refused.
   */
  private async finishCutMove(name: string): Promise<boolean> {
    for (const dir of [this.doneDir, this.rejectedDir]) await this.ownDir(dir);
    const movedTo = await finishCutMove(join(this.opts.dir, name), [this.doneDir, this.rejectedDir]);
    if (movedTo === undefined) return false;
    await this.syncSpool();
    this.known.delete(name);
    this.log.warn({ file: name, moved_to: relative(this.opts.dir, movedTo) }, 'spool file: finished a move that a crash cut short');
    return true;
  }

  /** What a file's ingest may do to the spool; `rest` for a file written in place, which stays until idle. */
  private host(name: string, status: FileStatus, rest: Omit<Resting, 'seq'> | undefined): FileHost {
    return {
      submit: (raw) => this.ingest.write(raw),
      record: (type, level, event, then) => this.record(type, level, event, then),
      settled: (outcome, seq) => void this.settled(name, outcome, seq, outcome === 'done' && rest ? { ...rest, status, seq } : undefined),
      progress: this.progress,
      log: this.log,
    };
  }

  /** Writes sealog's own record about a file; `then` runs once it is durable. When the daemon is stopping, nothing: the next start sees the file again. */
  private record(type: OwnType, level: 'info' | 'warn', event: JsonObject, then: (seq: number) => void): void {
    this.ingest.audit(type, event, level).then(then, () => {});
  }

  /** A file sealog will not (or cannot) ingest: sealed record of why, then rejected/. */
  private refuse(name: string, fp: string | undefined, code: string, reason: string, extra: JsonObject = {}): void {
    const status: FileStatus = this.files.get(name) ?? { file: name, state: 'rejected', bytes: 0, size: 0, lines: 0 };
    this.files.set(name, status);
    const type = code === SpoolCode.DUPLICATE ? OwnType.SPOOL_DUPLICATE : OwnType.SPOOL_FAILED;
    this.log.warn({ file: name, code, reason }, 'spool file rejected');
    this.record(type, 'warn', { file: name, ...(fp ? { fp } : {}), code, reason, ...extra }, (seq) => void this.settled(name, 'rejected', seq));
  }

  /** A file whose records are all durable: a file written in place rests until idle; any other leaves the spool now. */
  private async settled(name: string, outcome: 'done' | 'rejected', seq: number, rest?: Resting): Promise<void> {
    if (rest) return this.rest(name, { ...rest, seq });
    await this.leave(name, outcome, seq);
  }

  private rest(name: string, r: Resting): void {
    r.status.state = 'committing';
    this.resting.set(name, r);
    this.files.delete(name);
    this.restCheckLater(name);
  }

  private restCheckLater(name: string): void {
    if (this.stopped) return;
    this.restTimers.set(
      name,
      setTimeout(() => void this.restCheck(name), Math.min(this.opts.stabilityMs, this.opts.idleMs)),
    );
  }

  /** A resting file: grown (its new lines go in), idle long enough (it leaves), or gone. */
  private async restCheck(name: string): Promise<void> {
    this.restTimers.delete(name);
    const r = this.resting.get(name);
    if (!r || this.stopped) return;
    const st = await lstat(join(this.opts.dir, name)).catch(() => undefined);
    const wake = (complete: boolean) => {
      this.resting.delete(name);
      this.known.delete(name);
      if (complete) this.enqueue(name, true);
      else if (st) this.seen(name);
    };
    if (!st || st.ino !== r.ino || !st.isFile()) return wake(false); // gone or replaced: a new file is a new file
    if (st.size !== r.size || st.mtimeMs !== r.mtimeMs) return wake(false); // grown: settles, then continues
    if (Date.now() - st.mtimeMs < this.opts.idleMs) return this.restCheckLater(name);
    // Idle: an unterminated last line is the writer's last; read to the end, then it leaves.
    if (r.end < st.size) return wake(true);
    this.resting.delete(name);
    await this.leave(name, 'done', r.seq, { ino: r.ino, size: st.size });
  }

  /** Moves (or deletes) a finished file and forgets it. Never over another file, never into a folder a producer swapped. */
  private async leave(name: string, outcome: 'done' | 'rejected', seq: number, inPlace?: { ino: number; size: number }): Promise<void> {
    const from = join(this.opts.dir, name);
    try {
      // The name may hold another file by now (the producer replaced it): that one is new, and stays.
      if (inPlace && (await lstat(from).catch(() => undefined))?.ino !== inPlace.ino) throw Object.assign(new Error('replaced'), { code: 'ENOENT' });
      if (outcome === 'done' && this.opts.onDone === 'delete') await unlink(from);
      else {
        const dir = outcome === 'done' ? this.doneDir : this.rejectedDir;
        await this.ownDir(dir);
        const as = await moveNoReplace(from, dir, name, String(seq));
        // A writer that still holds the file open writes into the moved file: that growth is reported.
        if (inPlace) this.moved.watch(join(dir, as), { file: name, moved_to: join(basename(dir), as), ...inPlace });
      }
      await this.syncSpool();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.error({ file: name, err }, 'could not move a finished spool file');
    }
    const status = this.files.get(name);
    this.known.delete(name);
    this.files.delete(name);
    this.log.info({ file: name, fp: status?.fp, lines: status?.lines, bytes: status?.bytes, outcome }, 'spool file finished');
  }
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}
