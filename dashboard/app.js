// The dashboard: plain ES modules, no build step, nothing from a CDN. Every figure
// comes from the API with the token the user gives (kept in sessionStorage).
import uPlot from '/ui/uplot.js';
import { verifyBundle } from '/ui/verify.js';

const $ = (id) => document.getElementById(id);
const SECTIONS = ['overview', 'trail', 'record', 'reports', 'holds', 'settings'];
const state = { cursors: [null], page: 0, query: '', overviewTimer: 0, charts: null, last: null };

async function api(path, init = {}) {
  const token = sessionStorage.getItem('sealog.token') || '';
  const res = await fetch(path, { ...init, headers: { ...(init.headers || {}), authorization: `Bearer ${token}` } });
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const e = body && body.error ? body.error : { code: `HTTP_${res.status}`, message: res.statusText };
    if (res.status === 401) location.hash = '#settings';
    throw Object.assign(new Error(`${e.code}: ${e.message}`), { code: e.code, status: res.status });
  }
  return body;
}

function showError(err) {
  const p = $('error');
  p.hidden = !err;
  p.textContent = err ? String(err.message || err) : '';
}

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props);
  for (const c of children) e.append(c);
  return e;
}

// ---- routing ----
async function route() {
  showError(null);
  clearInterval(state.overviewTimer);
  const [name, arg] = (location.hash.slice(1) || 'overview').split('/');
  const section = SECTIONS.includes(name) ? name : 'overview';
  for (const s of SECTIONS) $(s).hidden = s !== section;
  for (const a of document.querySelectorAll('nav a')) a.toggleAttribute('aria-current', a.getAttribute('href') === `#${section === 'record' ? 'trail' : section}`);
  if (a11yFocus) $(section).querySelector('h1')?.focus?.();
  try {
    if (!sessionStorage.getItem('sealog.token') && section !== 'settings') {
      location.hash = '#settings';
      return;
    }
    if (section === 'overview') await overview();
    if (section === 'trail') await search(state.query || currentQuery(), state.cursors[state.page]);
    if (section === 'record') await record(arg);
    if (section === 'holds') await holds();
    if (section === 'settings') settings();
  } catch (err) {
    showError(err);
  }
}
let a11yFocus = false;

// ---- overview ----
async function overview() {
  await refreshOverview();
  state.overviewTimer = setInterval(() => refreshOverview().catch(showError), 2000);
}

function ago(s) {
  if (s === null || s === undefined) return 'none yet';
  return s < 120 ? `${Math.round(s)} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
}

async function refreshOverview() {
  const o = await api('/api/v1/overview');
  $('ov-health').textContent = o.health;
  $('ov-health').className = o.health;
  const failed = o.conditions.find((c) => c.component === 'integrity');
  $('ov-integrity').textContent = failed ? 'failed' : o.integrity ? 'intact' : 'not swept yet';
  $('ov-integrity').className = failed ? 'failed' : o.integrity ? 'ok' : '';
  $('ov-sweep').textContent = o.integrity ? `${o.integrity.mode}, ${o.integrity.records} records, ${o.integrity.ok ? 'ok' : 'FAILED'}` : '—';
  $('ov-tree-size').textContent = String(o.tree_size);
  $('ov-checkpoint-age').textContent = ago(o.checkpoint_age_s);
  $('ov-key-id').textContent = o.key_id ?? '—';
  $('ov-conditions').replaceChildren(...o.conditions.map((c) => el('li', { className: c.level, textContent: `${c.component}: ${c.reason}` })));
  chartPoint(o);
}

function chartPoint(o) {
  const t = Date.parse(o.now) / 1000;
  const done = o.events.committed + o.events.rejected;
  if (!state.charts) {
    const opts = (label, color) => ({ width: 520, height: 180, series: [{}, { label, stroke: color, width: 2 }], axes: [{}, { size: 60 }], scales: { x: { time: true } } });
    state.charts = { xs: [], rate: [], p99: [], rateChart: new uPlot(opts('events/s', '#0550ae'), [[], []], $('chart-rate')), p99Chart: new uPlot(opts('p99 ms', '#cf222e'), [[], []], $('chart-p99')) };
  }
  const c = state.charts;
  if (state.last) {
    c.xs.push(t);
    c.rate.push(Math.max(0, (done - state.last.done) / Math.max(0.001, t - state.last.t)));
    c.p99.push(o.commit_p99_ms);
    for (const a of [c.xs, c.rate, c.p99]) if (a.length > 300) a.shift();
    c.rateChart.setData([c.xs, c.rate]);
    c.p99Chart.setData([c.xs, c.p99]);
  }
  state.last = { t, done };
}

// ---- trail ----
function currentQuery() {
  const q = new URLSearchParams();
  for (const [k, v] of new FormData($('filters'))) if (String(v).trim()) q.append(k, String(v).trim());
  return q.toString();
}

async function search(query, cursor) {
  const q = new URLSearchParams(query);
  if (cursor) q.set('cursor', cursor);
  const r = await api(`/api/v1/records?${q}`);
  const rows = r.records.map((rec) => {
    const tr = el('tr', { tabIndex: 0 },
      el('td', { textContent: rec.seq }), el('td', { textContent: rec.ts }), el('td', { textContent: rec.stream }),
      el('td', { textContent: rec.level, className: rec.level }), el('td', { textContent: rec.type }),
      el('td', { textContent: `${rec.source?.kind ?? ''}${rec.source?.token ? ` (${rec.source.token})` : ''}` }));
    tr.dataset.seq = rec.seq;
    const open = () => (location.hash = `#record/${rec.seq}`);
    tr.addEventListener('click', open);
    tr.addEventListener('keydown', (e) => e.key === 'Enter' && open());
    return tr;
  });
  $('records').tBodies[0].replaceChildren(...rows);
  state.cursors[state.page + 1] = r.next_cursor;
  $('next-page').disabled = !r.next_cursor;
  $('prev-page').disabled = state.page === 0;
  $('page-info').textContent = `page ${state.page + 1}, ${r.records.length} record${r.records.length === 1 ? '' : 's'}`;
}

// ---- record detail and verification ----
async function record(seq) {
  $('record-seq').textContent = seq;
  $('verdict').replaceChildren();
  $('verdict').className = '';
  const r = await api(`/api/v1/records/${encodeURIComponent(seq)}`);
  $('record-json').textContent = JSON.stringify(r.record, null, 2);
  $('record-proof').textContent = JSON.stringify(r.proof, null, 2);
}

async function verifyShown() {
  const seq = $('record-seq').textContent;
  const out = $('verdict');
  const key = localStorage.getItem('sealog.pinnedKey');
  if (!key) {
    out.className = 'fail';
    out.replaceChildren(el('strong', { textContent: 'No key pinned: ' }), 'pin the log\'s public key under "Token & key" first; the server\'s word is not evidence.');
    return;
  }
  out.className = '';
  out.textContent = 'verifying…';
  try {
    // Fetched now, not when the page loaded: what is verified is what the server holds at this moment.
    const r = await api(`/api/v1/records/${encodeURIComponent(seq)}`);
    const v = await verifyBundle(r.proof, key);
    out.className = v.ok ? 'pass' : 'fail';
    out.replaceChildren(
      el('strong', { id: 'verdict-result', textContent: v.ok ? 'VERIFIED' : 'FAILED' }),
      ` against pinned key ${v.keyName}+${v.keyId}`,
      el('ul', {}, ...v.steps.map((s) => el('li', { className: s.ok ? 'ok' : 'bad', textContent: `${s.ok ? '✓' : '✗'} ${s.name}: ${s.detail}` }))),
    );
  } catch (err) {
    out.className = 'fail';
    out.replaceChildren(el('strong', { id: 'verdict-result', textContent: 'FAILED' }), ` ${err.message}`);
  }
}

// ---- reports ----
async function report(form) {
  const f = new FormData(form);
  const q = new URLSearchParams({ format: 'json' });
  for (const k of ['from', 'to']) if (String(f.get(k)).trim()) q.set(k, String(f.get(k)).trim());
  const r = await api(`/api/v1/reports/${f.get('standard')}?${q}`);
  const clauses = el('table', {}, el('thead', {}, el('tr', {}, el('th', { textContent: 'clause' }), el('th', { textContent: 'title' }), el('th', { textContent: 'status' }))),
    el('tbody', {}, ...(r.clauses ?? []).map((c) => el('tr', {}, el('td', { textContent: c.id }), el('td', { textContent: c.title }), el('td', { textContent: c.status, className: c.status === 'met' ? 'ok' : c.status === 'not_met' ? 'bad' : 'warn' })))));
  $('report-out').replaceChildren(
    el('p', { textContent: `${r.standard}: integrity ${r.integrity?.verdict}, ${r.counts?.records} records, tree size ${r.log?.tree_size}` }),
    clauses,
  );
}

// ---- holds ----
async function holds() {
  const r = await api('/api/v1/holds');
  const crit = (h) => ['stream', 'from', 'to', 'correlation_id', 'tenant_id'].filter((k) => h[k]).map((k) => `${k}=${h[k]}`).join(' ');
  $('holds-table').tBodies[0].replaceChildren(...r.active.map((h) => {
    const release = el('button', { type: 'button', textContent: 'Release…' });
    release.addEventListener('click', async () => {
      const reason = prompt(`Reason for releasing ${h.id}`);
      if (!reason) return;
      await api(`/api/v1/holds/${encodeURIComponent(h.id)}?reason=${encodeURIComponent(reason)}`, { method: 'DELETE' }).catch(showError);
      await holds();
    });
    return el('tr', {}, el('td', { textContent: h.id }), el('td', { textContent: crit(h) }), el('td', { textContent: h.reason }), el('td', { textContent: h.placed_seq ?? '' }), el('td', {}, release));
  }), ...r.pending.map((p) => el('tr', {}, el('td', { textContent: p.id }), el('td', { textContent: `${p.op} (pending)` }), el('td', { textContent: p.reason }), el('td'), el('td'))));
}

// ---- settings ----
function settings() {
  $('token').value = sessionStorage.getItem('sealog.token') || '';
  $('pinned-key').value = localStorage.getItem('sealog.pinnedKey') || '';
  $('pinned-status').textContent = localStorage.getItem('sealog.pinnedKey') ? 'a key is pinned' : 'no key pinned';
}

async function whoami() {
  try {
    const w = await api('/api/v1/whoami');
    $('who').textContent = `${w.name} (${w.role})`;
  } catch {
    $('who').textContent = 'no token';
  }
}

// ---- wiring ----
window.addEventListener('hashchange', () => {
  a11yFocus = true;
  route();
});
$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem('sealog.token', $('token').value.trim());
  whoami();
  location.hash = '#overview';
});
$('key-form').addEventListener('submit', (e) => {
  e.preventDefault();
  localStorage.setItem('sealog.pinnedKey', $('pinned-key').value.trim());
  settings();
});
$('filters').addEventListener('submit', (e) => {
  e.preventDefault();
  state.query = currentQuery();
  state.cursors = [null];
  state.page = 0;
  search(state.query, null).catch(showError);
});
$('next-page').addEventListener('click', () => {
  state.page++;
  search(state.query, state.cursors[state.page]).catch(showError);
});
$('prev-page').addEventListener('click', () => {
  state.page = Math.max(0, state.page - 1);
  search(state.query, state.cursors[state.page]).catch(showError);
});
$('verify').addEventListener('click', () => verifyShown());
$('report-form').addEventListener('submit', (e) => {
  e.preventDefault();
  report(e.target).catch(showError);
});
$('hold-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const body = {};
  for (const [k, v] of new FormData(e.target)) if (String(v).trim()) body[k] = String(v).trim();
  try {
    const r = await api('/api/v1/holds', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    $('hold-status').textContent = `hold ${r.id} requested: sealed and applied at the daemon's next pickup`;
    e.target.reset();
    await holds();
  } catch (err) {
    showError(err);
  }
});
for (const h1 of document.querySelectorAll('h1')) h1.tabIndex = -1;
whoami();
route();
