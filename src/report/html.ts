import type { ClauseStatus, ReportJson } from './model.js';

// One self-contained HTML file a QA reviewer reads and prints: no scripts, no external
// assets, A4 print rules, every figure the same as in the JSON it is rendered from.

const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const MAX_ROWS = 200;
const LABEL: Record<ClauseStatus, string> = { met: 'met', partial: 'partial', not_met: 'NOT MET', not_applicable: 'not applicable' };

function table(head: string[], rows: unknown[][], empty = 'none'): string {
  if (!rows.length) return `<p class="none">${esc(empty)}</p>`;
  const shown = rows.slice(0, MAX_ROWS);
  const more = rows.length > shown.length ? `<p class="none">… and ${rows.length - shown.length} more (see the JSON report)</p>` : '';
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${shown
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>${more}`;
}

const counter = (c: Record<string, number>, label: string) =>
  table(
    [label, 'records'],
    Object.entries(c)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([k, v]) => [k, v]),
  );

const section = (id: string, title: string, body: string) => `<section id="${id}"><h2>${esc(title)}</h2>${body}</section>`;

export function renderHtml(r: ReportJson): string {
  const i = r.integrity;
  const period = `${r.period.from ?? 'start of the log'} to ${r.period.to ?? 'end of the log'}`;
  const a = r.attributability;
  const clauses = r.clauses
    .map(
      (c) =>
        `<tr class="${c.status}"><td class="id">${esc(c.id)}</td><td>${esc(c.title)}</td><td><span class="badge ${c.status}">${LABEL[c.status]}</span></td><td><ul>${c.evidence.map((e) => `<li>${esc(e)}</li>`).join('')}</ul></td></tr>`,
    )
    .join('');
  const body = [
    `<header><h1>${esc(r.title)}</h1><p class="sub">sealog compliance report · standard <b>${esc(r.standard)}</b> · period ${esc(period)}</p>
<p class="sub">origin ${esc(r.log.origin)} · generated ${esc(r.generated.at)} by sealog ${esc(r.generated.sealog_version)} (${esc(r.generated.node)})</p></header>`,
    `<div class="verdict ${i.verdict}"><b>Integrity: ${i.verdict === 'intact' ? 'INTACT' : 'FAILED'}</b> (scope: ${esc(i.scope)}) — ${i.records_checked} records and ${i.segments_checked} segment(s) checked; tree size ${i.tree_size}; sealed through ${i.sealed_through}; key ${i.key_pinned ? 'pinned' : 'NOT pinned'}; origin ${i.origin_pinned ? 'pinned' : 'not pinned'}${
      i.failure ? `<br>${esc(i.failure.code)}: ${esc(i.failure.message)}${i.failure.seq !== undefined ? ` (seq ${i.failure.seq})` : ''}` : ''
    }${r.reading.complete ? '' : `<br>The counts below stop at the damage: ${esc(r.reading.stopped_at.code)} at seq ${esc(r.reading.stopped_at.seq)}, segment ${esc(r.reading.stopped_at.segment)}.`}</div>`,
    `<p class="covers">This report covers the checkpoint of tree size <b>${r.log.checkpoint?.tree_size ?? 'none'}</b>, root <code>${esc(r.log.checkpoint?.root ?? '-')}</code>.</p>`,
    section(
      'summary',
      'Summary',
      table(
        ['met', 'partial', 'not met', 'not applicable', 'records in period', 'rejected', 'signatures'],
        [[r.summary.met, r.summary.partial, r.summary.not_met, r.summary.not_applicable, r.counts.records, r.counts.rejected.total, r.signatures.length]],
      ),
    ),
    section(
      'clauses',
      'Clauses',
      `<table class="clauses"><thead><tr><th>clause</th><th>requirement</th><th>status</th><th>evidence</th></tr></thead><tbody>${clauses}</tbody></table>`,
    ),
    section(
      'counts',
      'Records in the period',
      `<p>Records: <b>${r.counts.records}</b></p><div class="cols">${counter(r.counts.by_stream, 'stream')}${counter(r.counts.by_level, 'level')}${counter(r.counts.by_source, 'source')}</div>${counter(r.counts.by_type, 'type')}<h3>Rejected inputs by code (total ${r.counts.rejected.total})</h3>${counter(r.counts.rejected.by_code, 'code')}`,
    ),
    section(
      'redactions',
      'Redactions by kind',
      `<p>${r.redactions.total} value(s) redacted in ${r.redactions.records} record(s)</p>${counter(r.redactions.by_kind, 'kind')}`,
    ),
    section(
      'retention',
      'Retention and legal holds',
      `<h3>Segments removed by retention</h3>${table(
        ['seq', 'ts', 'segment', 'first seq', 'last seq', 'records', 'disposition'],
        r.retention.removals.map((x) => [x.seq, x.ts, x.segment, x.first_seq, x.last_seq, x.records, x.disposition]),
      )}` +
        `<h3>Legal holds placed</h3>${table(
          ['seq', 'ts', 'hold', 'reason'],
          r.retention.holds_placed.map((x) => [x.seq, x.ts, x.id, x.reason]),
        )}` +
        `<h3>Legal holds released</h3>${table(
          ['seq', 'ts', 'hold', 'reason'],
          r.retention.holds_released.map((x) => [x.seq, x.ts, x.id, x.reason]),
        )}` +
        `<h3>Active holds now</h3>${table(
          ['hold', 'reason', 'placed at seq'],
          r.retention.active_holds.map((h) => [h.id, h.reason, h.placed_seq ?? '']),
        )}`,
    ),
    section(
      'sweeps',
      'Integrity sweeps',
      `<p>${r.sweeps.total} sweep(s): ${r.sweeps.passed} passed, ${r.sweeps.failed} found damage, ${r.sweeps.full} full</p>${table(
        ['seq', 'ts', 'mode', 'result', 'segments', 'finding'],
        r.sweeps.records.map((s) => [s.seq, s.ts, s.mode, s.ok ? 'passed' : 'FAILED', s.segments, s.failure ?? '']),
      )}`,
    ),
    section(
      'keys',
      'Key ring and rotations',
      `${table(
        ['public key (name+id)'],
        r.log.key_ring.map((k) => [k.split('+').slice(0, 2).join('+')]),
      )}<h3>Rotations</h3>${table(
        ['seq', 'ts', 'retired', 'new'],
        r.key_rotations.map((k) => [k.seq, k.ts, k.old_key.split('+').slice(0, 2).join('+'), k.new_key.split('+').slice(0, 2).join('+')]),
      )}`,
    ),
    section(
      'coverage',
      'Time coverage and gaps in ingest',
      `<p>First record: ${r.coverage.first ? `seq ${r.coverage.first.seq} at ${esc(r.coverage.first.ts)}` : 'none'}; last: ${r.coverage.last ? `seq ${r.coverage.last.seq} at ${esc(r.coverage.last.ts)}` : 'none'}; receive times out of order: ${r.coverage.ts_out_of_order}</p><h3>Gaps longer than ${r.coverage.gap_threshold_seconds} s</h3>${table(
        ['after seq', 'from', 'to', 'seconds'],
        r.coverage.gaps.map((g) => [g.after_seq, g.from, g.to, g.seconds]),
      )}`,
    ),
    section(
      'attributability',
      'Attributability (ALCOA+)',
      table(
        ['producer records', 'who', 'when', 'where', 'all three', 'share (all three)', 'marked original'],
        [[a.records, a.who, a.when, a.where, a.all_three, `${(a.share_all_three * 100).toFixed(1)} %`, a.original]],
      ) + `<p>Socket records with kernel-reported sender: ${r.peer_credentials.with_peer} of ${r.peer_credentials.socket_records}</p>`,
    ),
    section(
      'signatures',
      'Electronic signatures',
      table(
        ['seq', 'ts', 'printed name', 'key id', 'meaning', 'signed at', 'records', 'reason'],
        r.signatures.map((s) => [s.seq, s.ts, s.signer, s.key_id, s.meaning, s.signed_at, s.records.map((x) => x.seq).join(', '), s.reason ?? '']),
        'no electronic signatures in the period',
      ),
    ),
    r.subject
      ? section(
          'subject',
          'Data subject access (GDPR Art. 15)',
          `<p>Subject kind ${esc(r.subject.subject_kind)}, pseudonym <code>${esc(r.subject.pseudonym)}</code>: <b>${r.subject.records}</b> record(s)${r.subject.first ? ` from seq ${r.subject.first.seq} (${esc(r.subject.first.ts)}) to seq ${r.subject.last!.seq} (${esc(r.subject.last!.ts)})` : ''}. The trail stores the pseudonym, never the value.</p>${counter(r.subject.by_type, 'type')}<p class="seqs">seq: ${r.subject.seqs.slice(0, 2000).join(', ')}</p>`,
        )
      : '',
    section('checkpoint', 'The checkpoint this report covers', `<pre>${esc(r.log.checkpoint?.note ?? 'no checkpoint')}</pre>`),
    i.warnings.length
      ? section(
          'warnings',
          'Verification warnings',
          table(
            ['code', 'message'],
            i.warnings.map((w) => [w.code, w.message]),
          ),
        )
      : '',
    `<section class="signoff"><h2>Review</h2><table><tbody><tr><th>Reviewed by (printed name)</th><td></td></tr><tr><th>Signature</th><td></td></tr><tr><th>Date</th><td></td></tr><tr><th>Meaning</th><td>review / approval</td></tr></tbody></table></section>`,
  ].join('\n');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(r.title)} — sealog report</title>
<style>${CSS}</style></head>
<body>
${body}
</body></html>
`;
}

const CSS = `
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
* { box-sizing: border-box; }
body { font: 10pt/1.4 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #111; max-width: 190mm; margin: 0 auto; padding: 8px; }
h1 { font-size: 16pt; margin: 0 0 4px; }
h2 { font-size: 12.5pt; margin: 18px 0 6px; border-bottom: 1px solid #999; padding-bottom: 2px; }
h3 { font-size: 10.5pt; margin: 10px 0 4px; }
.sub { margin: 0; color: #333; font-size: 9pt; }
.verdict { margin: 12px 0 6px; padding: 8px 10px; border: 2px solid; border-radius: 4px; }
.verdict.intact { border-color: #1a7f37; background: #eaf7ee; }
.verdict.failed { border-color: #b42318; background: #fdecea; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 8px; font-size: 9pt; }
th, td { border: 1px solid #bbb; padding: 3px 5px; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: #f0f0f0; }
tr { break-inside: avoid; page-break-inside: avoid; }
thead { display: table-header-group; }
td.id { white-space: nowrap; font-weight: bold; }
ul { margin: 0; padding-left: 14px; }
.badge { display: inline-block; padding: 1px 6px; border-radius: 3px; font-weight: bold; white-space: nowrap; border: 1px solid; }
.badge.met { color: #1a7f37; } .badge.partial { color: #9a6700; } .badge.not_met { color: #b42318; } .badge.not_applicable { color: #555; }
.cols { display: flex; gap: 8px; } .cols > table { flex: 1; }
.none { color: #555; font-style: italic; margin: 2px 0 6px; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; font-size: 8pt; background: #f7f7f7; padding: 6px; border: 1px solid #ddd; }
code { font-size: 8.5pt; overflow-wrap: anywhere; }
.seqs { font-size: 8pt; overflow-wrap: anywhere; }
.signoff td { height: 22px; }
@media print { body { max-width: none; padding: 0; } section { break-inside: auto; } h2, h3 { break-after: avoid; page-break-after: avoid; } a { color: inherit; text-decoration: none; } }
`;
