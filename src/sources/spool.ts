import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from 'pino';
import { SpoolCode } from '../errors.js';
import { OwnType } from '../ownRecords.js';
import { syncPath } from '../store/fsutil.js';
import type { JsonObject } from '../types.js';
import type { Ingest } from './ingest.js';
import { LineSplitter } from './lineSplitter.js';
import { FileIngest, fingerprint } from './spoolFile.js';
import type { SpoolProgress } from './spoolProgress.js';

export interface SpoolOptions {
  dir: string;
  stabilityMs: number;
  onDone: 'move' | 'delete';
  duplicates: 'reject' | 'ingest';
  maxLineBytes: number;
  /** Files read at once: bounds open descriptors, and hides per-file I/O latency for many small files. */
  parallelFiles: number;
  /** The seq through which every record is durable and applied to the progress (the store's). */
  durableThrough(): number;
}

const READY = /\.jsonl$/;
const TMP = /\.jsonl\.tmp$/;
const CHUNK = 64 * 1024;
// At most this many records are replayed at start for spool progress (plus those since the last save).
const REPLAY_BOUND = 100_000;
// A periodic rescan catches what the watcher may miss (an overflowing inotify queue when thousands of files land at once).
const RESCAN_MS = 5000;
const PROGRESS_EVERY = 64 * 1024 * 1024;

/** Per-file progress, for the daemon's logs and status. */
export interface FileStatus {
  file: string;
  fp?: string;
  state: 'reading' | 'committing' | 'done' | 'rejected';
  bytes: number;
  size: number;
  lines: number;
}

/**
 * The spool directory source. Producers drop `name.jsonl` (by renaming
 * `name.jsonl.tmp`, picked up at once, or by writing it in place, picked up once
 * it has not changed for the stability window). One file is read at a time, in
 * bounded chunks, so neither memory nor open descriptors grow with file size or
 * count. Each line's record names the file's content fingerprint and line number:
 * the log itself is the durable progress, and a file leaves the spool only after
 * its last record and its `ingested` record are committed.
 */
export class SpoolSource {
  private watcher: FSWatcher | undefined;
  private queue: string[] = [];
  private known = new Set<string>(); // queued or being ingested
  private timers = new Map<string, NodeJS.Timeout>();
  private renamed = new Set<string>(); // names whose .tmp we saw: the rename protocol
  private workers = new Set<Promise<void>>();
  private stopped = false;
  private saveTimer: NodeJS.Timeout | undefined;
  private rescanTimer: NodeJS.Timeout | undefined;
  readonly files = new Map<string, FileStatus>();

  constructor(
    private readonly opts: SpoolOptions,
    private readonly ingest: Ingest,
    private readonly progress: SpoolProgress,
    private readonly log: Logger,
  ) {}

  private get doneDir() {
    return join(this.opts.dir, 'done');
  }
  private get rejectedDir() {
    return join(this.opts.dir, 'rejected');
  }

  async start(): Promise<void> {
    await mkdir(this.doneDir, { recursive: true, mode: 0o750 });
    await mkdir(this.rejectedDir, { recursive: true, mode: 0o750 });
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

  private async rescan(): Promise<void> {
    const names = await readdir(this.opts.dir).catch((err) => {
      this.log.error({ err, dir: this.opts.dir }, 'cannot list the spool directory');
      return [] as string[];
    });
    const present = new Set(names);
    for (const name of names) if (READY.test(name) && !this.known.has(name) && !this.timers.has(name)) this.seen(name);
    // Forget renames that never happened (the .tmp was deleted instead).
    for (const name of this.renamed) if (!present.has(`${name}.tmp`) && !present.has(name)) this.renamed.delete(name);
  }

  saveProgress(final = false): Promise<void> {
    // Records from other sources hold no spool progress, but the cache may pass them, so the
    // next start replays only what came after. Passing them is worth a save (two fsyncs) only
    // at stop or when the replay would grow long, not every second under socket load.
    const through = this.opts.durableThrough();
    if (final || through - this.progress.throughSeq >= REPLAY_BOUND) this.progress.advance(through);
    return this.progress.save();
  }

  /** Stops watching and reading; what was submitted still commits, the rest resumes at the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.saveTimer);
    clearInterval(this.rescanTimer);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
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
    if (this.renamed.delete(name)) return this.enqueue(name);
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
        if (Date.now() - st.mtimeMs >= this.opts.stabilityMs) this.enqueue(name);
        else this.settle(name);
      }, this.opts.stabilityMs),
    );
  }

  private enqueue(name: string): void {
    if (this.stopped || this.known.has(name)) return;
    clearTimeout(this.timers.get(name));
    this.timers.delete(name);
    this.known.add(name);
    this.queue.push(name);
    while (this.workers.size < this.opts.parallelFiles && this.queue.length) {
      const w: Promise<void> = this.work().finally(() => this.workers.delete(w));
      this.workers.add(w);
    }
  }

  private async work(): Promise<void> {
    while (this.queue.length && !this.stopped) {
      const name = this.queue.shift()!;
      try {
        await this.ingestFile(name);
      } catch (err) {
        // Never a crash and never a silent skip: the file stays, the error is logged with its name.
        this.log.error({ file: name, err }, 'spool file could not be ingested; it stays in the spool');
        this.known.delete(name);
      }
    }
  }

  private async ingestFile(name: string): Promise<void> {
    const path = join(this.opts.dir, name);
    const st = await lstat(path).catch(() => undefined);
    if (!st) return void this.known.delete(name); // gone before we began: nothing of it was read
    if (st.isSymbolicLink()) return this.refuse(name, undefined, SpoolCode.SYMLINK, 'a symbolic link; sealog reads only regular files in the spool');
    if (!st.isFile()) return this.refuse(name, undefined, SpoolCode.NOT_FILE, 'not a regular file');
    let fh: FileHandle;
    try {
      fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return void this.known.delete(name);
      return this.refuse(name, undefined, SpoolCode.UNREADABLE, `cannot open: ${code}`);
    }
    const status: FileStatus = { file: name, state: 'reading', bytes: 0, size: 0, lines: 0 };
    this.files.set(name, status);
    try {
      const { size, mtimeMs } = await fh.stat();
      status.size = size;
      const fp = await fingerprint(fh, size);
      if (fp === undefined) return this.refuse(name, undefined, SpoolCode.TRUNCATED, 'the file shrank while it was fingerprinted');
      status.fp = fp;
      const resumeAfter = this.progress.committed.get(fp);
      const done = this.progress.done.get(fp);
      if (resumeAfter === undefined && done) {
        const remnant = done.name === name && !(await exists(join(this.doneDir, name)));
        if (remnant) {
          // Ingested and sealed before a crash that came before the move: finish the move only.
          this.log.info({ file: name, fp }, 'spool file was already ingested; completing its move');
          return this.finish(name, status, 'done');
        }
        if (this.opts.duplicates === 'reject') {
          return this.refuse(name, fp, SpoolCode.DUPLICATE, `same content as ${done.name}, ingested at seq ${done.seq}`, { first_file: done.name, first_seq: done.seq });
        }
      }
      const ingest = new FileIngest(this, name, fp, size, resumeAfter ?? 0, status);
      this.log.info({ file: name, fp, size, resumeAfterLine: resumeAfter ?? 0 }, 'spool file picked up');
      const outcome = await this.read(fh, ingest, status);
      const now = await stat(path).catch(() => undefined);
      let problem: [string, string] | undefined;
      if (outcome === 'stopped') return;
      if (outcome === 'short') problem = [SpoolCode.TRUNCATED, `the file was truncated while being read (read ${status.bytes} of ${size} bytes)`];
      else if (!now) problem = [SpoolCode.VANISHED, 'the file was removed while being read; every line of it was read'];
      else if (now.size !== size || now.mtimeMs !== mtimeMs) {
        problem = [SpoolCode.CHANGED, `the file changed after pickup (size ${size} -> ${now.size}); only its first ${size} bytes were ingested`];
      }
      ingest.endOfInput(problem);
    } finally {
      await fh.close();
    }
  }

  /** Reads the first `size` bytes line by line into the pipeline, in 64 KiB chunks, with backpressure. */
  private async read(fh: FileHandle, f: FileIngest, status: FileStatus): Promise<'complete' | 'short' | 'stopped'> {
    const splitter = new LineSplitter(this.opts.maxLineBytes);
    let nextReport = PROGRESS_EVERY;
    for (let pos = 0; pos < f.size; ) {
      if (this.stopped) return 'stopped'; // resumes at the next start; not the file's fault
      // A fresh buffer per chunk: the lines framed from it keep referring to it.
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, f.size - pos));
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      status.bytes = pos;
      for (const l of splitter.push(buf.subarray(0, bytesRead))) {
        // Wait for room before each line, so the pipeline's entrance never holds more than its mark.
        if (this.ingest.full) await new Promise<void>((r) => this.ingest.whenReady(r));
        if (this.stopped || this.ingest.closed) return 'stopped';
        f.line(l.bytes, l.oversize);
      }
      if (pos >= nextReport) {
        nextReport += PROGRESS_EVERY;
        this.log.info({ file: f.name, bytes: pos, size: f.size, lines: status.lines }, 'spool file progress');
      }
    }
    if (this.stopped) return 'stopped';
    const last = splitter.end();
    if (last) f.line(last.bytes, last.oversize);
    return status.bytes < f.size ? 'short' : 'complete';
  }

  /** @internal a line for the pipeline (the reader has waited for room) */
  submit(raw: Parameters<Ingest['write']>[0]): void {
    this.ingest.write(raw);
  }

  /**
   * @internal writes sealog's own record about a file; `then` runs once it is durable. When
   * the daemon is already stopping, nothing: the next start sees the file again and finishes it.
   */
  record(type: OwnType, level: 'info' | 'warn', event: JsonObject, then: (seq: number) => void): void {
    this.ingest.audit(type, event, level).then(then, () => {});
  }

  /** @internal */
  get logger(): Logger {
    return this.log;
  }

  /** @internal */
  get spoolProgress(): SpoolProgress {
    return this.progress;
  }

  /** A file sealog will not (or cannot) ingest: sealed record of why, then rejected/. */
  private refuse(name: string, fp: string | undefined, code: string, reason: string, extra: JsonObject = {}): void {
    const status: FileStatus = this.files.get(name) ?? { file: name, state: 'rejected', bytes: 0, size: 0, lines: 0 };
    this.files.set(name, status);
    const type = code === SpoolCode.DUPLICATE ? OwnType.SPOOL_DUPLICATE : OwnType.SPOOL_FAILED;
    this.log.warn({ file: name, code, reason }, 'spool file rejected');
    this.record(type, 'warn', { file: name, ...(fp ? { fp } : {}), code, reason, ...extra }, () => {
      void this.finish(name, status, 'rejected');
    });
  }

  /** @internal moves (or deletes) a finished file and forgets it. */
  async finish(name: string, status: FileStatus, outcome: 'done' | 'rejected'): Promise<void> {
    const from = join(this.opts.dir, name);
    try {
      if (outcome === 'done' && this.opts.onDone === 'delete') await unlink(from);
      else await rename(from, join(outcome === 'done' ? this.doneDir : this.rejectedDir, name));
      await syncPath(this.opts.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.error({ file: name, err }, 'could not move a finished spool file');
    }
    status.state = outcome;
    this.known.delete(name);
    this.files.delete(name);
    this.log.info({ file: name, fp: status.fp, lines: status.lines, bytes: status.bytes, outcome }, 'spool file finished');
  }
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(() => true, () => false);
}
