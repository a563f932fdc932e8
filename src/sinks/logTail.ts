import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Chain, openTrail, type FrameRef, type SegmentInfo, type Trail } from '../read/trail.js';
import { manifestName } from '../store/layout.js';
import { readOwnManifest } from '../store/manifest.js';

export interface TailRecord {
  seq: number;
  line: Buffer;
  hash: string;
  stream: string;
}

/**
 * Follows the committed log for a sink through the read-only trail interface
 * (read/trail.ts): whole frames, every record's hash recomputed and the chain checked
 * across frames, up to a committed seq, keeping its place between calls so a sink that
 * keeps up reads each frame once. It only reads files; the writer never waits.
 */
export class LogTail {
  private trail: Trail;
  private pos: { seg: SegmentInfo; frame: number; nextSeq: number; chain: Chain } | undefined;

  constructor(
    private readonly dataDir: string,
    private readonly frameCap: number,
  ) {
    this.trail = openTrail(dataDir, { frameCap });
  }

  /**
   * Records fromSeq.. through throughSeq (at most about `max`, whole frames). The first may
   * come after fromSeq when retention removed the segments before it.
   */
  async read(fromSeq: number, throughSeq: number, max: number): Promise<TailRecord[]> {
    if (!this.pos || this.pos.nextSeq !== fromSeq) this.pos = await this.locate(fromSeq);
    const out: TailRecord[] = [];
    while (this.pos && out.length < max && this.pos.nextSeq <= throughSeq) {
      const p = this.pos;
      const frames = await this.trail.frames(p.seg);
      if (p.frame >= frames.length) {
        if (p.seg.open) {
          // Read through the open segment: wait, unless it has been closed since (its last frames, then on).
          const now = (await this.trail.segments()).find((x) => x.n === p.seg.n);
          if (!now || now.open) break;
          p.seg = now;
          continue;
        }
        const next = await this.locate(p.nextSeq, p.seg.n + 1);
        if (!next) break;
        this.pos = { ...next, chain: p.chain };
        continue;
      }
      const f: FrameRef = frames[p.frame]!;
      const c = this.trail.check(p.seg, f, await this.trail.decode(p.seg, f));
      if (c.firstSeq > throughSeq) break; // written, not yet durable
      p.chain.link(p.seg, f, c);
      c.lines.forEach((line, i) => {
        const seq = c.firstSeq + i;
        if (seq >= fromSeq)
          out.push({ seq, line, hash: Buffer.from(c.hashes.buffer, c.hashes.byteOffset + 32 * i, 32).toString('hex'), stream: streamOf(line) });
      });
      p.frame++;
      p.nextSeq = c.firstSeq + c.lines.length;
    }
    return out;
  }

  /**
   * The first segment (from `fromN` on) that may hold seq; closed segments ending before it
   * are skipped by their manifests, so a sink far behind does not walk every old segment.
   * A fresh trail per segment: its frame cache never grows past the segment being read.
   */
  private async locate(seq: number, fromN = 0): Promise<LogTail['pos']> {
    this.trail = openTrail(this.dataDir, { frameCap: this.frameCap });
    for (const seg of await this.trail.segments()) {
      if (seg.n < fromN) continue;
      const m = await readFile(join(this.trail.layout.segments, manifestName(seg.n))).then(readOwnManifest, () => undefined);
      if (m && m.last_seq < seq) continue;
      // From its first frame: records before seq are checked and passed over.
      return { seg, frame: 0, nextSeq: seq, chain: new Chain() };
    }
    return undefined;
  }

  /** Checkpoints with tree size in (after, through], in order, with their signed notes. */
  async checkpoints(after: number, through: number): Promise<{ size: number; note: Buffer }[]> {
    const out: { size: number; note: Buffer }[] = [];
    for (const c of await this.trail.checkpoints()) {
      if (c.size <= after || c.size > through) continue;
      const note = await readFile(c.file).catch(() => undefined);
      if (note && note.length < 65536) out.push({ size: c.size, note });
    }
    return out;
  }
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
