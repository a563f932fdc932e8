import type { Requirement } from './urs.js';

/** One finished test as the validation reporter wrote it. */
export interface TestResult {
  name: string;
  nesting: number;
  file?: string;
  result: 'passed' | 'failed' | 'skipped' | 'todo';
  duration_ms?: number;
  error?: string;
}

export interface MatrixRow extends Requirement {
  tests: { name: string; file: string; result: TestResult['result']; duration_ms?: number }[];
  /** passed: at least one test ran and passed, none failed; failed: one failed; untested: none ran and passed. */
  result: 'passed' | 'failed' | 'untested';
}

const ID = /\[(URS-[A-Z0-9]+-\d+)\]/g;

/** The requirement ids a test's name carries, e.g. "[URS-P11-010] [URS-ALC-050] ...". */
export const requirementIds = (name: string) => [...name.matchAll(ID)].map((m) => m[1]!);

/** Requirement → feature → tests → result, generated from the names of the tests that ran. */
export function traceability(
  urs: readonly Requirement[],
  results: readonly TestResult[],
  relative: (file: string) => string = (f) => f,
): { rows: MatrixRow[]; unknown: string[] } {
  const known = new Set(urs.map((r) => r.id));
  const unknown = new Set<string>();
  const byId = new Map<string, MatrixRow['tests']>();
  for (const t of results) {
    for (const id of requirementIds(t.name)) {
      if (!known.has(id)) unknown.add(id);
      const list = byId.get(id) ?? [];
      list.push({
        name: t.name,
        file: relative(t.file ?? ''),
        result: t.result,
        ...(t.duration_ms !== undefined && { duration_ms: Math.round(t.duration_ms) }),
      });
      byId.set(id, list);
    }
  }
  const rows = urs.map((r): MatrixRow => {
    const tests = byId.get(r.id) ?? [];
    const result = tests.some((t) => t.result === 'failed') ? 'failed' : tests.some((t) => t.result === 'passed') ? 'passed' : 'untested';
    return { ...r, tests, result };
  });
  return { rows, unknown: [...unknown].sort() };
}
