import type { ValidationPack } from './pack.js';

// The validation pack for people: one self-contained HTML file that prints on A4.

const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const row = (cells: unknown[], cls = '') => `<tr${cls ? ` class="${cls}"` : ''}>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
const head = (cells: string[]) => `<thead><tr>${cells.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead>`;

export function renderPackHtml(p: ValidationPack): string {
  const run = p.run;
  const matrix = p.matrix
    .map((r) =>
      row(
        [
          `<b>${esc(r.id)}</b>`,
          `${esc(r.requirement)}<br><small>${esc(r.source)}</small>`,
          esc(r.feature),
          r.tests.length
            ? `<ul>${r.tests.map((t) => `<li>${esc(t.result)}: ${esc(t.name)} <small>(${esc(t.file)})</small></li>`).join('')}</ul>`
            : '<i>no test</i>',
          `<b>${esc(r.result)}</b>`,
        ],
        r.result,
      ),
    )
    .join('');
  const inst = p.installation;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>sealog validation pack ${esc(inst.sealog_version)}</title>
<style>
@page { size: A4; margin: 15mm 12mm; }
body { font: 9.5pt/1.35 "DejaVu Sans", Arial, sans-serif; color: #111; max-width: 190mm; margin: 0 auto; }
h1 { font-size: 15pt; } h2 { font-size: 12pt; border-bottom: 1px solid #999; margin-top: 16px; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; margin: 4px 0 10px; }
th, td { border: 1px solid #bbb; padding: 3px 4px; vertical-align: top; text-align: left; overflow-wrap: anywhere; }
th { background: #eee; } tr { break-inside: avoid; } thead { display: table-header-group; }
tr.passed td:last-child { color: #1a7f37; } tr.failed td:last-child, tr.untested td:last-child { color: #b42318; }
ul { margin: 0; padding-left: 14px; } small { color: #555; }
.verdict { padding: 6px 8px; border: 2px solid ${p.ok ? '#1a7f37' : '#b42318'}; }
</style></head><body>
<h1>sealog ${esc(inst.sealog_version)} — validation pack</h1>
<p>Generated ${esc(p.generated_at)} on ${esc(inst.os.platform)} ${esc(inst.os.release)} (${esc(inst.os.arch)}), Node ${esc(inst.node)}.</p>
<p class="verdict"><b>${p.ok ? 'Every requirement is traced to at least one test that ran and passed in this run.' : 'NOT VALIDATED: see the requirements marked failed or untested below.'}</b><br>
Test run: ${run.passed} passed, ${run.failed} failed, ${run.skipped} skipped (${esc(run.scope)}); exit code ${esc(run.exit_code)}.${p.unknown_ids.length ? `<br>Test names carry ids not in the URS: ${esc(p.unknown_ids.join(', '))}` : ''}</p>
<h2>1. Traceability matrix: requirement → feature → tests → result of this run</h2>
<table>${head(['id', 'requirement', 'feature', 'tests (result: name)', 'result'])}<tbody>${matrix}</tbody></table>
<h2>2. Installation evidence</h2>
<table><tbody>${row(['sealog', esc(inst.sealog_version)])}${row(['Node.js', esc(inst.node)])}${row(['OS', `${esc(inst.os.platform)} ${esc(inst.os.release)} ${esc(inst.os.arch)}`])}${row(['configuration', `${esc(inst.config.file)}: ${inst.config.valid ? 'valid' : `INVALID: ${esc((inst.config as { error: string }).error)}`}`])}${row(['installed files', `${inst.files.length} files, SHA-256 of the list ${esc(inst.files_sha256)}`])}</tbody></table>
<table>${head(['dependency', 'installed version'])}<tbody>${Object.entries(inst.dependencies)
    .map(([k, v]) => row([esc(k), esc(v)]))
    .join('')}</tbody></table>
<table>${head(['file', 'bytes', 'SHA-256'])}<tbody>${inst.files.map((f) => row([esc(f.path), f.bytes, `<code>${esc(f.sha256)}</code>`])).join('')}</tbody></table>
<h2>3. Test log</h2>
<p>The full log of this run is test-log.txt beside this file; each test's result is in test-results.jsonl.</p>
</body></html>
`;
}
