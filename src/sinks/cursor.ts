import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileDurable } from '../store/fsutil.js';

/** A sink's durable cursor: the last seq it had acknowledged, and the largest checkpoint it sent. */
export interface Cursor {
  seq: number;
  checkpoint: number;
}

export const cursorPath = (dataDir: string, name: string) => join(dataDir, 'sinks', `${name}.cursor`);

/** A missing cursor starts at the beginning of the log; a damaged one is an error (re-sending is safe, guessing is not). */
export async function loadCursor(path: string): Promise<Cursor> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { seq: -1, checkpoint: 0 };
    throw err;
  }
  const c = JSON.parse(text) as Partial<Cursor>;
  if (!Number.isSafeInteger(c.seq) || c.seq! < -1 || !Number.isSafeInteger(c.checkpoint) || c.checkpoint! < 0)
    throw new Error(`sink cursor ${path} is damaged: ${text.slice(0, 100)}`);
  return { seq: c.seq!, checkpoint: c.checkpoint! };
}

export async function saveCursor(path: string, c: Cursor): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true, mode: 0o750 });
  await writeFileDurable(path, `${JSON.stringify(c)}\n`, 0o640);
}

/** The lowest cursor of the sinks that hold retention: no record after it may be removed. */
export async function retentionFloor(dataDir: string, names: readonly string[]): Promise<number> {
  let floor = Infinity;
  for (const name of names) floor = Math.min(floor, (await loadCursor(cursorPath(dataDir, name))).seq);
  return floor;
}
