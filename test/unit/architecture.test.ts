import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';

// The rules that keep the structure docs/architecture.md describes, read from the
// import statements of src/ (the graph tsc compiles).
const ROOT = join(import.meta.dirname, '..', '..', '..');
const SRC = join(ROOT, 'src');

interface Edge {
  to: string;
  typeOnly: boolean;
}

/** Every src file (path relative to the repo, .ts) and what it imports from src, marked type-only or not. */
function importGraph(): Map<string, Edge[]> {
  const graph = new Map<string, Edge[]>();
  const files = (readdirSync(SRC, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
  const statement = /^(?:import|export)\s+(type\s+)?([^'";]*?)\s*from\s+'(\.[^']+)'/gm;
  const worker = /new URL\('(\.[^']+)', import\.meta\.url\)/g;
  for (const f of files) {
    const from = join('src', f);
    const text = readFileSync(join(SRC, f), 'utf8');
    const resolveTs = (spec: string) => normalize(join(dirname(from), spec)).replace(/\.js$/, '.ts');
    const edges: Edge[] = [];
    for (const m of text.matchAll(statement)) {
      if (!normalize(join(dirname(from), m[3]!)).startsWith('src/')) continue; // e.g. ../package.json
      // `import { type A, type B }` is type-only too.
      const names = m[2]!
        .replace(/^\{|\}$/g, '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const typeOnly = Boolean(m[1]) || (m[2]!.startsWith('{') && names.every((n) => n.startsWith('type ')));
      edges.push({ to: resolveTs(m[3]!), typeOnly });
    }
    // A worker thread's entry file is loaded at run time by its URL.
    for (const m of text.matchAll(worker)) if (m[1]!.endsWith('.js')) edges.push({ to: resolveTs(m[1]!), typeOnly: false });
    graph.set(from, edges);
  }
  return graph;
}

const graph = importGraph();
const under = (file: string, dirs: string[]) => dirs.some((d) => file === `${d}.ts` || file.startsWith(`${d}/`));

test('the import graph is read: every import resolves to a file of src/', () => {
  assert.ok(graph.size > 80, `${graph.size} files`);
  for (const [from, edges] of graph) for (const e of edges) assert.ok(graph.has(e.to), `${from} imports ${e.to}, which is not a file of src/`);
});

// src/daemon.ts and src/daemon/ wire the writer, the readers and the services together: the one place that may import both.
test('the writer never imports from the verifier or a reader', () => {
  const writer = ['src/store', 'src/stages', 'src/sources', 'src/front'];
  const readers = ['src/verify', 'src/read', 'src/sinks', 'src/http', 'src/report', 'src/collect'];
  const found = [...graph].flatMap(([from, edges]) => (under(from, writer) ? edges.filter((e) => under(e.to, readers)).map((e) => `${from} → ${e.to}`) : []));
  assert.deepEqual(found, []);
});

test("readers never reach into the writer's internals", () => {
  // They read the log through files (src/read's Trail, the store's read helpers). The HTTP
  // API's ingest route is also a source: it frames lines as sources do and hands them to Ingest.
  const readers = ['src/verify', 'src/read', 'src/sinks', 'src/http', 'src/report', 'src/collect'];
  const internals = ['src/stages', 'src/front', 'src/sources', 'src/daemon', 'src/store/segmentStore', 'src/store/recovery', 'src/store/lock'];
  const allowed = (from: string, e: Edge) => under(from, ['src/http']) && ['src/sources/ingest.ts', 'src/sources/lineSplitter.ts'].includes(e.to);
  const found = [...graph].flatMap(([from, edges]) =>
    under(from, readers) ? edges.filter((e) => under(e.to, internals) && !allowed(from, e)).map((e) => `${from} → ${e.to}`) : [],
  );
  assert.deepEqual(found, []);
});

test('no runtime import cycles', () => {
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (f: string, path: string[]) => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open') {
      cycles.push([...path.slice(path.indexOf(f)), f].map((p) => relative('src', p)).join(' → '));
      return;
    }
    state.set(f, 'open');
    for (const e of graph.get(f) ?? []) if (!e.typeOnly) visit(e.to, [...path, f]);
    state.set(f, 'done');
  };
  for (const f of graph.keys()) visit(f, []);
  assert.deepEqual(cycles, []);
});
