import { createHash } from 'node:crypto';
import type { Signer, Verifier } from '../crypto/keys.js';
import { noteSigner, parseNote, signNote } from '../crypto/note.js';
import type { ReportJson } from './model.js';

// `sealog report --sign`: a detached C2SP signed note beside the report file, signed with
// the log's key, naming the report's bytes by SHA-256 and the checkpoint it covers, so the
// report can be checked later (sealog report --check FILE --key PUB) like a checkpoint.

const HEADER = 'sealog report v1';

export function reportNoteText(r: ReportJson, bytes: Buffer): string {
  const cp = r.log.checkpoint;
  return [
    HEADER,
    r.log.origin ?? '',
    `standard ${r.standard} from ${r.period.from ?? '-'} to ${r.period.to ?? '-'}`,
    `checkpoint ${cp ? `${cp.tree_size} ${cp.root}` : 'none'}`,
    `integrity ${r.integrity.verdict}`,
    `generated ${r.generated.at}`,
    `sha256 ${createHash('sha256').update(bytes).digest('hex')}`,
    '',
  ].join('\n');
}

export const signReport = (r: ReportJson, bytes: Buffer, signer: Signer) => signNote(reportNoteText(r, bytes), signer);

/** Checks a report file against its note: a valid signature by a pinned key, and the file's hash. Returns why not, or the signer. */
export function checkReportNote(note: Buffer, bytes: Buffer, ring: readonly Verifier[]): { signer: Verifier; text: string } | { error: string } {
  const parsed = parseNote(note);
  if (typeof parsed === 'string') return { error: parsed };
  if (!parsed.text.startsWith(`${HEADER}\n`)) return { error: 'not a sealog report note' };
  const signer = noteSigner(parsed, ring);
  if (!signer) return { error: 'the note has no valid signature by a pinned key' };
  const sha = /\nsha256 ([0-9a-f]{64})\n$/.exec(parsed.text)?.[1];
  if (sha !== createHash('sha256').update(bytes).digest('hex')) return { error: 'the report file is not the one the note signs (its SHA-256 differs)' };
  return { signer, text: parsed.text };
}
