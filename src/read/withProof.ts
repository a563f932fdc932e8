/**
 * `sealog query --with-proof`: each record printed as its inclusion bundle (proofs.ts)
 * against the newest checkpoint, or, past it, as `{"type":"sealog.unsealed.v1","leaf_index",
 * "record"}` (no proof exists yet: the next checkpoint will seal it).
 *
 * Exported API
 * - `inclusionPrinter(trail, format, write)` → a `Printer` (render.ts): `json` prints one array,
 *   every other format one bundle per line.
 */
import { ErrorCode, SealogError } from '../errors.js';
import { inclusionBundle } from './proofs.js';
import type { Format, Printer } from './render.js';
import type { CheckpointFile, Trail } from './trail.js';

export function inclusionPrinter(trail: Trail, format: Format, write: (s: string) => void): Printer {
  let cp: CheckpointFile | undefined;
  let first = true;
  const emit = (o: unknown) => {
    if (format === 'json') write(first ? '[\n' : ',\n');
    write(JSON.stringify(o));
    if (format !== 'json') write('\n');
    first = false;
  };
  return {
    async record(line, seq) {
      // A follow sees new checkpoints as they come.
      if (!cp || cp.size <= seq) cp = await trail.newestCheckpoint();
      if (!cp || cp.size <= seq) return emit({ type: 'sealog.unsealed.v1', leaf_index: seq, record: line.toString('utf8') });
      try {
        emit(await inclusionBundle(trail, seq, { checkpoint: cp }));
      } catch (err) {
        if (err instanceof SealogError && err.code === ErrorCode.NOT_SEALED)
          emit({ type: 'sealog.unsealed.v1', leaf_index: seq, record: line.toString('utf8') });
        else throw err;
      }
    },
    end() {
      if (format === 'json') write(first ? '[]\n' : '\n]\n');
    },
  };
}
