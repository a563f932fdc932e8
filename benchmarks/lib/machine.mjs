// What a result was measured on: every figure states it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, freemem, loadavg, release, tmpdir, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export function machine() {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpuModel;
  } catch {
    /* not Linux */
  }
  let os = 'unknown';
  try {
    os = /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os;
  } catch {
    /* no os-release */
  }
  return {
    node: process.version,
    os,
    cpuModel,
    cores: cpus().length,
    kernel: release(),
    memGiB: +(totalmem() / 2 ** 30).toFixed(1),
    freeGiB: +(freemem() / 2 ** 30).toFixed(1),
    // Load average at start: other work on the machine skews every figure.
    loadavg: loadavg().map((x) => +x.toFixed(2)),
    tmpdir: tmpdir(),
    tmpFs: fsTypeOf(tmpdir()),
  };
}

/** One line: "2 cores AMD EPYC, kernel 6.1, Debian 12, node v20, /tmp on ext4, load 0.1 0.2 0.3". */
export function machineLine(m) {
  return `${m.cores} cores ${m.cpuModel}, ${m.memGiB} GiB, kernel ${m.kernel}, ${m.os}, node ${m.node}, temp dir ${m.tmpdir} on ${m.tmpFs}, load avg ${m.loadavg.join(' ')} at start`;
}

/** Filesystem type of the mount holding `path` (fsync on tmpfs proves nothing). */
export function fsTypeOf(path) {
  try {
    const mounts = readFileSync('/proc/mounts', 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    const p = resolve(path);
    let best = ['', '/', 'unknown'];
    for (const m of mounts) if ((p === m[1] || p.startsWith(m[1].endsWith('/') ? m[1] : m[1] + '/')) && m[1].length >= best[1].length) best = m;
    return best[2];
  } catch {
    return 'unknown';
  }
}

/** First line of `cmd --version` (or the given args), or undefined if it does not run. */
export function toolVersion(cmd, args = ['--version'], env) {
  try {
    const out = execFileSync(cmd, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: env ? { ...process.env, ...env } : undefined,
      timeout: 10_000,
    });
    return out
      .split('\n')
      .find((l) => l.trim())
      ?.trim();
  } catch {
    return undefined;
  }
}

/** True when the module at `metaUrl` is the script node was started with. */
export function isMain(metaUrl) {
  return !!process.argv[1] && metaUrl === pathToFileURL(resolve(process.argv[1])).href;
}
