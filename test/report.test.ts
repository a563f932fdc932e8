import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, cliAsync, client, harness, readRecords, ROOT, waitUntil, type Running, type Tmp } from './helpers/daemon.js';
import { pdfText, printToPdf } from './helpers/pdf.js';

// `sealog report` on logs whose contents the test knows: every figure is compared with
// an independent count of the records decoded by the lz4 CLI.

const { fresh, start } = harness();
const STANDARDS = ['part11', 'annex11', 'alcoa', 'hipaa', 'soc2', 'gdpr'] as const;
const SMALL = 'batch: { max_records: 8, linger_ms: 1 }\nsegment: { max_bytes: 4096 }\ncheckpoint: { every_records: 20 }\n';
const ANN = ['ann@example.com', 'Ann@Example.COM'];

type Rec = Record<string, any>;
type Report = Record<string, any>;

interface Known {
  t: Tmp;
  /** A time between the two bursts: records of the first are before it. */
  split: string;
  annSent: number;
}

function shapes(): Rec[] {
  return readFileSync(join(ROOT, 'test/fixtures/event-shapes.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Rec);
}

async function burst(t: Tmp, lines: string[]): Promise<void> {
  const c = await client(t.socket);
  await c.send(lines);
  const accepted = lines.length;
  await c.waitFor(() => c.committed + c.acks.filter((a) => a.ack === 'rejected').length >= accepted, `${accepted} acks`);
  await c.end();
}

/** Two bursts of known events, over a second apart, with bad lines and personal data among them. */
async function knownLog(): Promise<Known> {
  const t = fresh();
  const d = await start(t, SMALL);
  const first: string[] = [];
  let annSent = 0;
  for (let i = 0; i < 40; i++) {
    const s = shapes()[i % shapes().length]!;
    const withAnn = i % 7 === 0;
    if (withAnn) annSent++;
    first.push(
      JSON.stringify({ ...s, n: i, ...(withAnn ? { contact: { email: ANN[i % 2] } } : i % 5 === 0 ? { contact: { email: `user${i}@example.org` } } : {}) }),
    );
  }
  first.push('{not json', '[1,2]', '"a string"');
  await burst(t, first);
  const end = Date.now();
  await waitUntil(() => Date.now() > end + 1300, 'the clock to move past the first burst');
  const split = new Date(end + 650).toISOString();
  const second = Array.from({ length: 25 }, (_, i) =>
    JSON.stringify({
      event_type: 'ValidationEvent',
      agent_id: `agent-${i % 3}`,
      timestamp: new Date().toISOString(),
      level: i % 4 === 0 ? 'error' : 'info',
      k: i,
    }),
  );
  second.push('{"half":');
  await burst(t, second);
  assert.equal(await d.stop(), 0);
  return { t, split, annSent };
}

let known: Promise<Known> | undefined;
const log = () => (known ??= knownLog());

/** The counts as the report states them, recomputed here from lz4 -dc output. */
function independent(records: Rec[], from?: string, to?: string) {
  const inPeriod = records.filter((r) => (!from || r.ts >= from) && (!to || r.ts < to));
  const count = (key: (r: Rec) => string, rs = inPeriod) => rs.reduce<Record<string, number>>((c, r) => ((c[key(r)] = (c[key(r)] ?? 0) + 1), c), {});
  const rejected = inPeriod.filter((r) => r.stream === 'rejected');
  const redactions = inPeriod.flatMap((r) => r.redactions as { kind: string }[]);
  return {
    counts: {
      records: inPeriod.length,
      by_stream: count((r) => r.stream),
      by_type: count((r) => r.type),
      by_level: count((r) => r.level),
      by_source: count((r) => r.source.kind),
      rejected: { total: rejected.length, by_code: count((r) => r.event.code, rejected) },
    },
    redactions: {
      records: inPeriod.filter((r) => r.redactions.length).length,
      total: redactions.length,
      by_kind: redactions.reduce<Record<string, number>>((c, x) => ((c[x.kind] = (c[x.kind] ?? 0) + 1), c), {}),
    },
  };
}

async function report(t: Tmp, args: string[]): Promise<{ code: number | null; json: Report; stderr: string }> {
  const r = await cliAsync(['report', '--data', t.data, '--key', t.pub, '--format', 'json', ...args]);
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  return { code: r.code, json: JSON.parse(r.stdout) as Report, stderr: r.stderr };
}

const clause = (r: Report, id: string) => (r.clauses as Rec[]).find((c) => c.id === id)!;

test('[URS-P11-020] [URS-ALC-060] [URS-ALC-010] report: every count equals an independent count of the lz4 -dc records, for each standard', async () => {
  const { t } = await log();
  const records = readRecords(t);
  const want = independent(records);
  assert.ok(want.counts.rejected.total === 4 && want.redactions.total > 0 && Object.keys(want.counts.by_stream).length >= 3, 'the log has variety');
  for (const standard of STANDARDS) {
    const { code, json } = await report(t, ['--standard', standard]);
    assert.equal(code, 0, standard);
    assert.equal(json.standard, standard);
    assert.deepEqual(Object.keys(json).slice(0, 9), ['standard', 'title', 'period', 'log', 'integrity', 'counts', 'clauses', 'signatures', 'generated']);
    assert.deepEqual(json.counts, want.counts, standard);
    assert.deepEqual(json.redactions, want.redactions, standard);
    assert.equal(json.integrity.verdict, 'intact');
    assert.equal(json.integrity.scope, 'whole log');
    assert.equal(json.integrity.records_checked, records.length);
    assert.equal(json.integrity.key_pinned, true);
    assert.equal(json.log.tree_size, records.length);
    assert.equal(json.log.checkpoint.tree_size, records.length, 'the report states the checkpoint it covers: the final one');
    assert.equal(json.coverage.first.seq, 0);
    assert.equal(json.coverage.last.seq, records.length - 1);
    const producers = records.filter((r) => r.source.kind !== 'sealog' && r.stream !== 'rejected');
    assert.equal(json.attributability.records, producers.length);
    assert.equal(json.attributability.who, producers.filter((r) => r.meta?.alcoa?.who !== undefined).length);
    assert.ok(json.clauses.length >= 8, `${standard}: ${json.clauses.length} clauses`);
    for (const c of json.clauses as Rec[]) {
      assert.ok(['met', 'partial', 'not_met', 'not_applicable'].includes(c.status), `${standard} ${c.id}`);
      assert.ok(c.evidence.length > 0 && c.title, `${standard} ${c.id} has a title and evidence`);
    }
    assert.equal(
      Object.values(json.summary as Record<string, number>).reduce((a, b) => a + b, 0),
      json.clauses.length,
    );
  }
  const p11 = (await report(t, ['--standard', 'part11'])).json;
  assert.equal(clause(p11, '11.10(i)').status, 'not_applicable');
  assert.match(clause(p11, '11.10(i)').evidence[0], /training records: not_applicable/);
  assert.equal(clause(p11, '11.10(a)').status, 'met');
  assert.equal(clause(p11, '11.50').status, 'not_applicable', 'no signatures in this log');
});

test('[URS-ALC-030] [URS-ALC-090] report --from/--to counts only the period (from <= ts < to) and lists the gap in ingest', async () => {
  const { t, split } = await log();
  const records = readRecords(t);
  const before = await report(t, ['--standard', 'alcoa', '--to', split, '--gap', '1']);
  const after = await report(t, ['--standard', 'alcoa', '--from', split, '--gap', '1']);
  assert.deepEqual(before.json.counts, independent(records, undefined, split).counts);
  assert.deepEqual(after.json.counts, independent(records, split).counts);
  assert.ok(before.json.counts.records > 40 && after.json.counts.records >= 26);
  assert.equal(before.json.counts.records + after.json.counts.records, records.length);
  assert.deepEqual(after.json.period, { from: split, to: null });
  // The same period through sealog query: the same records, stream by stream.
  const queried = (extra: string[]) =>
    cli(['query', '--data', t.data, '--since', split, '--format', 'jsonl', ...extra])
      .stdout.split('\n')
      .filter(Boolean).length;
  assert.equal(queried([]), after.json.counts.records);
  for (const [stream, n] of Object.entries(after.json.counts.by_stream as Record<string, number>))
    assert.equal(queried(['--stream', stream]), n, `query --stream ${stream}`);
  const whole = await report(t, ['--standard', 'alcoa', '--gap', '1']);
  assert.equal(whole.json.coverage.gaps.length, 1, JSON.stringify(whole.json.coverage));
  assert.equal(whole.json.coverage.gaps[0].after_seq, before.json.coverage.last.seq);
  assert.ok(whole.json.coverage.gaps[0].seconds >= 1);
  assert.match(clause(whole.json, 'C').evidence.join(' '), /1 gap\(s\) in ingest longer than 1 s/);
});

test('[URS-P11-010] [URS-ALC-050] report on a log with a tampered segment: integrity failed, the clauses resting on it not_met, exit 1', async () => {
  const { t } = await log();
  const c = fresh();
  cpSync(t.data, c.data, { recursive: true });
  const seg = join(
    c.data,
    'segments',
    readdirSync(join(c.data, 'segments'))
      .filter((f) => f.endsWith('.seg.lz4'))
      .sort()[1]!,
  );
  const buf = readFileSync(seg);
  buf[Math.floor(buf.length / 2)]! ^= 0x20;
  writeFileSync(seg, buf);
  const affected: Record<string, string[]> = {
    part11: ['11.10(a)', '11.10(b)', '11.10(c)', '11.10(e)'],
    annex11: ['4', '7.1', '9', '13'],
    alcoa: ['A+', 'C+', 'O', 'E'],
    hipaa: ['164.312(b)', '164.312(c)(1)', '164.312(c)(2)'],
    soc2: ['PI1.3', 'PI1.5', 'CC7.2'],
    gdpr: ['Art. 5(1)(f)', 'Art. 32'],
  };
  for (const standard of STANDARDS) {
    const { code, json } = await report({ ...c, pub: join(c.data, 'keys/signing.pub') }, ['--standard', standard]);
    assert.equal(code, 1, `${standard}: exit 1 when integrity failed`);
    assert.equal(json.integrity.verdict, 'failed');
    assert.equal(json.reading.complete, false, 'the counts say they stop at the damage');
    assert.match(json.integrity.failure.code, /^V_/);
    for (const id of affected[standard]!) assert.equal(clause(json, id).status, 'not_met', `${standard} ${id}`);
    assert.ok(json.summary.not_met >= affected[standard]!.length);
  }
});

test('[URS-P11-030] report: a period with a retention removal and a legal hold shows both', async () => {
  const t = fresh();
  const cfg =
    'batch: { max_records: 5, linger_ms: 1 }\nsegment: { max_bytes: 4096, max_age_seconds: 1 }\ncheckpoint: { every_records: 25 }\n' +
    'retention: { enabled: true, schedule: "* * * * * *", streams: { application: 2s, audit: 1h } }\nrequests: { schedule: "* * * * * *" }\n' +
    'integrity: { schedule: "*/2 * * * * *" }\n';
  const d: Running = await start(t, cfg);
  const held = cli(['hold', '--data', t.data, '--tenant', 't-held', '--reason', 'litigation 2026-17']);
  assert.equal(held.code, 0, held.stderr);
  const id = held.stdout.trim();
  await waitUntil(() => d.stderr().includes('legal hold placed'), 'the hold to be sealed');
  await burst(
    t,
    Array.from({ length: 90 }, (_, i) => JSON.stringify({ msg: `event ${i} ${'x'.repeat(60)}`, tenant_id: i < 30 ? 't-held' : 'other' })),
  );
  await waitUntil(
    () => (d.stderr().match(/segment removed by retention/g) ?? []).length >= 2 && d.stderr().includes('kept by a legal hold'),
    'removals and a held segment',
    30_000,
  );
  const sweepsSealed = () =>
    cli(['query', '--data', t.data, '--type', 'sealog.integrity.sweep', '--format', 'jsonl']).stdout.split('\n').filter(Boolean).length;
  await waitUntil(() => sweepsSealed() >= 1, 'an integrity sweep to be sealed', 30_000);
  assert.equal(await d.stop(), 0);
  const records = readRecords(t);
  const removals = records.filter((r) => r.type === 'sealog.retention.removed');
  const { code, json } = await report(t, ['--standard', 'part11']);
  assert.equal(code, 0, JSON.stringify(json.integrity.failure));
  assert.deepEqual(json.counts, independent(records).counts, 'counts are of the records still present');
  assert.equal(json.reading.complete, true, 'the query engine reads across the segments retention removed');
  for (const extra of [[], ['--reverse']])
    assert.equal(
      cli(['query', '--data', t.data, '--format', 'jsonl', ...extra])
        .stdout.split('\n')
        .filter(Boolean).length,
      records.length,
      `sealog query ${extra.join(' ')}`,
    );
  assert.deepEqual(
    json.retention.removals.map((r: Rec) => [r.seq, r.segment]),
    removals.map((r) => [r.seq, r.event.segment]),
  );
  assert.equal(json.integrity.removed_segments.length, removals.length);
  const sweeps = records.filter((r) => r.type === 'sealog.integrity.sweep');
  assert.deepEqual(
    [json.sweeps.total, json.sweeps.passed, json.sweeps.failed],
    [sweeps.length, sweeps.filter((r) => r.event.ok).length, sweeps.filter((r) => !r.event.ok).length],
  );
  assert.equal(clause(json, '11.10(e)').status, 'met');
  assert.deepEqual(
    json.retention.holds_placed.map((h: Rec) => h.id),
    [id],
  );
  assert.deepEqual(
    json.retention.active_holds.map((h: Rec) => h.id),
    [id],
  );
  const evidence = clause(json, '11.10(c)').evidence.join('\n');
  assert.match(evidence, new RegExp(`${removals.length} segment removal\\(s\\) in the period: segment ${removals[0]!.event.segment} `));
  assert.match(evidence, new RegExp(`1 legal hold\\(s\\) placed, 0 released in the period; 1 active now: ${id}`));
  assert.equal(records.filter((r) => r.source.kind === 'socket' && r.event.tenant_id === 't-held').length, 30, 'the held records are all still there');
});

test("[URS-P11-020] [URS-ALC-020] report HTML: self-contained, printed to A4 PDF by headless Chromium, its text has the JSON's numbers", async () => {
  const { t } = await log();
  const html = join(t.dir, 'part11.html');
  const r = cli(['report', '--data', t.data, '--key', t.pub, '--standard', 'part11', '--out', html]);
  assert.equal(r.code, 0, r.stderr);
  const json = (await report(t, ['--standard', 'part11'])).json;
  const page = readFileSync(html, 'utf8');
  assert.doesNotMatch(page, /<script|<link|@import|url\(|src=/i, 'no scripts and no external assets');
  const pdf = join(t.dir, 'part11.pdf');
  const { requests } = await printToPdf(html, pdf);
  assert.deepEqual(requests, [`file://${html}`], 'the page loads nothing but itself');
  const info = spawnSync('pdfinfo', [pdf], { encoding: 'utf8' }).stdout;
  assert.match(info, /Page size:\s+59[45]\.\d+ x 841\.\d+ pts \(A4\)/);
  const { text } = pdfText(pdf);
  const flat = text.replace(/\s+/g, ' ');
  assert.match(flat, new RegExp(`Records: ${json.counts.records}\\b`));
  const s = json.summary;
  assert.match(
    flat,
    new RegExp(`\\b${s.met} ${s.partial} ${s.not_met} ${s.not_applicable} ${json.counts.records} ${json.counts.rejected.total} ${json.signatures.length}\\b`),
    'the summary row',
  );
  for (const [stream, n] of Object.entries(json.counts.by_stream as Record<string, number>))
    assert.match(text, new RegExp(`\\b${stream}\\s+${n}\\b`), `stream ${stream}`);
  for (const [level, n] of Object.entries(json.counts.by_level as Record<string, number>))
    assert.match(text, new RegExp(`\\b${level}\\s+${n}\\b`), `level ${level}`);
  for (const [code, n] of Object.entries(json.counts.rejected.by_code as Record<string, number>))
    assert.match(text, new RegExp(`${code}\\s+${n}\\b`), `reject code ${code}`);
  for (const [kind, n] of Object.entries(json.redactions.by_kind as Record<string, number>))
    assert.match(text, new RegExp(`${kind}\\s+${n}\\b`), `redaction kind ${kind}`);
  assert.match(flat, new RegExp(`checkpoint of tree size ${json.log.checkpoint.tree_size}\\b`));
  assert.match(flat, /Integrity: INTACT/);
  const label: Record<string, string> = { met: 'met', partial: 'partial', not_met: 'NOT MET', not_applicable: 'not applicable' };
  for (const c of json.clauses as Rec[]) assert.ok(flat.includes(c.id) && flat.includes(label[c.status]!), `clause ${c.id}`);
});

test('[URS-GDPR-010] report --standard gdpr --subject: what the trail holds about one person, found by the HMAC pseudonym', async () => {
  const { t, annSent } = await log();
  const key = Buffer.from(readFileSync(join(t.data, 'keys/hmac.key'), 'utf8').trim(), 'hex');
  const pseudonym = `pii:email:${createHmac('sha256', key).update('sealog/pseudonym/v1\u0000').update('pii:email').update('\u0000').update('ann@example.com').digest('hex').slice(0, 24)}`;
  const { json } = await report(t, ['--standard', 'gdpr', '--subject', 'email:Ann@Example.com']);
  assert.equal(json.subject.pseudonym, pseudonym);
  const holding = readRecords(t).filter((r) => JSON.stringify(r).includes(pseudonym));
  assert.equal(holding.length, annSent);
  assert.equal(json.subject.records, annSent);
  assert.deepEqual(
    json.subject.seqs,
    holding.map((r) => r.seq),
  );
  assert.equal(clause(json, 'Art. 15').status, 'met');
  const raw = spawnSync('sh', ['-c', `cat "${t.data}"/segments/*.seg.lz4 | lz4 -dc`], { encoding: 'utf8' }).stdout;
  assert.ok(!/ann@example\.com/i.test(raw), 'the trail never stores the address');
  assert.equal(cli(['report', '--data', t.data, '--standard', 'part11', '--subject', 'email:a@b.c']).code, 2, '--subject is for gdpr');
});

test('[URS-P11-020] report --sign writes a detached signed note; --check accepts the file and refuses an altered one', async () => {
  const { t } = await log();
  const out = join(t.dir, 'signed.json');
  const r = cli(['report', '--data', t.data, '--key', t.pub, '--standard', 'soc2', '--out', out, '--sign']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(`${out}.sig`));
  const note = readFileSync(`${out}.sig`, 'utf8');
  const json = JSON.parse(readFileSync(out, 'utf8')) as Report;
  assert.match(note, new RegExp(`^sealog report v1\\n${json.log.origin}\\nstandard soc2 from - to -\\ncheckpoint ${json.log.checkpoint.tree_size} `));
  const ok = cli(['report', '--check', out, '--key', t.pub]);
  assert.equal(ok.code, 0, ok.stdout);
  assert.match(ok.stdout, /^VALID/);
  writeFileSync(out, readFileSync(out, 'utf8').replace('"soc2"', '"SOC2"'));
  const bad = cli(['report', '--check', out, '--key', t.pub]);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /SHA-256 differs/);
});

test('[URS-P11-090] report: electronic signatures and a key rotation in the period, each listed and judged', async () => {
  const t = fresh();
  const d = await start(t, 'requests: { schedule: "* * * * * *" }\n');
  await burst(
    t,
    Array.from({ length: 5 }, (_, i) => JSON.stringify({ event_type: 'ValidationEvent', agent_id: 'a', i })),
  );
  const pass = join(t.dir, 'pass');
  writeFileSync(pass, 'a long enough passphrase\n');
  const key = join(t.dir, 'qa.signer');
  assert.equal(cli(['signer', 'add', '--name', 'Quinn QA', '--out', key, '--data', t.data, '--passphrase-file', pass]).code, 0);
  const signed = await cliAsync([
    'sign',
    '--config',
    join(t.dir, 'sealog.yaml'),
    '--key',
    key,
    '--passphrase-file',
    pass,
    '--name',
    'Quinn QA',
    '--meaning',
    'review',
    '--range',
    '1..3',
  ]);
  assert.equal(signed.code, 0, signed.stderr);
  const sigSeq = (JSON.parse(signed.stdout) as { seq: number }).seq;
  assert.equal(cli(['rotate-key', '--data', t.data]).code, 0);
  await waitUntil(() => d.stderr().includes('key rotation finished'), 'the daemon to take the new key');
  assert.equal(await d.stop(), 0);
  const ring = join(t.data, 'keys/ring.pub');
  const { code, json } = await report({ ...t, pub: ring }, ['--standard', 'part11']);
  assert.equal(code, 0, JSON.stringify(json.integrity));
  assert.deepEqual(
    json.signatures.map((s: Rec) => [s.seq, s.signer, s.meaning, s.records.map((r: Rec) => r.seq)]),
    [[sigSeq, 'Quinn QA', 'review', [1, 2, 3]]],
  );
  assert.equal(json.integrity.signatures_checked, 1);
  for (const id of ['11.50', '11.70']) assert.equal(clause(json, id).status, 'met', id);
  assert.equal(clause(json, '11.200(a)').status, 'partial');
  const transitions = readRecords(t).filter((r) => r.type === 'sealog.key.transition');
  assert.equal(transitions.length, 1);
  assert.deepEqual(
    json.key_rotations.map((k: Rec) => [k.seq, k.old_key, k.new_key]),
    [[transitions[0]!.seq, transitions[0]!.event.old_key, transitions[0]!.event.new_key]],
  );
  assert.deepEqual(json.log.key_ring, [transitions[0]!.event.old_key, transitions[0]!.event.new_key], 'the ring: the retired key and its successor');
  const before = await report({ ...t, pub: ring }, ['--standard', 'part11', '--to', readRecords(t)[sigSeq]!.ts]);
  assert.deepEqual(before.json.signatures, [], 'a signature outside the period is not listed');
  assert.equal(clause(before.json, '11.50').status, 'not_applicable');
});

test('report: --help explains; usage errors exit 2', async () => {
  const h = cli(['report', '--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /^sealog report --standard part11\|annex11\|alcoa\|hipaa\|soc2\|gdpr/);
  const { t } = await log();
  for (const args of [
    ['--standard', 'iso9001'],
    ['--standard', 'part11', '--from', 'yesterday-ish'],
    ['--standard', 'part11', '--format', 'pdf'],
    ['--standard', 'part11', '--sign'],
    ['--bogus'],
  ]) {
    assert.equal(cli(['report', '--data', t.data, ...args]).code, 2, args.join(' '));
  }
});
