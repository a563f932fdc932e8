// A hand-written SVG of the results a person would rather look at than read:
// throughput per system (log scale, median with min-max whiskers, the issue's
// reference figures marked), sealog's ingest -> ack latency percentiles per
// offered load, and a scorecard of the goals. No dependencies.

const COLORS = {
  sealog: '#d95f02',
  peer: '#1b9e77',
  limit: '#7570b3',
  grid: '#dddddd',
  axis: '#555555',
  text: '#222222',
  muted: '#888888',
  bad: '#c0392b',
  good: '#1e8449',
};
const LOAD_COLORS = ['#66a61e', '#e7298a', '#1f78b4', '#a6761d', '#666666'];
const FONT = 'font-family="DejaVu Sans, Verdana, Arial, sans-serif"';

const esc = (s) => String(s).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
const r1 = (x) => Math.round(x * 10) / 10;

function text(x, y, s, { size = 12, anchor = 'start', color = COLORS.text, weight = 'normal', extra = '' } = {}) {
  return `<text x="${r1(x)}" y="${r1(y)}" font-size="${size}" text-anchor="${anchor}" fill="${color}" font-weight="${weight}" ${extra}>${esc(s)}</text>`;
}

/** "1.2M", "340k", "950". */
export function shortNum(x) {
  if (x >= 1e6) return `${(x / 1e6).toFixed(x >= 1e7 ? 0 : 1)}M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(x >= 1e5 ? 0 : 1)}k`;
  return x.toFixed(0);
}

function logScale(lo, hi, x0, x1) {
  const a = Math.log10(lo);
  const b = Math.log10(hi);
  return (v) => x0 + ((Math.log10(Math.max(v, lo)) - a) / (b - a)) * (x1 - x0);
}

/** Decade ticks with 2x and 5x minor ticks between lo and hi (powers of ten). */
function ticks(lo, hi) {
  const out = [];
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    out.push({ v: d, major: true });
    if (d * 10 <= hi * 1.0001) out.push({ v: d * 2, major: false }, { v: d * 5, major: false });
  }
  return out;
}

/**
 * rows: [{ name, kind: sealog|peer|limit, median, min, max, reference, skipped }]
 * Returns SVG elements for a horizontal log-scale bar chart in the box.
 */
function throughputPanel(rows, { x, y, w, title, subtitle }) {
  const out = [text(x, y, title, { size: 15, weight: 'bold' }), text(x, y + 17, subtitle, { size: 11, color: COLORS.muted })];
  const labelW = 230;
  const top = y + 34;
  const rowH = 22;
  const values = rows.flatMap((r) => (r.skipped ? [] : [r.min, r.max, r.median])).concat(rows.map((r) => r.reference).filter(Boolean));
  const lo = 10 ** Math.floor(Math.log10(Math.max(1, Math.min(...values))));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...values) * 1.05));
  const sx = logScale(lo, hi, x + labelW, x + w - 60);
  const bottom = top + rows.length * rowH;
  for (const t of ticks(lo, hi)) {
    const tx = sx(t.v);
    out.push(`<line x1="${r1(tx)}" y1="${top - 4}" x2="${r1(tx)}" y2="${bottom}" stroke="${COLORS.grid}" stroke-width="${t.major ? 1 : 0.5}"/>`);
    if (t.major || hi / lo <= 100) out.push(text(tx, bottom + 14, shortNum(t.v), { size: 10, anchor: 'middle', color: COLORS.axis }));
  }
  out.push(text(x + labelW + (w - labelW - 60) / 2, bottom + 28, 'events/s (log scale)', { size: 11, anchor: 'middle', color: COLORS.axis }));
  rows.forEach((r, i) => {
    const cy = top + i * rowH + rowH / 2;
    out.push(
      text(x + labelW - 8, cy + 4, r.name, {
        size: 11,
        anchor: 'end',
        color: r.skipped ? COLORS.muted : COLORS.text,
        weight: r.kind === 'sealog' ? 'bold' : 'normal',
      }),
    );
    if (r.skipped) {
      out.push(text(x + labelW + 6, cy + 4, 'not installed: skipped', { size: 11, color: COLORS.muted, extra: 'font-style="italic"' }));
      return;
    }
    const x0 = x + labelW;
    const xm = sx(r.median);
    out.push(`<rect x="${x0}" y="${r1(cy - 7)}" width="${r1(Math.max(1, xm - x0))}" height="14" fill="${COLORS[r.kind]}" opacity="0.85"/>`);
    if (r.max > r.min) {
      out.push(`<line x1="${r1(sx(r.min))}" y1="${r1(cy)}" x2="${r1(sx(r.max))}" y2="${r1(cy)}" stroke="#000" stroke-width="1"/>`);
      for (const v of [r.min, r.max])
        out.push(`<line x1="${r1(sx(v))}" y1="${r1(cy - 4)}" x2="${r1(sx(v))}" y2="${r1(cy + 4)}" stroke="#000" stroke-width="1"/>`);
    }
    if (r.reference) {
      const rx = sx(r.reference);
      out.push(`<path d="M${r1(rx)} ${r1(cy - 6)} l4 6 l-4 6 l-4 -6 z" fill="#fff" stroke="#000" stroke-width="1"/>`);
    }
    out.push(
      text(Math.max(sx(r.max), xm, r.reference ? sx(r.reference) + 4 : 0) + 7, cy + 4, shortNum(r.median) + (r.note ? `  ${r.note}` : ''), { size: 11 }),
    );
  });
  // Legend.
  const ly = bottom + 44;
  let lx = x + labelW;
  for (const [kind, label] of [
    ['sealog', 'sealog (all stages)'],
    ['peer', 'syslog-ng / rsyslog (no sealing)'],
    ['limit', 'physical limits'],
  ]) {
    out.push(`<rect x="${lx}" y="${ly - 9}" width="12" height="10" fill="${COLORS[kind]}" opacity="0.85"/>`, text(lx + 16, ly, label, { size: 11 }));
    lx += 20 + label.length * 6.3;
  }
  out.push(`<path d="M${lx + 4} ${ly - 10} l4 6 l-4 6 l-4 -6 z" fill="#fff" stroke="#000"/>`, text(lx + 14, ly, "the issue's reference figure", { size: 11 }));
  return { svg: out.join('\n'), height: ly - y + 10 };
}

/** series: [{ label, points: [{ p: 'p50', median, min, max }] }]; target: { ms, label }. */
function latencyPanel(series, { x, y, w, h, title, subtitle, target }) {
  const out = [text(x, y, title, { size: 15, weight: 'bold' }), text(x, y + 17, subtitle, { size: 11, color: COLORS.muted })];
  const left = x + 50;
  const right = x + w - 10;
  const top = y + 34;
  const bottom = y + h - 44;
  const cats = series[0]?.points.map((p) => p.p) ?? [];
  const vals = series
    .flatMap((s) => s.points.flatMap((p) => [p.min, p.max]))
    .filter((v) => v > 0)
    .concat(target ? [target.ms] : []);
  if (!vals.length) return { svg: out.join('\n') };
  const lo = 10 ** Math.floor(Math.log10(Math.min(...vals)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...vals) * 1.05));
  const a = Math.log10(lo);
  const b = Math.log10(hi);
  const sy = (v) => bottom - ((Math.log10(Math.max(v, lo)) - a) / (b - a)) * (bottom - top);
  const sx = (i) => left + ((i + 0.5) / cats.length) * (right - left);
  for (const t of ticks(lo, hi)) {
    const ty = sy(t.v);
    out.push(`<line x1="${left}" y1="${r1(ty)}" x2="${right}" y2="${r1(ty)}" stroke="${COLORS.grid}" stroke-width="${t.major ? 1 : 0.5}"/>`);
    if (t.major) out.push(text(left - 6, ty + 4, t.v >= 1000 ? `${t.v / 1000} s` : `${t.v} ms`, { size: 10, anchor: 'end', color: COLORS.axis }));
  }
  cats.forEach((c, i) => out.push(text(sx(i), bottom + 16, c, { size: 11, anchor: 'middle', color: COLORS.axis })));
  if (target) {
    const ty = sy(target.ms);
    out.push(`<line x1="${left}" y1="${r1(ty)}" x2="${right}" y2="${r1(ty)}" stroke="${COLORS.bad}" stroke-width="1.2" stroke-dasharray="6 4"/>`);
    out.push(text(left + 4, ty - 4, target.label, { size: 10, color: COLORS.bad }));
  }
  series.forEach((s, k) => {
    const color = LOAD_COLORS[k % LOAD_COLORS.length];
    const pts = s.points.map((p, i) => `${r1(sx(i))},${r1(sy(p.median))}`).join(' ');
    out.push(`<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="2"/>`);
    s.points.forEach((p, i) => {
      if (p.max > p.min)
        out.push(
          `<line x1="${r1(sx(i) + (k - 1) * 3)}" y1="${r1(sy(p.min))}" x2="${r1(sx(i) + (k - 1) * 3)}" y2="${r1(sy(p.max))}" stroke="${color}" stroke-width="1" opacity="0.7"/>`,
        );
      out.push(`<circle cx="${r1(sx(i))}" cy="${r1(sy(p.median))}" r="3.5" fill="${color}"/>`);
    });
    const ly = bottom + 34;
    const lx = left + k * 130;
    out.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 18}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`, text(lx + 22, ly, s.label, { size: 11 }));
  });
  return { svg: out.join('\n') };
}

/** items: [{ label, measured, target, met (true/false/undefined) }] */
function scorecardPanel(items, { x, y, w, title, subtitle }) {
  const out = [text(x, y, title, { size: 15, weight: 'bold' }), text(x, y + 17, subtitle, { size: 11, color: COLORS.muted })];
  let cy = y + 44;
  for (const it of items) {
    const color = it.met === undefined ? COLORS.muted : it.met ? COLORS.good : COLORS.bad;
    const mark = it.met === undefined ? '–' : it.met ? '✓' : '✗';
    out.push(text(x, cy, mark, { size: 16, color, weight: 'bold' }));
    out.push(text(x + 20, cy - 1, it.label, { size: 11.5 }));
    out.push(text(x + 20, cy + 14, `measured ${it.measured}`, { size: 11, color }));
    out.push(text(x + 20, cy + 28, `goal ${it.target}`, { size: 11, color: COLORS.muted }));
    cy += 50;
  }
  return { svg: out.join('\n'), height: cy - y };
}

/**
 * The whole chart. spec: { title, subtitle, throughput: {rows, title, subtitle},
 * latency: {series, title, subtitle, target}, goals: [...], footer: [lines] }.
 */
export function renderChart(spec) {
  const W = 1040;
  const parts = [];
  parts.push(text(20, 30, spec.title, { size: 19, weight: 'bold' }));
  parts.push(text(20, 50, spec.subtitle, { size: 11.5, color: COLORS.muted }));
  let y = 84;
  const tp = throughputPanel(spec.throughput.rows, { x: 20, y, w: W - 40, title: spec.throughput.title, subtitle: spec.throughput.subtitle });
  parts.push(tp.svg);
  y += tp.height + 30;
  const card = scorecardPanel(spec.goals, { x: 580, y, w: W - 600, title: 'Goals', subtitle: 'ratios are in-run, so machine noise cancels' });
  const panelH = Math.max(330, card.height);
  if (spec.latency) parts.push(latencyPanel(spec.latency.series, { x: 20, y, w: 520, h: panelH, ...spec.latency }).svg);
  parts.push(card.svg);
  y += panelH + 10;
  spec.footer.forEach((l, i) => parts.push(text(20, y + i * 15, l, { size: 10.5, color: COLORS.muted })));
  const H = y + spec.footer.length * 15 + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ${FONT}>`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
