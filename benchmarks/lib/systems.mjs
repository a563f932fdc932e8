// One measured run of one system, socket in -> file on disk. Every runner
// returns the same shape:
//   { wallSec, cpuSec, peakRssKiB, lines, lost, extra, storedBytes, check, ... }
// `check` is 'ok' or a 'FAIL: ...' text; a thrown error means the run did not
// complete (the caller records it as an error).
//
// ctx: { N, input (Buffer), parts (from splitLines), inputFile (the input on disk) }
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkOutput, countSegmentRecords, segmentFiles } from './check.mjs';
import { startPeer } from './peers.mjs';
import {
  connectUnix,
  makeTempDir,
  removeTempDir,
  runSealogCli,
  sampleProcess,
  sendBuffer,
  spawnTracked,
  startCopier,
  startSealog,
  stopProcess,
} from './proc.mjs';

/** The batch settings every benchmark states and passes explicitly (they are the defaults). */
export const SEALOG_BATCH = { max_records: 4096, max_bytes: 1048576, linger_ms: 2 };

/**
 * Connects every client, then sends its part. The clock starts after all
 * connections are up (connection setup is not timed); server CPU is counted
 * from the same moment, so process start-up is not charged to ingest.
 * With ctx.seconds each client sends for that long only; `sent` is what went
 * (each part cut at a line end), for the checks.
 */
export async function sendAll(socketPath, ctx, acks, sampler) {
  const { parts } = ctx;
  const socks = await Promise.all(parts.map(() => connectUnix(socketPath)));
  const cpu0 = sampler.snapshot()?.cpuSec ?? 0;
  const t0 = performance.now();
  const replies = await Promise.all(parts.map((p, i) => sendBuffer(socks[i], p.buf, { lines: p.lines, acks, seconds: ctx.seconds })));
  const sent = parts.map((p, i) => ({ buf: p.buf.subarray(0, replies[i].sentBytes), lines: replies[i].sentLines }));
  return { t0, cpu0, replies, sent, N: sent.reduce((a, p) => a + p.lines, 0), sentAt: performance.now() };
}

/** Output-file checks shared by every non-sealog system. */
function outputResult(ctx, outFile) {
  const out = readFileSync(outFile);
  const c = checkOutput(ctx.parts, out);
  return {
    lines: c.lines,
    lost: c.lost,
    extra: c.extra,
    storedBytes: out.length,
    checkMethod: c.method,
    check: c.ok ? 'ok' : `FAIL: ${c.note}`,
  };
}

/** The Node socket-to-file copier; parse: it JSON.parses every line too. */
export async function runCopier(ctx, { parse = false } = {}) {
  const srv = await startCopier({ parse });
  const sampler = sampleProcess(srv.child.pid);
  try {
    const { t0, cpu0, sent, N } = await sendAll(srv.socketPath, ctx, false, sampler);
    // Clients are done; the copier flushes, fsyncs and exits on SIGTERM. Its
    // exit is the point where all data is durable.
    const exit = await stopProcess(srv.child);
    const t1 = performance.now();
    const stats = sampler.snapshot(); // last reading taken while it was alive
    if (exit.code !== 0) throw new Error(`baseline-copier exited with ${exit.code ?? exit.signal}: ${srv.child.stderrText()}`);
    return {
      wallSec: (t1 - t0) / 1000,
      cpuSec: stats && stats.cpuSec - cpu0,
      peakRssKiB: stats?.hwmKiB,
      ...outputResult({ ...ctx, parts: sent, N }, srv.outFile),
    };
  } finally {
    sampler.stop();
    if (srv.child.exitCode === null) await stopProcess(srv.child, 5000).catch(() => {});
    removeTempDir(srv.dir);
  }
}

/** `cat input > output` plus one fsync: the file-to-file limit of this disk. */
export async function runCat(ctx) {
  const dir = makeTempDir('sealog-cat-');
  const outFile = join(dir, 'out.ndjson');
  const fd = openSync(outFile, 'w');
  try {
    const t0 = performance.now();
    const child = spawnTracked([ctx.inputFile], { command: 'cat', stdio: ['ignore', fd, 'pipe'] });
    // cat lives a fraction of a second: poll its /proc every 5 ms (CPU is
    // then exact to a tick or two, peak RSS is VmHWM).
    const sampler = sampleProcess(child.pid, 5);
    const exit = await new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    fsyncSync(fd);
    const t1 = performance.now();
    const stats = sampler.snapshot();
    sampler.stop();
    if (exit.code !== 0) throw new Error(`cat exited with ${exit.code ?? exit.signal}: ${child.stderrText()}`);
    return { wallSec: (t1 - t0) / 1000, cpuSec: stats?.cpuSec, peakRssKiB: stats?.hwmKiB, ...outputResult(ctx, outFile) };
  } finally {
    closeSync(fd);
    removeTempDir(dir);
  }
}

/**
 * Polls `file`'s size every 2 ms until it reaches `bytes`. Resolves
 * { t, complete }: t is when the last byte landed (or the last growth seen,
 * if the file stopped growing for stallMs short of the target).
 */
function waitForFileSize(file, bytes, stallMs) {
  return new Promise((resolve) => {
    let size = -1;
    let grewAt = performance.now();
    const poll = () => {
      let now;
      try {
        now = statSync(file).size;
      } catch {
        now = 0; // not created yet
      }
      const t = performance.now();
      if (now !== size) {
        size = now;
        grewAt = t;
      }
      if (size >= bytes) return done({ t, complete: true });
      if (t - grewAt > stallMs) return done({ t: grewAt, complete: false });
    };
    const timer = setInterval(poll, 2);
    const done = (r) => {
      clearInterval(timer);
      resolve(r);
    };
    poll();
  });
}

/** A syslog-ng or rsyslog variant (lib/peers.mjs). Done = every byte is in its output file. */
export async function runPeer(ctx, variant, { stallMs = 5000 } = {}) {
  const p = await startPeer(variant);
  const sampler = sampleProcess(p.child.pid);
  try {
    const { t0, cpu0 } = await sendAll(p.socketPath, ctx, false, sampler);
    // All bytes are in the server's hands; done when they are all in the file.
    const end = await waitForFileSize(p.outFile, ctx.input.length, stallMs);
    const stats = sampler.snapshot();
    const exit = await stopProcess(p.child, 30_000);
    if (exit.code !== 0) throw new Error(`${variant.name} exited with ${exit.code ?? exit.signal}: ${p.child.stderrText().slice(0, 2000)}`);
    const r = { wallSec: (end.t - t0) / 1000, cpuSec: stats && stats.cpuSec - cpu0, peakRssKiB: stats?.hwmKiB, ...outputResult(ctx, p.outFile) };
    if (!end.complete && r.check === 'ok') r.check = `FAIL: output stalled short of the input for ${stallMs} ms and was only complete after shutdown`;
    return r;
  } finally {
    sampler.stop();
    if (p.child.exitCode === null) await stopProcess(p.child, 5000).catch(() => {});
    p.cleanup();
  }
}

/** The daemon's stderr lines at pino level >= warn (40): none are expected in a clean run. */
export function daemonProblems(stderr) {
  return stderr.split('\n').filter((l) => {
    if (!l.trim()) return false;
    try {
      return JSON.parse(l).level >= 40;
    } catch {
      return true; // anything unstructured on stderr is worth a look
    }
  });
}

/**
 * sealog end to end, acks on: done when every commit ack is in (with
 * fsync.mode batch that means fsync'd). Checks: acks cover N with none
 * rejected, clean exit on SIGTERM, nothing logged at warn or above, and the
 * segments decode (lz4 CLI) to N records; verify: also `sealog verify --json`
 * with the pinned key. keep: leave the data dir for the caller (returned as
 * dataDir/dir; the caller removes it with removeTempDir). cpus: pinned with taskset (startSealog).
 */
export async function runSealog(ctx, { fsync = 'batch', verify = true, keep = false, nodeArgs = [], config = {}, cpus } = {}) {
  const d = await startSealog({ fsync: { mode: fsync }, batch: SEALOG_BATCH, ...config }, { nodeArgs, cpus });
  const sampler = sampleProcess(d.child.pid);
  let kept = false;
  try {
    const { t0, cpu0, replies, N } = await sendAll(d.socketPath, ctx, true, sampler);
    const t1 = performance.now();
    const stats = sampler.snapshot();
    const committed = replies.reduce((a, r) => a + r.committed, 0);
    const rejected = replies.reduce((a, r) => a + r.rejected, 0);

    const s0 = performance.now();
    const exit = await stopProcess(d.child, 120_000);
    const shutdownSec = (performance.now() - s0) / 1000;
    const problems = daemonProblems(d.child.stderrText());
    if (exit.code !== 0) throw new Error(`sealog exited with ${exit.code ?? exit.signal} after SIGTERM:\n${d.child.stderrText()}`);

    const failures = [];
    const segs = segmentFiles(d.dataDir);
    const storedBytes = segs.reduce((a, f) => a + statSync(f).size, 0);
    const rec = await countSegmentRecords(d.dataDir);
    if (rec.error) failures.push(`segments do not decode with lz4: ${rec.error}`);
    else if (rec.lines !== N) failures.push(`segments hold ${rec.lines} records, expected ${N}`);
    let verifySec;
    let verdict;
    if (verify) {
      const ver = await runSealogCli(['verify', '--data', d.dataDir, '--key', join(d.dataDir, 'keys', 'signing.pub'), '--json'], 1_200_000);
      verifySec = ver.wallSec;
      try {
        verdict = JSON.parse(ver.stdout);
      } catch {
        throw new Error(`sealog verify (exit ${ver.code}) printed no JSON verdict:\n${ver.stdout}${ver.stderr}`);
      }
      if (ver.code !== 0 || !verdict.ok) failures.push(`verify exit ${ver.code}: ${JSON.stringify(verdict.failure ?? verdict)}`);
      if (verdict.records !== N) failures.push(`verify counts ${verdict.records} records, expected ${N}`);
    }
    if (committed !== N) failures.push(`acks committed ${committed} of ${N}`);
    if (rejected !== 0) failures.push(`${rejected} lines rejected`);
    if (problems.length) failures.push(`daemon logged ${problems.length} warn/error line(s), first: ${problems[0].slice(0, 300)}`);
    kept = keep;
    return {
      wallSec: (t1 - t0) / 1000,
      cpuSec: stats && stats.cpuSec - cpu0,
      peakRssKiB: stats?.hwmKiB,
      lines: rec.lines,
      recordBytes: rec.bytes,
      lost: N - committed,
      extra: 0,
      storedBytes,
      segments: segs.length,
      shutdownSec,
      verifySec,
      verified: verify ? !!verdict?.ok : undefined,
      readySignal: d.readySignal,
      checkMethod: `acks + lz4 -dc record count${verify ? ' + sealog verify' : ''}`,
      check: failures.length ? `FAIL: ${failures.join('; ')}` : 'ok',
      ...(keep ? { dir: d.dir, dataDir: d.dataDir } : {}),
    };
  } finally {
    sampler.stop();
    if (d.child.exitCode === null) await stopProcess(d.child, 5000).catch(() => {});
    if (!kept) removeTempDir(d.dir);
  }
}

/**
 * sealog's spool: each client part becomes one file, written as name.jsonl.tmp
 * and renamed (the producer protocol that is picked up at once). Timed from the
 * first rename to the moment every file is in spool/done/, which sealog does only
 * after the file's last record and its `sealog.spool.ingested` record are
 * fsync'd. Writing the files is not timed (a producer's own cost).
 */
export async function runSealogSpool(ctx) {
  const d = await startSealog({ fsync: { mode: 'batch' }, batch: SEALOG_BATCH });
  const spool = join(d.dir, 'spool'); // the spool dir startSealog configures
  const done = join(spool, 'done');
  const sampler = sampleProcess(d.child.pid);
  try {
    ctx.parts.forEach((p, i) => writeFileSync(join(spool, `part${i}.jsonl.tmp`), p.buf));
    const cpu0 = sampler.snapshot()?.cpuSec ?? 0;
    const t0 = performance.now();
    ctx.parts.forEach((_, i) => renameSync(join(spool, `part${i}.jsonl.tmp`), join(spool, `part${i}.jsonl`)));
    while ((existsSync(done) ? readdirSync(done).length : 0) < ctx.parts.length) {
      if (d.child.exitCode !== null) throw new Error(`sealog exited during spool ingest:\n${d.child.stderrText()}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const t1 = performance.now();
    const stats = sampler.snapshot();
    const exit = await stopProcess(d.child, 120_000);
    if (exit.code !== 0) throw new Error(`sealog exited with ${exit.code ?? exit.signal} after SIGTERM:\n${d.child.stderrText()}`);
    const rec = await countSegmentRecords(d.dataDir);
    const expected = ctx.N + ctx.parts.length; // plus one `ingested` record per file
    const problems = daemonProblems(d.child.stderrText());
    const failures = [];
    if (rec.error) failures.push(`segments do not decode with lz4: ${rec.error}`);
    else if (rec.lines !== expected) failures.push(`segments hold ${rec.lines} records, expected ${expected}`);
    if (problems.length) failures.push(`daemon logged ${problems.length} warn/error line(s), first: ${problems[0].slice(0, 300)}`);
    return {
      wallSec: (t1 - t0) / 1000,
      cpuSec: stats && stats.cpuSec - cpu0,
      peakRssKiB: stats?.hwmKiB,
      lines: rec.lines - ctx.parts.length,
      lost: rec.error ? ctx.N : Math.max(0, expected - rec.lines),
      extra: 0,
      storedBytes: segmentFiles(d.dataDir).reduce((a, f) => a + statSync(f).size, 0),
      checkMethod: 'files in spool/done + lz4 -dc record count',
      check: failures.length ? `FAIL: ${failures.join('; ')}` : 'ok',
    };
  } finally {
    sampler.stop();
    if (d.child.exitCode === null) await stopProcess(d.child, 5000).catch(() => {});
    removeTempDir(d.dir);
  }
}
