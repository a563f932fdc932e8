import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { BIN, harness, ROOT, waitUntil } from './helpers/daemon.js';

// The README's walk-through, run as written (only `npx sealog` becomes this checkout's
// bin/sealog.js, and the directory is a fresh temp one) against a real daemon, each
// command's output checked against the `# …` lines that follow it.

const h = harness();

interface Step {
  command: string;
  /** The comment lines right after the command: each must appear in its output. */
  expect: string[];
  /** The comment before it asks to stop the daemon first. */
  stopFirst: boolean;
}

function walkThrough(): Step[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## A 60-second walk-through'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
  const steps: Step[] = [];
  let stopFirst = false;
  let current: Step | undefined;
  const lines = block.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') {
      current = undefined;
      continue;
    }
    if (line.startsWith('#')) {
      if (current) current.expect.push(line.replace(/^#\s?/, '').trim());
      else if (/stop the daemon/.test(line)) stopFirst = true;
      continue;
    }
    let command = line;
    while (command.endsWith('\\')) command = `${command}\n${lines[++i]}`;
    current = { command, expect: [], stopFirst };
    stopFirst = false;
    steps.push(current);
  }
  return steps;
}

test('the README walk-through runs as written and prints what it says', async () => {
  const steps = walkThrough();
  assert.ok(steps.length >= 5 && steps.some((s) => s.stopFirst), `${steps.length} steps read from the README`);
  const t = h.fresh();
  // Port 0: the HTTP API must not collide with anything else on the machine.
  const cfg = join(t.dir, 'test.yaml');
  writeFileSync(cfg, 'http:\n  listen: 127.0.0.1:0\n');
  const daemon = spawn(process.execPath, [BIN, 'start', '--config', cfg], { cwd: t.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  daemon.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((r) => daemon.on('exit', (code) => r(code)));
  try {
    await waitUntil(() => log.includes('sealog ready') || daemon.exitCode !== null, 'sealog ready');
    assert.ok(log.includes('sealog ready'), log);
    const script = ['exec 2>&1'];
    for (const [i, s] of steps.entries()) {
      if (s.stopFirst) script.push(`kill -TERM ${daemon.pid}; while kill -0 ${daemon.pid} 2>/dev/null; do sleep 0.05; done`);
      script.push(s.command.replaceAll('npx sealog', `${process.execPath} ${BIN}`), `__rc=$?; echo "@@step ${i} $__rc"; (exit $__rc)`);
    }
    // Not spawnSync: this process must stay free to reap the daemon when the script stops it.
    const bash = spawn('bash', ['-c', script.join('\n')], { cwd: t.dir, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    bash.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    assert.equal(await new Promise((r) => bash.on('exit', r)), 0, stdout);
    const outputs = stdout.split(/^@@step (\d+) (\d+)\n/m);
    for (const [i, s] of steps.entries()) {
      const at = outputs.indexOf(String(i), 1);
      assert.ok(at > 0, `step ${i} (${s.command}) ran`);
      const [output, rc] = [outputs[at - 1]!, Number(outputs[at + 1])];
      for (const e of s.expect) assert.ok(output.includes(e), `\`${s.command}\` should print ${JSON.stringify(e)}; it printed:\n${output}`);
      const failsOnPurpose = s.expect.includes('FAILED');
      assert.equal(rc, failsOnPurpose ? 1 : 0, `\`${s.command}\` exit status; output:\n${output}`);
    }
    assert.equal(await exited, 0, 'the daemon stopped cleanly');
  } finally {
    if (daemon.exitCode === null) daemon.kill('SIGKILL');
  }
});

/** GitHub's anchor for a heading. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

test('every relative link in the README and docs/ points at a file (and heading) that exists', () => {
  const files = [
    'README.md',
    'benchmarks/README.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  const broken: string[] = [];
  for (const f of files) {
    const text = readFileSync(join(ROOT, f), 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!;
      if (/^[a-z]+:/.test(target)) continue;
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const file = path ? resolve(dirname(join(ROOT, f)), path) : join(ROOT, f);
      if (!existsSync(file)) {
        broken.push(`${f}: ${target}`);
        continue;
      }
      if (anchor && file.endsWith('.md')) {
        const headings = [...readFileSync(file, 'utf8').matchAll(/^#{1,6} (.+)$/gm)].map((h) => slug(h[1]!));
        if (!headings.includes(anchor)) broken.push(`${f}: ${target} (no such heading)`);
      }
    }
  }
  assert.deepEqual(broken, []);
});
