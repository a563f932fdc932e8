import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { SealogError, ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import { OwnType, type SealOwn } from '../ownRecords.js';
import { writeFileDurable } from '../store/fsutil.js';
import type { Layout } from '../store/layout.js';
import type { JsonObject } from '../types.js';

/**
 * Legal holds. A hold covers the records that match every criterion it names; a
 * segment holding any covered record is never removed by retention. The CLI
 * (which cannot write to the log: the daemon holds it) drops a request file into
 * data/holds/requests/; the daemon seals each request as an audit record and only
 * then applies it to data/holds/active.json. Retention applies pending requests
 * before it removes anything, so a hold counts from the moment its request is on disk.
 */
export interface Hold {
  id: string;
  stream?: string;
  /** ISO 8601 receive time (the record's ts), inclusive. */
  from?: string;
  /** ISO 8601, exclusive. */
  to?: string;
  correlation_id?: string;
  tenant_id?: string;
  reason: string;
  requested_at: string;
  requested_by?: string;
  /** The seq of the sealed sealog.hold.placed record. */
  placed_seq?: number;
}

/** What the daemon made of one request file: sealed and applied (at `seq`), or ignored and why. */
export interface RequestOutcome {
  request: string;
  op: 'hold' | 'release';
  id: string;
  applied: boolean;
  seq?: number;
  reason?: string;
}

export type HoldRequest = ({ op: 'hold' } & Hold) | { op: 'release'; id: string; reason: string; requested_at: string; requested_by?: string };

export const holdPaths = (l: Layout) => ({ requests: join(l.holds, 'requests'), active: join(l.holds, 'active.json') });

/** True when the record matches every criterion the hold names. */
export function holdCovers(h: Hold, r: Record<string, any>): boolean {
  if (h.stream !== undefined && r.stream !== h.stream) return false;
  if (h.from !== undefined && !(Date.parse(r.ts) >= Date.parse(h.from))) return false;
  if (h.to !== undefined && !(Date.parse(r.ts) < Date.parse(h.to))) return false;
  const e = (r.event ?? {}) as Record<string, unknown>;
  if (h.correlation_id !== undefined && e.correlation_id !== h.correlation_id) return false;
  if (h.tenant_id !== undefined && e.tenant_id !== h.tenant_id) return false;
  return true;
}

export async function readActiveHolds(l: Layout): Promise<Hold[]> {
  try {
    return (JSON.parse(await readFile(holdPaths(l).active, 'utf8')) as { holds: Hold[] }).holds;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export async function readHoldRequests(l: Layout): Promise<{ file: string; request: HoldRequest }[]> {
  const dir = holdPaths(l).requests;
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? [] : Promise.reject(err)));
  const out: { file: string; request: HoldRequest }[] = [];
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    out.push({ file: join(dir, name), request: JSON.parse(await readFile(join(dir, name), 'utf8')) as HoldRequest });
  }
  return out;
}

/** The CLI side: a request file, written whole (write-then-rename), named so requests apply in order. */
export async function writeHoldRequest(l: Layout, request: HoldRequest): Promise<string> {
  const dir = holdPaths(l).requests;
  await mkdir(dir, { recursive: true, mode: 0o750 });
  const file = join(dir, `${Date.now().toString().padStart(15, '0')}-${randomBytes(4).toString('hex')}.json`);
  await writeFileDurable(file, `${JSON.stringify(request)}\n`, 0o640);
  return file;
}

export const newHoldId = () => `hold-${new Date().toISOString().slice(0, 10)}-${randomBytes(3).toString('hex')}`;

/** Every stream a record can be in (DESIGN §6): a hold on any other covers nothing. */
export const STREAMS = ['application', 'audit', 'security', 'rejected'];

/** Checks a hold request's criteria: at least one, and times that parse. */
export function checkHold(h: Partial<Hold>): void {
  if (h.stream === undefined && h.from === undefined && h.to === undefined && h.correlation_id === undefined && h.tenant_id === undefined) {
    throw new SealogError(ErrorCode.USAGE, 'a hold needs at least one of --stream, --from, --to, --correlation-id, --tenant');
  }
  for (const k of ['from', 'to'] as const) {
    if (h[k] !== undefined && Number.isNaN(Date.parse(h[k]!))) throw new SealogError(ErrorCode.USAGE, `--${k} ${JSON.stringify(h[k])} is not an ISO 8601 time`);
  }
  if (h.from !== undefined && h.to !== undefined && !(Date.parse(h.from) < Date.parse(h.to)))
    throw new SealogError(ErrorCode.USAGE, `--from ${h.from} is not before --to ${h.to}: the hold would cover nothing`);
  if (h.stream !== undefined && !STREAMS.includes(h.stream))
    throw new SealogError(ErrorCode.USAGE, `--stream ${JSON.stringify(h.stream)} is not a stream sealog writes (${STREAMS.join(', ')})`);
  if (!h.reason) throw new SealogError(ErrorCode.USAGE, '--reason is required: holds and releases are audit records');
}

/**
 * The daemon side: seals every pending request, then applies it. A crash between the
 * two seals it again at the next pickup (the same hold id twice in the trail, never lost).
 */
export async function applyHoldRequests(
  l: Layout,
  seal: SealOwn,
  log: Logger,
): Promise<{ placed: number; released: number; active: Hold[]; outcomes: RequestOutcome[] }> {
  let active = await readActiveHolds(l);
  let placed = 0;
  let released = 0;
  const outcomes: RequestOutcome[] = [];
  for (const { file, request } of await readHoldRequests(l)) {
    const { op, ...fields } = request;
    const known = active.find((h) => h.id === request.id);
    const outcome: RequestOutcome = { request: basename(file), op, id: request.id, applied: false };
    if (op === 'hold' && !known) {
      outcome.seq = await seal(OwnType.HOLD_PLACED, fields as unknown as JsonObject);
      active = [...active, { ...(fields as Hold), placed_seq: outcome.seq }];
      placed++;
      log.info({ hold: request.id, seq: outcome.seq }, 'legal hold placed');
    } else if (op === 'release' && known) {
      outcome.seq = await seal(OwnType.HOLD_RELEASED, { ...fields, hold: known } as unknown as JsonObject);
      active = active.filter((h) => h.id !== request.id);
      released++;
      log.info({ hold: request.id, seq: outcome.seq }, 'legal hold released');
    } else {
      outcome.reason = op === 'hold' ? 'a hold with this id is already active: request ignored' : 'no active hold with this id: release ignored';
      log.warn({ hold: request.id, op }, outcome.reason);
    }
    outcome.applied = outcome.seq !== undefined;
    outcomes.push(outcome);
    await writeFileDurable(holdPaths(l).active, `${JSON.stringify({ holds: active }, null, 2)}\n`, 0o640);
    await unlink(file);
  }
  return { placed, released, active, outcomes };
}
