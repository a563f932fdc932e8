// A node:test reporter that writes one JSON line per finished test: what the validation
// pack's traceability matrix is generated from (node --test --test-reporter=<this file>).

interface TestEventData {
  name: string;
  nesting: number;
  file?: string;
  skip?: boolean | string;
  todo?: boolean | string;
  details?: { duration_ms?: number; error?: { message?: string; cause?: unknown } };
}

export default async function* reporter(source: AsyncIterable<{ type: string; data: TestEventData }>): AsyncGenerator<string> {
  for await (const { type, data } of source) {
    if (type !== 'test:pass' && type !== 'test:fail') continue;
    const result =
      type === 'test:fail'
        ? 'failed'
        : data.skip !== undefined && data.skip !== false
          ? 'skipped'
          : data.todo !== undefined && data.todo !== false
            ? 'todo'
            : 'passed';
    const error =
      type === 'test:fail'
        ? String((data.details?.error?.cause as Error | undefined)?.message ?? data.details?.error?.message ?? '').slice(0, 2000)
        : undefined;
    yield `${JSON.stringify({ name: data.name, nesting: data.nesting, file: data.file, result, duration_ms: data.details?.duration_ms, ...(error !== undefined && { error }) })}\n`;
  }
}
