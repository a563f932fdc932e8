import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { installationEvidence } from '../../src/validation/installation.js';
import { requirementIds, traceability, type TestResult } from '../../src/validation/matrix.js';
import { renderPackHtml } from '../../src/validation/packHtml.js';
import { URS } from '../../src/validation/urs.js';
import { ROOT } from '../helpers/daemon.js';

const urs = [
  { id: 'URS-X-010', source: 's', requirement: 'r1', feature: 'f1' },
  { id: 'URS-X-020', source: 's', requirement: 'r2', feature: 'f2' },
  { id: 'URS-X-030', source: 's', requirement: 'r3', feature: 'f3' },
];
const t = (name: string, result: TestResult['result']): TestResult => ({ name, nesting: 0, file: '/repo/dist/test/a.test.js', result, duration_ms: 12.4 });

test('[URS-GMP-010] the traceability matrix is generated from the requirement ids in the names of the tests that ran', () => {
  assert.deepEqual(requirementIds('[URS-P11-010] [URS-ALC-050] 5b. a record edited'), ['URS-P11-010', 'URS-ALC-050']);
  assert.deepEqual(requirementIds('no ids here [URS-]'), []);
  const { rows, unknown } = traceability(
    urs,
    [
      t('[URS-X-010] one', 'passed'),
      t('[URS-X-010] [URS-X-020] two', 'passed'),
      t('[URS-X-020] three', 'failed'),
      t('[URS-X-030] four', 'skipped'),
      t('[URS-Y-999] stray', 'passed'),
      t('untagged', 'passed'),
    ],
    (f) => f.replace('/repo/', ''),
  );
  assert.deepEqual(
    rows.map((r) => [r.id, r.result, r.tests.length]),
    [
      ['URS-X-010', 'passed', 2],
      ['URS-X-020', 'failed', 2],
      ['URS-X-030', 'untested', 1],
    ],
  );
  assert.deepEqual(rows[0]!.tests[0], { name: '[URS-X-010] one', file: 'dist/test/a.test.js', result: 'passed', duration_ms: 12 });
  assert.deepEqual(unknown, ['URS-Y-999'], 'an id no requirement has is reported, never silently dropped');
});

test('[URS-GMP-010] the URS: unique ids, each with a source, a requirement and the feature that meets it', () => {
  assert.equal(new Set(URS.map((r) => r.id)).size, URS.length);
  for (const r of URS) {
    assert.match(r.id, /^URS-[A-Z0-9]+-\d{3}$/);
    assert.ok(r.source && r.requirement && r.feature, r.id);
  }
  for (const prefix of ['URS-P11-', 'URS-ALC-', 'URS-GMP-'])
    assert.ok(
      URS.some((r) => r.id.startsWith(prefix)),
      prefix,
    );
});

test('[URS-GMP-040] installation evidence: versions, the SHA-256 of every installed file, the configuration validated', () => {
  const ev = installationEvidence(ROOT, join(ROOT, 'config/sealog.yaml'));
  assert.equal(ev.sealog_version, (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  assert.equal(ev.node, process.version);
  assert.deepEqual(ev.config, { file: 'config/sealog.yaml', valid: true });
  const bin = ev.files.find((f) => f.path === 'bin/sealog.js')!;
  assert.equal(
    bin.sha256,
    createHash('sha256')
      .update(readFileSync(join(ROOT, 'bin/sealog.js')))
      .digest('hex'),
  );
  assert.ok(
    ev.files.some((f) => f.path === 'dist/src/validation/installation.js'),
    'the compiled code is listed',
  );
  assert.ok(!ev.files.some((f) => f.path.endsWith('.map') || f.path.startsWith('dist/test')), 'only what is installed');
  assert.match(ev.files_sha256, /^[0-9a-f]{64}$/);
  assert.ok(ev.dependencies.pino && ev.dependencies.pino !== 'not installed');
  const dir = mkdtempSync(join(tmpdir(), 'sealog-iq-'));
  try {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'socket: { mode: "999" }\n');
    const invalid = installationEvidence(ROOT, bad).config;
    assert.equal(invalid.valid, false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("[URS-GMP-010] the pack's HTML states the verdict and every requirement with its tests and result", () => {
  const { rows } = traceability(urs, [t('[URS-X-010] one', 'passed')]);
  const html = renderPackHtml({
    generated_at: '2026-12-07T00:00:00Z',
    ok: false,
    run: { scope: 'every test', exit_code: 0, passed: 1, failed: 0, skipped: 0 },
    urs,
    matrix: rows,
    unknown_ids: [],
    installation: installationEvidence(ROOT, join(ROOT, 'config/sealog.yaml')),
  });
  assert.match(html, /NOT VALIDATED/);
  for (const r of rows) assert.ok(html.includes(r.id));
  assert.match(html, /<tr class="untested">/);
  assert.doesNotMatch(html, /<script|<link|src=/i);
});
