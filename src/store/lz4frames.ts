import { Xxh32, xxh32 } from './xxh32.js';
import type { FileHandle } from 'node:fs/promises';
import { ErrorCode, SealogError } from '../errors.js';

// We walk the LZ4 frame format (lz4 Frame_format.md) ourselves to find frame
// boundaries and to bound each frame's decoded size before decoding it (an
// uncapped decode of a hostile segment is the classic decompression bomb), and
// decode its blocks ourselves into one reused buffer: lz4-napi's decoder takes a
// fresh buffer of the block maximum (4 MiB) per block, which a verify or sweep
// left as garbage frame after frame (tens of MB of RSS before a GC came).

const MAGIC = 0x184d2204;
const BLOCK_MAX = [0, 0, 0, 0, 64 << 10, 256 << 10, 1 << 20, 4 << 20];

export type FrameScan = { ok: true; length: number; maxDecoded: number } | { ok: false; incomplete: boolean; reason: string };

/** Measures the frame starting at buf[0]. `incomplete` means more bytes might complete it. */
export function scanFrame(buf: Buffer): FrameScan {
  const need = (n: number): FrameScan => ({ ok: false, incomplete: true, reason: `frame cut short (needs ${n} bytes, has ${buf.length})` });
  if (buf.length < 7) return need(7);
  if (buf.readUInt32LE(0) !== MAGIC) return { ok: false, incomplete: false, reason: 'bad LZ4 frame magic' };
  const flg = buf[4]!;
  const bd = buf[5]!;
  if (flg >> 6 !== 1 || flg & 0x02 || bd & 0x8f) return { ok: false, incomplete: false, reason: 'bad LZ4 frame descriptor' };
  const blockMax = BLOCK_MAX[(bd >> 4) & 7]!;
  if (!blockMax) return { ok: false, incomplete: false, reason: 'bad LZ4 block size code' };
  const blockChecksum = (flg & 0x10) !== 0;
  const contentChecksum = (flg & 0x04) !== 0;
  let pos = 6 + (flg & 0x08 ? 8 : 0) + (flg & 0x01 ? 4 : 0) + 1;
  if (buf.length < pos) return need(pos);
  if (buf[pos - 1] !== ((xxh32(buf.subarray(4, pos - 1)) >>> 8) & 0xff)) return { ok: false, incomplete: false, reason: 'LZ4 frame header checksum mismatch' };
  let blocks = 0;
  for (;;) {
    if (buf.length < pos + 4) return need(pos + 4);
    const word = buf.readUInt32LE(pos);
    pos += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    if (size > blockMax) return { ok: false, incomplete: false, reason: 'LZ4 block larger than its declared maximum' };
    pos += size + (blockChecksum ? 4 : 0);
    blocks++;
  }
  if (contentChecksum) pos += 4;
  if (buf.length < pos) return need(pos);
  return { ok: true, length: pos, maxDecoded: blocks * blockMax };
}

/** The cap refusal, in one wording for verify (V_FRAME_TOO_LARGE) and the daemon's own reads. */
export const overCap = (maxDecoded: number, cap: number) => `LZ4 frame may decode to ${maxDecoded} bytes, over the ${cap}-byte cap`;

/** Decodes one whole frame, refusing any whose declared blocks could exceed `cap` bytes. */
export function decodeFrame(frame: Buffer, maxDecoded: number, cap: number): Buffer {
  if (maxDecoded > cap) throw new SealogError(ErrorCode.LZ4_CAP, overCap(maxDecoded, cap));
  const blocks: Buffer[] = [];
  try {
    // Copied as they come: frameBlocks reuses its buffer for the next block.
    for (const block of frameBlocks(frame)) blocks.push(Buffer.from(block));
  } catch (err) {
    throw new SealogError(ErrorCode.LZ4_FRAME, (err as Error).message, { cause: err });
  }
  return blocks.length === 1 ? blocks[0]! : Buffer.concat(blocks);
}

const WINDOW = 64 * 1024; // what a linked block may refer back to (LZ4 block format)

/** The buffer frameBlocks decodes into, kept for the next frame (one per thread; a frame decoded inside another's loop takes its own). */
let spare: Buffer | undefined;

/**
 * The decoded blocks of one whole frame that scanFrame measured, one at a time: a
 * reader holds one block (at most 4 MiB) decoded, never the whole frame. Each block
 * is decoded into at most its declared maximum, so one that claims more fails.
 * Block and content checksums, when the frame has them, are checked as it goes.
 * Each block yielded is a view of one buffer reused for the next block (no allocation
 * per block or frame, so a long read or sweep holds no garbage): copy what you keep.
 */
export function* frameBlocks(frame: Buffer): Generator<Buffer> {
  const flg = frame[4]!;
  const blockMax = BLOCK_MAX[(frame[5]! >> 4) & 7]!;
  const linked = (flg & 0x20) === 0;
  const blockChecksum = (flg & 0x10) !== 0;
  const content = flg & 0x04 ? new Xxh32() : undefined;
  let pos = 6 + (flg & 0x08 ? 8 : 0) + (flg & 0x01 ? 4 : 0) + 1;
  // out[0, WINDOW) holds the end of the blocks before (what a linked block may copy from); each block is decoded after it.
  const out = spare && spare.length >= WINDOW + blockMax ? spare : Buffer.allocUnsafe(WINDOW + blockMax);
  spare = undefined;
  let history = 0;
  try {
    for (;;) {
      const word = frame.readUInt32LE(pos);
      pos += 4;
      if (word === 0) break;
      const size = word & 0x7fffffff;
      if (size > blockMax || pos + size > frame.length) throw new Error('LZ4 block larger than its declared maximum or its frame');
      const start = pos;
      pos += size;
      if (blockChecksum) {
        if (frame.readUInt32LE(pos) !== xxh32(frame.subarray(start, pos))) throw new Error('LZ4 block checksum mismatch');
        pos += 4;
      }
      let end = WINDOW + size;
      if (!(word & 0x80000000)) end = decodeBlock(frame, start, start + size, out, WINDOW, WINDOW + blockMax, linked ? WINDOW - history : WINDOW);
      else if (linked) frame.copy(out, WINDOW, start, start + size);
      const block = word & 0x80000000 && !linked ? frame.subarray(start, start + size) : out.subarray(WINDOW, end);
      content?.update(block);
      yield block;
      if (linked) {
        // The last 64 KiB of what came so far, moved to end where the next block starts.
        const keep = Math.min(WINDOW, history + block.length);
        out.copyWithin(WINDOW - keep, end - keep, end);
        history = keep;
      }
    }
    if (content && frame.readUInt32LE(pos) !== content.digest()) throw new Error('LZ4 content checksum mismatch');
  } finally {
    spare = out;
  }
}

/**
 * Decodes the LZ4 block src[s, sEnd) into out from `o` on, writing nothing at or past
 * `outEnd` and copying matches from nothing before `low` (the linked blocks' window or
 * the block's own start); returns where the output ends. Every length and offset is
 * checked before it is used: a hostile block fails, it never reads or writes out of bounds.
 */
export function decodeBlock(src: Uint8Array, s: number, sEnd: number, out: Buffer, o: number, outEnd: number, low: number): number {
  const bad = (what: string) => new Error(`LZ4 block is corrupt: ${what}`);
  for (;;) {
    if (s >= sEnd) throw bad('it ends inside a sequence');
    const token = src[s++]!;
    let literals = token >>> 4;
    if (literals === 15) {
      for (let b = 255; b === 255; literals += b) {
        if (s >= sEnd) throw bad('it ends inside a length');
        b = src[s++]!;
      }
    }
    if (literals > sEnd - s || literals > outEnd - o) throw bad('its literals run past its end or its declared maximum');
    if (literals > 16) out.set(src.subarray(s, s + literals), o);
    else for (let i = 0; i < literals; i++) out[o + i] = src[s + i]!;
    s += literals;
    o += literals;
    if (s === sEnd) return o; // the last sequence has literals only
    if (sEnd - s < 2) throw bad('it ends inside a match offset');
    const offset = src[s]! | (src[s + 1]! << 8);
    s += 2;
    if (offset === 0 || offset > o - low) throw bad('a match refers to before its window');
    let length = token & 15;
    if (length === 15) {
      for (let b = 255; b === 255; length += b) {
        if (s >= sEnd) throw bad('it ends inside a length');
        b = src[s++]!;
      }
    }
    length += 4;
    if (length > outEnd - o) throw bad('a match runs past its declared maximum');
    let m = o - offset;
    if (offset >= length && length > 16) {
      out.copyWithin(o, m, m + length);
      o += length;
    } else for (const e = o + length; o < e; ) out[o++] = out[m++]!; // short, or overlapping: repeats what it just wrote
  }
}

export interface FrameAt {
  offset: number;
  raw: Buffer;
  maxDecoded: number;
}
export interface FrameFault {
  offset: number;
  reason: string;
  incomplete: boolean;
}

/**
 * Yields each frame of a segment file with its byte offset, reading in bounded
 * chunks; stops at the first fault, which it yields last. `start` is the offset of
 * a frame boundary to begin at (a reader following a growing segment). A frame's
 * `raw` is a view of a read buffer that the next read reuses: copy what you keep
 * past the next step (a fresh buffer per read piled up as garbage until a GC came:
 * the sweep's worker held 15-20 MB of them).
 */
export async function* readFrames(fh: FileHandle, fileSize: number, maxFrameBytes: number, start = 0): AsyncGenerator<FrameAt | FrameFault> {
  let store = Buffer.alloc(0); // grows to hold the longest frame met, then is reused
  let buf = store.subarray(0, 0);
  let bufStart = start; // file offset of buf[0]
  let filePos = start;
  while (bufStart < fileSize) {
    const scan = scanFrame(buf);
    if (scan.ok) {
      yield { offset: bufStart, raw: buf.subarray(0, scan.length), maxDecoded: scan.maxDecoded };
      buf = buf.subarray(scan.length);
      bufStart += scan.length;
      continue;
    }
    if (!scan.incomplete) {
      yield { offset: bufStart, reason: scan.reason, incomplete: false };
      return;
    }
    if (filePos >= fileSize) {
      yield { offset: bufStart, reason: scan.reason, incomplete: true };
      return;
    }
    if (buf.length >= maxFrameBytes) {
      yield { offset: bufStart, reason: `LZ4 frame longer than ${maxFrameBytes} bytes`, incomplete: false };
      return;
    }
    // The bytes not yet framed moved to the front, then the next read after them.
    const want = Math.min(Math.max(1 << 20, buf.length), fileSize - filePos);
    if (store.length < buf.length + want) {
      const grown = Buffer.allocUnsafe(Math.max(buf.length + want, 2 << 20)); // frames under 1 MiB never grow it
      buf.copy(grown);
      store = grown;
    } else buf.copy(store);
    const { bytesRead } = await fh.read(store, buf.length, want, filePos);
    if (bytesRead === 0) {
      yield { offset: bufStart, reason: 'file shrank while being read', incomplete: true };
      return;
    }
    filePos += bytesRead;
    buf = store.subarray(0, buf.length + bytesRead);
  }
}
