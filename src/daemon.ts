import { mkdir } from 'node:fs/promises';
import type { Config } from './config.js';
import { keysExist, loadSigner, pendingRotation, writeKeys } from './crypto/keyFiles.js';
import { startInputs, type Inputs } from './daemon/inputs.js';
import { buildPipeline, sealStartRecords, type Pipeline } from './daemon/pipeline.js';
import { Metrics } from './http/metrics.js';
import { HttpService } from './http/service.js';
import { startJobs } from './jobs/startJobs.js';
import { checkLogAtStart, startCheckEvent } from './jobs/startCheck.js';
import type { Jobs } from './jobs/scheduler.js';
import type { Logger } from './log.js';
import { startNotifier } from './service/notify.js';
import { Reloader, type ReloadOutcome } from './service/reload.js';
import { startSinks, type Sinks } from './sinks/startSinks.js';
import { watchForStall } from './stallWatch.js';
import { Status } from './status.js';
import { reportStatus } from './statusReport.js';
import { explainAccess } from './store/access.js';
import { layout } from './store/layout.js';
import { acquireLock } from './store/lock.js';

export interface Daemon {
  /** Stop accepting, drain and commit everything accepted, final checkpoint. */
  stop(): Promise<void>;
  /** Resolves when the pipeline ends (after stop), rejects on a fatal error such as a failed fsync. */
  done: Promise<void>;
  /** Health and live figures, for `sealog status`, systemd and the jobs. */
  status: Status;
  /** SIGHUP: `read` loads the config file again; an invalid one changes nothing. */
  reload(read: () => Config): ReloadOutcome;
}

export async function startDaemon(cfg: Config, log: Logger): Promise<Daemon> {
  try {
    return await start(cfg, log);
  } catch (err) {
    throw await explainAccess(err);
  }
}

/** What runs beside the pipeline once the inputs are up: each is started in `start` and stopped in `stopInOrder`. */
interface Services {
  inputs: Inputs;
  /** Readers of the committed log (DESIGN §11): started after the store, stopped after the pipeline drains. */
  sinks: Sinks;
  jobs: Jobs;
  /** The HTTP API (DESIGN §12), when enabled: after the control socket; stopped in two steps around the drain. */
  http: HttpService | undefined;
}

/** The order of start-up: keys, the write path (and sealog's own start-up records), inputs, sinks, jobs, HTTP. */
async function start(cfg: Config, log: Logger): Promise<Daemon> {
  const l = layout(cfg.data_dir);
  // The spool is made by its source (mode 1770: see sources/spoolDirs.ts).
  for (const dir of [l.data, l.segments, l.checkpoints]) await mkdir(dir, { recursive: true, mode: 0o750 });
  const releaseLock = await acquireLock(l.lock);
  const status = new Status();
  try {
    if (!(await keysExist(l))) {
      const { verifierKey } = await writeKeys(l, cfg.origin);
      log.info({ publicKey: verifierKey, dir: l.keys }, 'created signing and HMAC keys on first start');
    }
    // A rotation prepared by `sealog rotate-key` while the daemon was stopped: the new key
    // signs from the start (recovery included), and the transition is the first record.
    const rotation = await pendingRotation(l);
    const metrics = new Metrics();
    // Before anything is appended (recovery included): the log must verify where it ends.
    const atStart = await checkLogAtStart(cfg, l, rotation?.newKey, status, log);
    const p = await buildPipeline(cfg, l, rotation ? rotation.next : await loadSigner(l), rotation, status, log, metrics.observe);
    let inputs: Inputs;
    try {
      await sealStartRecords(p, cfg, l, rotation, log, atStart?.failure && startCheckEvent(atStart));
      inputs = await startInputs(cfg, l, p, status, log);
    } catch (err) {
      p.front.destroy();
      throw err;
    }
    reportStatus(status, { cfg, counts: p.counts, store: p.store, socket: inputs.socket, pipeline: p.stream, dedupe: p.dedupe !== undefined });
    let sinks: Sinks;
    try {
      sinks = await startSinks(cfg, l, () => p.store.progress.durableThrough, status, log);
    } catch (err) {
      await inputs.control.stop();
      for (const source of inputs.sources) await source.stopAccepting();
      throw err;
    }
    p.onCommit(() => sinks.wake());
    const jobs = startJobs(cfg, l, p.store, p.ingest.audit, status, log, inputs.control);
    metrics.attach({ counts: p.counts, status, treeSize: () => p.store.treeSize, progress: () => p.store.progress, segment: () => p.store.segment });
    const http = cfg.http.enabled
      ? await HttpService.start({
          cfg,
          layout: l,
          status,
          counts: p.counts,
          metrics,
          ingest: p.ingest,
          log,
          logState: () => ({ treeSize: p.store.treeSize, ...p.store.progress }),
          runJob: (name) => jobs.runNow(name),
        })
      : undefined;
    log.info({ socket: inputs.listening, data: cfg.data_dir, origin: cfg.origin, nextSeq: p.store.treeSize }, 'sealog ready');
    return running(cfg, p, { inputs, sinks, jobs, http }, status, releaseLock, log);
  } catch (err) {
    await releaseLock();
    throw err;
  }
}

/** The started daemon: systemd notification, SIGHUP reload, and the ordered stop. */
function running(cfg: Config, p: Pipeline, s: Services, status: Status, releaseLock: () => Promise<void>, log: Logger): Daemon {
  const progress = () => {
    const t = p.counts.totals();
    return { accepted: t.in, committed: t.committed + t.rejected, pending: t.pending, lastCommitAt: p.store.progress.lastCommitAt };
  };
  const notifier = startNotifier(s.inputs.addon.native?.notify, log, status, progress);
  const stopStallWatch = watchForStall(status, progress, cfg.limits.stall_seconds * 1000);
  const reloader = new Reloader(cfg, p.reload, log);
  status.section('reload', () => reloader.status);
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      notifier?.stopping();
      stopStallWatch();
      await stopInOrder(p, s, releaseLock);
      log.info({ treeSize: p.store.treeSize }, 'sealog stopped: all accepted input committed and checkpointed');
    })());
  return { stop, done: p.done, status, reload: (read) => reloader.reload(read) };
}

/**
 * The ordered stop: stop taking work, drain what was taken, then finish what waits on
 * the drain. Nothing accepted is dropped; the lock goes last, whatever happens.
 */
async function stopInOrder(p: Pipeline, { inputs, sinks, jobs, http }: Services, releaseLock: () => Promise<void>): Promise<void> {
  // Jobs first: a job still running may be waiting for its audit record to commit.
  await jobs.stop();
  // Stop taking work: new HTTP requests get 503 (those writing finish), then the sources.
  await http?.beginStop();
  for (const source of inputs.sources) await source.stopAccepting();
  p.ingest.end();
  await inputs.control.stop();
  try {
    // Drain: everything accepted is committed and checkpointed.
    await p.done;
    // Finish what waits on the drain: HTTP answers, the sinks' last records.
    await http?.finish();
    await sinks.stop();
  } finally {
    // The sources' last acks and saved progress; the lock goes last.
    for (const source of inputs.sources) await source.finish();
    await releaseLock();
  }
}
