import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

// Smoke test of the benchmarks (benchmarks/run-all.mjs, `npm run bench`): they
// run and print. No figure is asserted: nothing about speed is a test. Peers
// (syslog-ng, rsyslog) are used where installed and skipped where not; no apt.

const ROOT = resolve(import.meta.dirname, '../..');
const RUN_ALL = join(ROOT, 'benchmarks/run-all.mjs');

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [RUN_ALL, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', fail);
    child.once('close', (code) => done({ code, stdout, stderr }));
  });
}

const PEER_ROWS = ['syslog-ng default windows', 'syslog-ng tuned', 'syslog-ng tuned fsync(yes)', 'rsyslog asyncWriting off', 'rsyslog sync="on"'];
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('npm run bench -- --quick runs every benchmark and prints its tables, with sealog rows', { timeout: 170_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'sealog-bench-smoke-'));
  try {
    const r = await run(['--quick', '--no-install', '--out', out]);
    const all = r.stdout + r.stderr;
    assert.equal(r.code, 0, all);
    // The throughput table, with both sealog rows measured and checked.
    assert.match(r.stdout, /^system\s+fsync\s+events\/s\s+MB\/s\s+vs copier/m);
    assert.match(r.stdout, /^sealog, fsync per batch\s+per batch .*\d[\d,]*\s.*\bok\b/m);
    assert.match(r.stdout, /^sealog, fsync off\s+never .*\d[\d,]*\s.*\bok\b/m);
    assert.match(r.stdout, /^Node copier, splits lines\s/m);
    // Each peer is measured or skipped with a reason, never an error.
    for (const name of PEER_ROWS) assert.match(r.stdout, new RegExp(`^${escape(name)}\\s+\\S.*(\\bok\\b|skipped)`, 'm'), name);
    // The other sections' tables and the goals.
    for (const header of [
      /^offered events\/s\s+p50 ms/m,
      /^events sent to\s+workflow/m,
      /^tool\s+MB\/s/m,
      /^system\s+clients\s+peak RSS MiB/m,
      /^main thread: where \(self time\)/m,
      /^worker thread \d+ \(front\): where \(self time\)/m,
      /^goal\s+measured\s+target/m,
    ]) {
      assert.match(r.stdout, header);
    }
    // The result files.
    const json = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'));
    assert.ok(json.throughput.summary['sealog-batch'].eventsPerSec.median > 0);
    assert.ok(json.machine.cores > 0 && json.machine.cpuModel && json.machine.kernel);
    assert.match(readFileSync(join(out, 'latest.md'), 'utf8'), /^\| sealog, fsync per batch \|/m);
    assert.match(readFileSync(join(out, 'chart.svg'), 'utf8'), /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('peers that are not installed are skipped cleanly', { timeout: 120_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'sealog-bench-smoke-'));
  try {
    const r = await run(['--quick', '--no-install', '--only', 'throughput', '--events', '2000', '--out', out], {
      SEALOG_BENCH_SYSLOG_NG: 'none',
      SEALOG_BENCH_RSYSLOGD: 'none',
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const name of PEER_ROWS) assert.match(r.stdout, new RegExp(`^${escape(name)}\\s+\\S.*\\bskipped\\b`, 'm'), name);
    assert.match(r.stdout, /^sealog, fsync per batch\s+per batch .*\bok\b/m);
    assert.match(r.stdout, /peer not run/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
