// Small statistics and table helpers shared by every benchmark.

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** { median, min, max, n } of the finite numbers in xs, or undefined when there are none. */
export function stat(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x));
  return v.length ? { median: median(v), min: Math.min(...v), max: Math.max(...v), n: v.length } : undefined;
}

/** "1,234 (1,100-1,300)" from a stat; a single value (or min = max) prints alone. */
export function fmtStat(s, digits = 0, scale = 1) {
  if (!s) return 'n/a';
  const f = (x) => fmtNum(x * scale, digits);
  return s.min === s.max ? f(s.median) : `${f(s.median)} (${f(s.min)}-${f(s.max)})`;
}

export function fmtNum(x, digits = 0) {
  if (x === undefined || x === null || !Number.isFinite(x)) return 'n/a';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A ratio stat as "0.12x (0.10-0.13)". */
export function fmtRatio(s) {
  if (!s) return 'n/a';
  const f = (x) => `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}x`;
  return s.min === s.max ? f(s.median) : `${f(s.median)} (${f(s.min).slice(0, -1)}-${f(s.max)})`;
}

/** Plain-text table, first column left-aligned, the rest right-aligned. rows[0] is the header. */
export function textTable(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c] ?? '').length)));
  const line = (r) =>
    r
      .map((cell, c) => (c === 0 ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c])))
      .join('  ')
      .trimEnd();
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** GitHub Markdown table; numeric-looking columns right-aligned. rows[0] is the header. */
export function markdownTable(rows) {
  const esc = (s) => String(s ?? '').replaceAll('|', '\\|');
  const numeric = rows[0].map((_, c) => c > 0 && rows.slice(1).every((r) => /^([<>≈~-]?\d|n\/a$|-$)/.test(String(r[c] ?? ''))));
  return [
    `| ${rows[0].map(esc).join(' | ')} |`,
    `| ${rows[0].map((_, c) => (numeric[c] ? '---:' : '---')).join(' | ')} |`,
    ...rows.slice(1).map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}
