import type { FileHandle } from 'node:fs/promises';
import type { Logger } from 'pino';
import { BoundedBytes, type SplitLine } from './boundedBytes.js';
import type { Ingest } from './ingest.js';
import { JsonArraySplitter } from './jsonArraySplitter.js';
import { LineSplitter } from './lineSplitter.js';
import { fingerprint, type FileIngest, type FileStatus } from './spoolFile.js';

const CHUNK = 64 * 1024;
const PROGRESS_EVERY = 64 * 1024 * 1024;
/** A whole JSON document (one object, or an array of them), never read in parts. */
export const DOCUMENT = /\.json$/;

export interface ReadOptions {
  /** Read to the end: the last line counts with or without a newline. */
  complete: boolean;
  maxLineBytes: number;
  ingest: Pick<Ingest, 'full' | 'whenReady' | 'closed'>;
  stopped(): boolean;
  log: Logger;
}

/** Reads the first `f.part.end` bytes, line by line (or element by element), into the pipeline, in 64 KiB chunks, with backpressure. */
export async function readPart(fh: FileHandle, f: FileIngest, status: FileStatus, r: ReadOptions): Promise<'complete' | 'short' | 'stopped'> {
  const document = DOCUMENT.test(f.name) ? new JsonArraySplitter(r.maxLineBytes) : undefined;
  const lines = document ? undefined : new LineSplitter(r.maxLineBytes);
  const splitter = document ?? lines!;
  const size = f.part.end;
  let nextReport = PROGRESS_EVERY;
  for (let pos = 0; pos < size && !document?.broken; ) {
    if (r.stopped()) return 'stopped'; // resumes at the next start; not the file's fault
    // A fresh buffer per chunk: the lines framed from it keep referring to it.
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, size - pos));
    const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) break;
    pos += bytesRead;
    status.bytes = pos;
    for (const l of splitter.push(buf.subarray(0, bytesRead))) {
      // Wait for room before each line, so the pipeline's entrance never holds more than its mark.
      if (r.ingest.full) await new Promise<void>((resume) => r.ingest.whenReady(resume));
      if (r.stopped() || r.ingest.closed) return 'stopped';
      f.line(l.bytes, l.oversize);
    }
    if (pos >= nextReport) {
      nextReport += PROGRESS_EVERY;
      r.log.info({ file: f.name, bytes: pos, size, lines: status.lines }, 'spool file progress');
    }
  }
  if (r.stopped()) return 'stopped';
  if (document) {
    const broken = document.end();
    if (broken) {
      // Not JSON from here on: the rest of the file is one dead-letter record, and the file's record says where.
      const rest = await restOf(fh, broken.offset, size);
      f.brokenAt(broken, rest.bytes.length || rest.oversize ? rest : undefined);
      return 'complete';
    }
  } else {
    const last = r.complete ? lines!.end() : undefined;
    if (last) f.line(last.bytes, last.oversize);
  }
  return status.bytes < size ? 'short' : 'complete';
}

/** The bytes from `offset` to `end`: their head, with their length and hash when there are more. */
async function restOf(fh: FileHandle, offset: number, end: number): Promise<SplitLine> {
  const rest = new BoundedBytes(4096);
  for (let pos = offset; pos < end; ) {
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, end - pos));
    const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) break;
    rest.take(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
  return rest.finish();
}

/** Whether the file's first `bytes` are the finished content `fp`, ending with a whole line. */
export async function startsWith(fh: FileHandle, fp: string, bytes: number): Promise<boolean> {
  const last = Buffer.alloc(1);
  if (bytes === 0 || (await fh.read(last, 0, 1, bytes - 1)).bytesRead !== 1 || last[0] !== 0x0a) return false;
  return (await fingerprint(fh, bytes))?.fp === fp;
}
