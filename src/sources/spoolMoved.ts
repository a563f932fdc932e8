import { lstat } from 'node:fs/promises';
import type { JsonObject } from '../types.js';

interface Moved {
  file: string;
  moved_to: string;
  ino: number;
  size: number;
  at: number;
}

// How many moved files, and for how long, are watched for a writer that kept writing.
const MAX_WATCHED = 1000;
const WATCH_MS = 24 * 3600 * 1000;

/**
 * Files written in place that left the spool after being idle. A writer that
 * still had one open and writes again writes into the moved file, where sealog
 * no longer reads: each such growth is reported (a sealed record naming the file
 * and the bytes it gained), never lost without a word.
 */
export class MovedFiles {
  private watched = new Map<string, Moved>();

  constructor(private readonly report: (event: JsonObject) => void) {}

  watch(path: string, m: Omit<Moved, 'at'>): void {
    this.watched.set(path, { ...m, at: Date.now() });
    if (this.watched.size > MAX_WATCHED) this.watched.delete(this.watched.keys().next().value!);
  }

  async check(): Promise<void> {
    const now = Date.now();
    for (const [path, m] of this.watched) {
      const st = await lstat(path).catch(() => undefined);
      if (!st || st.ino !== m.ino || now - m.at > WATCH_MS) {
        this.watched.delete(path);
        continue;
      }
      if (st.size <= m.size) continue;
      this.report({
        file: m.file,
        moved_to: m.moved_to,
        bytes_at_move: m.size,
        bytes_now: st.size,
        reason: 'written to after it was idle and moved out of the spool; the bytes after bytes_at_move are not sealed',
      });
      m.size = st.size;
    }
  }
}
