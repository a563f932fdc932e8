import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { installationEvidence, type InstallationEvidence } from './installation.js';
import { traceability, type MatrixRow, type TestResult } from './matrix.js';
import { renderPackHtml } from './packHtml.js';
import { URS, type Requirement } from './urs.js';

// The validation pack (GAMP 5): `npm run validation-pack` runs the tests that carry a
// requirement id in their name; `npm test` runs every test through here (--all), so CI
// writes the pack of the very run it reports. Written to validation/: urs.json, matrix.json,
// installation.json, validation.json (all of it), index.html, test-log.txt, test-results.jsonl.
// Exit 1 when a test failed or a requirement has no test that ran and passed.

export interface ValidationPack {
  generated_at: string;
  ok: boolean;
  run: { scope: string; exit_code: number | null; passed: number; failed: number; skipped: number };
  urs: Requirement[];
  matrix: MatrixRow[];
  unknown_ids: string[];
  installation: InstallationEvidence;
}

const ROOT = resolve(import.meta.dirname, '../../..');
const REPORTER = join(import.meta.dirname, 'reporter.js');

function runTests(all: boolean, out: string): Promise<number | null> {
  const args = [
    '--test',
    '--test-concurrency=1',
    ...(all ? [] : ['--test-name-pattern=URS-']),
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=spec',
    `--test-reporter-destination=${join(out, 'test-log.txt')}`,
    `--test-reporter=${REPORTER}`,
    `--test-reporter-destination=${join(out, 'test-results.jsonl')}`,
    join(ROOT, 'dist/test/'),
  ];
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    p.on('error', rej);
    p.on('exit', (code) => res(code));
  });
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { all: { type: 'boolean' }, out: { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean' } },
    strict: true,
  });
  if (values.help) {
    console.log(
      'node dist/src/validation/pack.js [--all] [--out DIR] [--config FILE]\n  runs the tests carrying [URS-…] ids (--all: every test) and writes the validation pack to DIR (default validation/)',
    );
    return 0;
  }
  const out = resolve(values.out ?? join(ROOT, 'validation'));
  mkdirSync(out, { recursive: true });
  const exit = await runTests(values.all ?? false, out);
  const results = readFileSync(join(out, 'test-results.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TestResult);
  const { rows, unknown } = traceability(URS, results, (f) => relative(ROOT, f));
  const count = (r: TestResult['result']) => results.filter((t) => t.result === r).length;
  const run = {
    scope: values.all ? 'every test' : 'the tests carrying requirement ids',
    exit_code: exit,
    passed: count('passed'),
    failed: count('failed'),
    skipped: count('skipped'),
  };
  const installation = installationEvidence(ROOT, resolve(values.config ?? join(ROOT, 'config/sealog.yaml')));
  const ok = exit === 0 && run.failed === 0 && unknown.length === 0 && rows.every((r) => r.result === 'passed') && installation.config.valid;
  const pack: ValidationPack = { generated_at: new Date().toISOString(), ok, run, urs: URS, matrix: rows, unknown_ids: unknown, installation };
  const json = (name: string, v: unknown) => writeFileSync(join(out, name), `${JSON.stringify(v, null, 2)}\n`);
  json('urs.json', URS);
  json('matrix.json', rows);
  json('installation.json', installation);
  json('validation.json', pack);
  writeFileSync(join(out, 'index.html'), renderPackHtml(pack));
  const open = rows.filter((r) => r.result !== 'passed');
  console.log(
    `\nvalidation pack: ${relative(process.cwd(), out) || '.'}/index.html — ${rows.length - open.length} of ${rows.length} requirements traced to tests that passed` +
      (open.length ? `; NOT: ${open.map((r) => `${r.id} (${r.result})`).join(', ')}` : '') +
      (unknown.length ? `; unknown ids in test names: ${unknown.join(', ')}` : '') +
      (installation.config.valid ? '' : `; config ${installation.config.file} INVALID`),
  );
  return ok ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
