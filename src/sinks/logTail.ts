import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { noSpans } from '../crypto/canonicalScan.js';
import { listCheckpoints, listSegments, manifestName, segmentName, type Layout } from '../store/layout.js';
import { scanFrame } from '../store/lz4frames.js';
import { readOwnManifest } from '../store/manifest.js';
import { decodeRecords } from '../store/records.js';
import { openLine, sealedLine } from '../store/recordLine.js';

export interface TailRecord {
  seq: number;
  line: Buffer;
  hash: string;
  stream: string;
}

/**
 * Follows the committed log for a sink: reads whole frames from the segment files
 * (the open one included) up to a committed seq, keeping its place between calls so a
 * sink that keeps up reads each frame once. It only reads files; the writer never waits.
 * Every record's hash is recomputed and the chain checked before a sink may send it.
 */
export class LogTail {
  private pos: { n: number; offset: number; nextSeq: number; lastHash?: string } | undefined;
  private readonly leaf = new Uint8Array(32);
  private readonly spans = noSpans();

  constructor(private readonly l: Layout, private readonly frameCap: number) {}

  /**
   * Records fromSeq.. through throughSeq (at most about `max`, whole frames). The first may
   * come after fromSeq when retention removed the segments before it.
   */
  async read(fromSeq: number, throughSeq: number, max: number): Promise<TailRecord[]> {
    if (!this.pos || this.pos.nextSeq !== fromSeq) this.pos = await this.locate(fromSeq);
    const out: TailRecord[] = [];
    while (this.pos && out.length < max && this.pos.nextSeq <= throughSeq) {
      const p = this.pos;
      const frame = await this.nextFrame(p.n, p.offset);
      if (frame === 'wait') break;
      if (frame === 'next') {
        this.pos = (await this.locate(p.nextSeq, p.n + 1)) ?? p;
        if (this.pos === p) break;
        continue;
      }
      const decoded = decodeRecords(frame.raw, frame.maxDecoded, this.frameCap);
      if (!Buffer.isBuffer(decoded)) throw new Error(`${segmentName(p.n)} at byte ${p.offset}: ${decoded.reason}`);
      const lines = splitLines(decoded);
      const first = this.seqOf(lines[0]!, p.n, p.offset);
      if (first > throughSeq) break; // written, not yet durable
      let seq = first;
      for (const line of lines) {
        const s = this.seqOf(line, p.n, p.offset);
        if (s !== seq) throw new Error(`${segmentName(p.n)} at byte ${p.offset}: seq ${s} where ${seq} belongs`);
        const hash = line.subarray(line.length - 66, line.length - 2).toString('latin1');
        const prev = line.subarray(this.spans.prevStart + 1, this.spans.prevEnd - 1).toString('latin1');
        if (p.lastHash !== undefined && prev !== p.lastHash) throw new Error(`${segmentName(p.n)} at byte ${p.offset}: seq ${s} does not chain to the record before`);
        p.lastHash = hash;
        if (s >= fromSeq) out.push({ seq: s, line, hash, stream: streamOf(line) });
        seq++;
      }
      p.offset += frame.raw.length;
      p.nextSeq = seq;
    }
    return out;
  }

  /** The seq of a line whose hash recomputes, with its top-level spans in this.spans; else an error. */
  private seqOf(line: Buffer, n: number, offset: number): number {
    const seq = sealedLine(line, this.leaf, this.spans);
    if (seq >= 0) return seq;
    const o = openLine(line);
    const why = typeof o === 'string' ? o : o.hash.toString('hex') !== o.claimed ? 'hash mismatch' : 'not canonical';
    throw new Error(`${segmentName(n)} at byte ${offset}: record fails its own check (${why})`);
  }

  /** The next whole frame at offset, 'wait' when none is there yet, 'next' when the segment is closed and read through (or gone). */
  private async nextFrame(n: number, offset: number): Promise<{ raw: Buffer; maxDecoded: number } | 'wait' | 'next'> {
    let fh;
    try {
      fh = await open(join(this.l.segments, segmentName(n)), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'next';
      throw err;
    }
    try {
      const { size } = await fh.stat();
      let want = Math.min(1 << 20, size - offset);
      while (want > 0) {
        const buf = Buffer.allocUnsafe(want);
        const { bytesRead } = await fh.read(buf, 0, want, offset);
        const scan = scanFrame(buf.subarray(0, bytesRead));
        if (scan.ok) return { raw: buf.subarray(0, scan.length), maxDecoded: scan.maxDecoded };
        if (!scan.incomplete) throw new Error(`${segmentName(n)} at byte ${offset}: ${scan.reason}`);
        if (offset + bytesRead >= size) break; // the writer is still writing this frame
        if (want >= this.frameCap) throw new Error(`${segmentName(n)} at byte ${offset}: frame longer than ${this.frameCap} bytes`);
        want = Math.min(want * 2, size - offset);
      }
    } finally {
      await fh.close();
    }
    const closed = await readFile(join(this.l.segments, manifestName(n))).then(() => true, () => false);
    return closed ? 'next' : 'wait';
  }

  /** The first segment (from `fromN` on) that may hold seq; closed segments ending before it are skipped by their manifests. */
  private async locate(seq: number, fromN = 0): Promise<LogTail['pos']> {
    for (const { n } of await listSegments(this.l)) {
      if (n < fromN) continue;
      const m = await readFile(join(this.l.segments, manifestName(n))).then(readOwnManifest, () => undefined);
      if (m && m.last_seq < seq) continue;
      return { n, offset: 0, nextSeq: seq };
    }
    return undefined;
  }

  /** Checkpoints with tree size in (after, through], in order, with their signed notes. */
  async checkpoints(after: number, through: number): Promise<{ size: number; note: Buffer }[]> {
    const out: { size: number; note: Buffer }[] = [];
    for (const c of await listCheckpoints(this.l)) {
      if (c.n <= after || c.n > through) continue;
      const note = await readFile(join(this.l.checkpoints, c.name)).catch(() => undefined);
      if (note && note.length < 65536) out.push({ size: c.n, note });
    }
    return out;
  }
}

function splitLines(buf: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  for (let start = 0, i = buf.indexOf(0x0a); i !== -1; start = i + 1, i = buf.indexOf(0x0a, start)) lines.push(buf.subarray(start, i));
  return lines;
}

const STREAM_KEY = Buffer.from(',"stream":"');

/**
 * The top-level stream of a canonical record line. Keys are sorted, so after the top-level
 * "stream" come only "ts", "type" and "hash", whose string values cannot hold an unescaped
 * quote: the last match is the top-level member.
 */
function streamOf(line: Buffer): string {
  const at = line.lastIndexOf(STREAM_KEY);
  if (at < 0) return 'unknown';
  const start = at + STREAM_KEY.length;
  return line.subarray(start, line.indexOf(0x22, start)).toString('utf8');
}
