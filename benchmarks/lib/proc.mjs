// Process plumbing for the benchmarks: start/stop the daemon and the baseline,
// read a process's memory and CPU from /proc, and a socket client that sends a
// buffer as fast as the server takes it.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SEALOG_BIN = join(ROOT, 'bin', 'sealog.js');

// ---------------------------------------------------------------------------
// Cleanup registry: every temp dir and child started here is removed/killed on
// exit, including on an exception or Ctrl-C, so a failed run leaves nothing.
const tempDirs = new Set();
const children = new Map(); // pid -> ChildProcess

export function makeTempDir(prefix = 'sealog-bench-') {
  // Under os.tmpdir(): a short path keeps the socket path well under 107 bytes.
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir) {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

export function cleanupAll() {
  for (const [pid] of children) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  children.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

process.once('exit', cleanupAll);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    cleanupAll();
    process.exit(130);
  });
}

function track(child) {
  children.set(child.pid, child);
  child.once('exit', () => children.delete(child.pid));
  return child;
}

// ---------------------------------------------------------------------------
// /proc sampling (Linux only).

const CLK_TCK = 100; // USER_HZ; 100 on every mainstream Linux build

/** { rssKiB, hwmKiB, cpuSec } of a live pid, or undefined once it is gone. */
export function readProcStats(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const kib = (name) => {
      const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
      return m ? Number(m[1]) : undefined;
    };
    // Fields after the ")" that closes comm (which may contain spaces):
    // index 0 is field 3 (state), so utime (14) and stime (15) are 11 and 12.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuSec = (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
    const hwmKiB = kib('VmHWM');
    if (hwmKiB === undefined) return undefined; // a zombie has no memory fields
    return { rssKiB: kib('VmRSS'), hwmKiB, cpuSec };
  } catch {
    return undefined;
  }
}

/**
 * Polls a pid's /proc every `everyMs`. Keeps the highest VmRSS seen and the
 * last good reading, so figures survive the process exiting between polls.
 */
export function sampleProcess(pid, everyMs = 20) {
  let maxRssKiB = 0;
  let last;
  const poll = () => {
    const s = readProcStats(pid);
    if (!s) return;
    last = s;
    if (s.rssKiB > maxRssKiB) maxRssKiB = s.rssKiB;
  };
  poll();
  const timer = setInterval(poll, everyMs);
  timer.unref();
  return {
    /** Take a reading now (if alive) and return the figures so far. */
    snapshot() {
      poll();
      return last && { cpuSec: last.cpuSec, hwmKiB: Math.max(last.hwmKiB, maxRssKiB), maxRssKiB };
    },
    stop() {
      clearInterval(timer);
    },
  };
}

// ---------------------------------------------------------------------------
// Child processes.

function waitExit(child, timeoutMs) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pid ${child.pid} did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

/**
 * SIGTERM, then wait for exit. A process that does not exit in time is killed
 * (by pid) and reported as an error: a hang is a finding, not a result.
 */
export async function stopProcess(child, timeoutMs = 60_000) {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  try {
    return await waitExit(child, timeoutMs);
  } catch (err) {
    child.kill('SIGKILL');
    await waitExit(child, 5000).catch(() => {});
    throw err;
  }
}

/** Resolves once `test(text so far)` is true for the stream; rejects if the child exits first. */
function waitForOutput(child, stream, test, what, timeoutMs, signal) {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (d) => {
      text += d;
      if (test(text)) done();
    };
    const onExit = (code, signal) =>
      finish(new Error(`${what}: exited (code ${code}, signal ${signal}) before ready\n${stream === child.stderr ? text : child.stderrText()}`));
    const timer = setTimeout(() => finish(new Error(`${what}: not ready after ${timeoutMs} ms\n${child.stderrText()}`)), timeoutMs);
    const finish = (err) => {
      clearTimeout(timer);
      stream.off('data', onData);
      child.off('exit', onExit);
      err ? reject(err) : resolve();
    };
    const done = () => finish();
    stream.on('data', onData);
    child.once('exit', onExit);
    // Aborted (another signal won): detach quietly, never settle.
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      stream.off('data', onData);
      child.off('exit', onExit);
    });
  });
}

/** Spawns `node ...args` (or `opts.command ...args`), tracked for cleanup, keeping its stderr for reports. */
export function spawnTracked(args, { command = process.execPath, ...opts } = {}) {
  const child = track(spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], ...opts }));
  // Keep all stderr (bounded) for error reports; the daemon logs there.
  let err = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d) => {
    if (err.length < 1_000_000) err += d;
  });
  child.stdout?.setEncoding('utf8');
  child.stdout?.resume();
  child.stderrText = () => err;
  return child;
}

/** A YAML config (all values are plain scalars, so the emitter is trivial). */
function toYaml(obj, indent = '') {
  return Object.entries(obj)
    .map(([k, v]) => (v !== null && typeof v === 'object' ? `${indent}${k}:\n${toYaml(v, indent + '  ')}` : `${indent}${k}: ${JSON.stringify(v)}`))
    .join('\n');
}

/**
 * Starts `sealog start --config` in a fresh temp dir (pinned to `cpus` with taskset
 * when given). `config` is merged over the benchmark defaults. Resolves after "sealog ready" appears on stderr.
 */
export async function startSealog(config = {}, { readyTimeoutMs = 30_000, nodeArgs = [], cpus } = {}) {
  const dir = makeTempDir();
  const dataDir = join(dir, 'data');
  const socketPath = join(dir, 'sealog.sock');
  const cfg = {
    data_dir: dataDir,
    socket: { path: socketPath },
    spool: { dir: join(dir, 'spool') },
    log: { level: 'warn' },
    // The scheduled sweep seals a record of its own and reads segments mid-run; its cost is
    // measured on its own (sweep-impact.mjs), not by chance when a run crosses its schedule.
    integrity: { enabled: false },
    // The HTTP API is measured on its own (http.mjs, which sets its own listen address); on its
    // default port 8470 it would collide with any other sealog on the machine and fail the run.
    http: { enabled: false },
    ...config,
  };
  const configFile = join(dir, 'sealog.yaml');
  writeFileSync(configFile, toYaml(cfg) + '\n');
  // cpus (e.g. '0' or '0,1'): the daemon pinned with taskset, which execs node (same pid), so its threads and its
  // own view of the cores (front.workers: auto) are held to those cores.
  const args = [...nodeArgs, SEALOG_BIN, 'start', '--config', configFile];
  const child = cpus ? spawnTracked(['-c', cpus, process.execPath, ...args], { command: 'taskset' }) : spawnTracked(args);
  // "sealog ready" is logged at info level, so at log.level warn it never
  // appears; then the first successful connect to the socket is the signal.
  let readySignal;
  const probe = new AbortController();
  try {
    readySignal = await Promise.race([
      waitForOutput(child, child.stderr, (t) => t.includes('sealog ready'), 'sealog', readyTimeoutMs, probe.signal).then(() => 'stderr'),
      probeSocket(socketPath, probe.signal).then(() => 'socket-probe'),
    ]);
  } catch (err) {
    child.kill('SIGKILL');
    removeTempDir(dir);
    throw err;
  } finally {
    probe.abort();
  }
  return { child, dir, dataDir, socketPath, configFile, readySignal };
}

/** Resolves once a connection to `path` succeeds (closing it at once); polls every 20 ms until aborted. */
export async function probeSocket(path, signal) {
  while (!signal.aborted) {
    const ok = await new Promise((resolve) => {
      const s = connect(path);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  return new Promise(() => {}); // aborted: never wins the race
}

/**
 * Starts the baseline copier writing to a file in a fresh temp dir (or to
 * outFile, e.g. /dev/null). parse: it also JSON.parses every line (the
 * "JSON.parse of every line" reference).
 */
export async function startCopier({ readyTimeoutMs = 10_000, parse = false, outFile } = {}) {
  const dir = makeTempDir('sealog-copier-');
  const socketPath = join(dir, 'copier.sock');
  outFile ??= join(dir, 'out.ndjson');
  const child = spawnTracked([join(ROOT, 'benchmarks', 'baseline-copier.mjs'), ...(parse ? ['--parse'] : []), socketPath, outFile]);
  try {
    await waitForOutput(child, child.stdout, (t) => t.includes('ready'), 'baseline-copier', readyTimeoutMs);
  } catch (err) {
    child.kill('SIGKILL');
    removeTempDir(dir);
    throw err;
  }
  return { child, dir, socketPath, outFile };
}

/**
 * Starts a foreign server (`command ...args`, e.g. syslog-ng or rsyslogd in the
 * foreground) and resolves once `socketPath` accepts a connection. The caller
 * owns `dir` (removeTempDir) and stops the child with stopProcess.
 */
export async function startServer(command, args, { socketPath, env, readyTimeoutMs = 15_000, what = command } = {}) {
  const child = spawnTracked(args, { command, env: env ? { ...process.env, ...env } : process.env });
  const probe = new AbortController();
  try {
    await Promise.race([
      probeSocket(socketPath, probe.signal),
      new Promise((_, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${what}: socket ${socketPath} not ready after ${readyTimeoutMs} ms\n${child.stderrText()}`)),
          readyTimeoutMs,
        );
        probe.signal.addEventListener('abort', () => clearTimeout(timer));
        child.once('exit', (code, sig) => reject(new Error(`${what}: exited (code ${code}, signal ${sig}) before ready\n${child.stderrText()}`)));
        child.once('error', reject);
      }),
    ]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  } finally {
    probe.abort();
  }
  return child;
}

/**
 * Runs `command ...args` to completion, tracked; resolves { code, signal,
 * stdout, stderr, wallSec }. stdio may redirect stdout to a file descriptor.
 */
export function runCommand(command, args, { timeoutMs = 600_000, stdout = 'pipe', env } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = track(spawn(command, args, { cwd: ROOT, stdio: ['ignore', stdout, 'pipe'], env: env ? { ...process.env, ...env } : process.env }));
    let out = '';
    let err = '';
    child.stdout?.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')}: no exit after ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: out, stderr: err, wallSec: (performance.now() - t0) / 1000 });
    });
  });
}

/** Runs `node bin/sealog.js ...args` to completion; resolves { code, signal, stdout, stderr, wallSec }. */
export function runSealogCli(args, timeoutMs = 300_000) {
  return runCommand(process.execPath, [SEALOG_BIN, ...args], { timeoutMs });
}

// ---------------------------------------------------------------------------
// Client.

const WRITE_CHUNK = 64 * 1024;

/** Connects to a Unix socket; resolves with the connected socket. */
export function connectUnix(path) {
  return new Promise((resolve, reject) => {
    const sock = connect({ path, allowHalfOpen: true });
    sock.once('connect', () => {
      sock.off('error', reject);
      resolve(sock);
    });
    sock.once('error', reject);
  });
}

/**
 * Sends `buf` (complete NDJSON lines) on a connected socket in 64 KiB writes,
 * waiting for 'drain' whenever write() returns false, then ends the write side.
 *
 * acks: the handshake line goes first; resolves only once commit acks cover
 * all `lines` and the server has ended the connection. Returns counts so the
 * caller can check nothing was rejected or left unacknowledged.
 */
/**
 * Sends buf on sock (acks: handshake first, then counts the acks). With
 * `seconds`, sending stops at the first line end after that long: the client
 * sends flat out for a fixed time; sentBytes/sentLines say how much went.
 */
export function sendBuffer(sock, buf, { lines, acks = false, timeoutMs = 600_000, seconds } = {}) {
  return new Promise((resolve, reject) => {
    let committed = 0;
    let rejected = 0;
    let ackLines = 0;
    let pending = '';
    let sentAt;
    let sentBytes = buf.length;
    let sentLines = lines;
    let settled = false;
    const fail = (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      reject(err);
    };
    const timer = setTimeout(
      () => fail(new Error(`client: timed out after ${timeoutMs} ms (committed ${committed}/${lines}, rejected ${rejected})`)),
      timeoutMs,
    );
    sock.on('error', fail);
    sock.setEncoding('utf8');
    sock.on('data', (d) => {
      pending += d;
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        ackLines++;
        const a = JSON.parse(line);
        if (a.ack === 'commit') committed += a.count;
        else if (a.ack === 'rejected') rejected++;
      }
    });
    // The server ends its side after the last ack (acks) or when we end (no acks).
    sock.on('end', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const endedAt = performance.now();
      sock.end();
      if (acks && committed + rejected !== sentLines) {
        reject(new Error(`client: server ended the connection after ${committed} commits + ${rejected} rejects of ${sentLines} lines`));
      } else resolve({ committed, rejected, ackLines, sentAt, endedAt, sentBytes, sentLines });
    });

    const write = async () => {
      if (acks) sock.write('{"$sealog":{"ack":true}}\n');
      const until = seconds ? performance.now() + seconds * 1000 : Infinity;
      for (let off = 0; off < buf.length; off += WRITE_CHUNK) {
        if (performance.now() > until) {
          const nl = buf.indexOf(0x0a, off);
          sentBytes = nl < 0 ? buf.length : nl + 1;
          sentLines = countNewlines(buf.subarray(0, sentBytes));
          sock.write(buf.subarray(off, sentBytes));
          break;
        }
        if (!sock.write(buf.subarray(off, off + WRITE_CHUNK))) {
          await new Promise((r) => sock.once('drain', r));
          if (settled) return;
        }
      }
      sock.end();
      sentAt = performance.now();
    };
    write().catch(fail);
  });
}

/** Splits an NDJSON buffer into `parts` contiguous pieces on line boundaries. */
export function splitLines(buf, parts) {
  const out = [];
  let start = 0;
  for (let i = 1; i <= parts; i++) {
    let end = i === parts ? buf.length : Math.floor((buf.length * i) / parts);
    if (end < buf.length) end = buf.indexOf(0x0a, end) + 1 || buf.length;
    if (end < start) end = start;
    const piece = buf.subarray(start, end);
    out.push({ buf: piece, lines: countNewlines(piece) });
    start = end;
  }
  return out;
}

/** The first n lines of an NDJSON buffer (a view, not a copy), or all of it. */
export function headLines(buf, n) {
  let end = 0;
  for (let i = 0; i < n; i++) {
    const nl = buf.indexOf(0x0a, end);
    if (nl < 0) return buf;
    end = nl + 1;
  }
  return buf.subarray(0, end);
}

export function countNewlines(buf) {
  let n = 0;
  for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, i + 1)) n++;
  return n;
}

/** Runs a benchmark's main(): its exit code, or 1 on a throw; temp dirs and children are always cleaned up. */
export async function runMain(main) {
  try {
    process.exitCode = await main();
  } catch (err) {
    console.error(err);
    process.exitCode = 1;
  } finally {
    cleanupAll();
  }
}
