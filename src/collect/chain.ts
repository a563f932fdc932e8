import type { Verifier } from '../crypto/keys.js';
import { CompactTree } from '../crypto/merkle.js';
import { openCheckpoint } from '../store/checkpoint.js';
import { noSpans } from '../crypto/canonicalScan.js';
import { openLine, sealedLine } from '../store/recordLine.js';
import { topFields, type TopFields } from './fields.js';

/** Where an origin's chain stands: the next seq, the hash it must chain to, the Merkle tree so far. */
export interface OriginState {
  nextSeq: number;
  lastHash: string;
  /** Equals nextSeq in size unless an operator acknowledged a gap: then roots can no longer be recomputed. */
  tree: CompactTree;
}

export interface RecordRow {
  origin: string;
  seq: number;
  ts: string;
  stream: string;
  level: string;
  type: string;
  hash: string;
  prev: string;
  /** The stored line, byte for byte. */
  line: Buffer;
  /** The event as JSON text for the JSONB column (the line stays the evidence). */
  event: Buffer;
}

export interface CheckpointRow {
  origin: string;
  tree_size: number;
  root: string;
  note: string;
}

export type Checked<T> = { ok: true; row: T } | { ok: false; reason: string };

const TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;
const MAX_NAME = 256;
const SUFFIX_LEN = ',"hash":"'.length + 64 + '"}'.length;
const NUL_ESCAPE = Buffer.from('\\u0000');
// sealedLine's scratch: one line at a time, synchronously.
const leaf = new Uint8Array(32);
const spans = noSpans();

/**
 * The record that should come next for an origin (seq === state.nextSeq), checked from its
 * bytes alone: it must be a canonical record whose hash recomputes, whose seq is the one
 * its headers claim, that chains to the previous record, and whose columns are sane.
 * On success the state moves on by one; on failure it is untouched.
 *
 * The usual line takes the byte-level path (sealedLine: canonical form checked on the
 * bytes, the hash by the native addon; columns sliced from the line); anything it is not
 * sure of goes through openLine (parse, re-serialize, compare), which also says why.
 */
export function acceptRecord(origin: string, seq: number, body: Buffer, claimedHash: string | undefined, s: OriginState): Checked<RecordRow> {
  if (body.includes(0x0a)) return { ok: false, reason: 'record body holds a newline' };
  let lineSeq: number, hash: string, prev: string, f: TopFields;
  const fast = sealedLine(body, leaf, spans);
  if (fast >= 0) {
    lineSeq = fast;
    hash = body.toString('latin1', body.length - 66, body.length - 2); // the hash member, equal to the recomputed leaf
    prev = body.toString('latin1', spans.prevStart + 1, spans.prevEnd - 1);
    f = topFields(body, body.length - SUFFIX_LEN);
  } else {
    const opened = openLine(body);
    if (typeof opened === 'string') return { ok: false, reason: opened };
    hash = opened.hash.toString('hex');
    if (hash !== opened.claimed) return { ok: false, reason: `hash mismatch: the line says ${opened.claimed}, its bytes hash to ${hash}` };
    if (!opened.canonical) return { ok: false, reason: 'record is not in canonical (RFC 8785) form' };
    lineSeq = opened.seq;
    prev = opened.prev;
    const r = opened.record;
    const asText = (v: unknown) => (typeof v === 'string' ? v : undefined);
    f = {
      ts: asText(r.ts),
      stream: asText(r.stream),
      level: asText(r.level),
      type: asText(r.type),
      event: Buffer.from(JSON.stringify(r.event ?? null), 'utf8'),
    };
  }
  if (lineSeq !== seq) return { ok: false, reason: `record says seq ${lineSeq}, its headers say ${seq}` };
  if (claimedHash !== undefined && claimedHash !== hash) return { ok: false, reason: 'Sealog-Hash header differs from the record hash' };
  if (prev !== s.lastHash) return { ok: false, reason: `broken chain: prev ${prev} is not the hash of seq ${seq - 1} (${s.lastHash})` };
  const { ts, stream, level, type } = f;
  if (ts === undefined || !TS.test(ts) || Number.isNaN(Date.parse(ts))) return { ok: false, reason: 'record ts is not an RFC 3339 UTC time' };
  for (const [k, v] of [
    ['stream', stream],
    ['level', level],
    ['type', type],
  ] as const) {
    if (v === undefined || v.length > MAX_NAME) return { ok: false, reason: `record ${k} is not a string of at most ${MAX_NAME} characters` };
  }
  // PostgreSQL text and jsonb cannot hold U+0000; the line (JSON) only ever holds it escaped.
  const event = f.event.includes(NUL_ESCAPE) ? Buffer.from(f.event.toString('utf8').replaceAll('\\u0000', '\\ufffd'), 'utf8') : f.event;
  if (s.tree.size === s.nextSeq) s.tree.append(fast >= 0 ? Buffer.from(leaf) : Buffer.from(hash, 'hex'));
  s.nextSeq++;
  s.lastHash = hash;
  return { ok: true, row: { origin, seq, ts, stream: stream!, level: level!, type: type!, hash, prev, line: body, event } };
}

/**
 * A checkpoint for an origin: signed by one of the keys pinned for it, naming that origin,
 * and (when the tree stands exactly at its size) with the root the records hash to.
 * Called only once the records it covers are in (size <= nextSeq).
 */
export function acceptCheckpoint(
  origin: string,
  size: number,
  body: Buffer,
  keys: readonly Verifier[],
  s: OriginState,
): Checked<CheckpointRow> & { rootChecked?: boolean } {
  const opened = openCheckpoint(body, keys);
  if ('error' in opened) return { ok: false, reason: opened.signature ? `checkpoint signature: ${opened.error}` : opened.error };
  const cp = opened.checkpoint;
  if (cp.origin !== origin) return { ok: false, reason: `checkpoint names origin ${JSON.stringify(cp.origin)}, sent as ${JSON.stringify(origin)}` };
  if (cp.size !== size) return { ok: false, reason: `checkpoint says tree size ${cp.size}, its headers say ${size}` };
  const rootChecked = s.tree.size === size && s.nextSeq === size;
  if (rootChecked && !s.tree.root().equals(cp.root))
    return { ok: false, reason: `Merkle root mismatch at tree size ${size}: the records received do not hash to the signed root` };
  return { ok: true, rootChecked, row: { origin, tree_size: size, root: cp.root.toString('base64'), note: body.toString('utf8') } };
}

export function initialState(): OriginState {
  return { nextSeq: 0, lastHash: '0'.repeat(64), tree: new CompactTree() };
}
