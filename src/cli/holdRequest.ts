import { basename } from 'node:path';
import { loadConfig } from '../config.js';
import { askDaemon } from '../control.js';
import { ErrorCode, SealogError } from '../errors.js';
import { readActiveHolds, readHoldRequests, writeHoldRequest, type HoldRequest, type RequestOutcome } from '../jobs/holds.js';
import { layout, type Layout } from '../store/layout.js';

/** Where hold and release find the data directory and the daemon: --config, or --data and --control, or the defaults. */
export function holdTarget(values: { config?: string; data?: string; control?: string }): { l: Layout; control: string } {
  const cfg = loadConfig(values.config, { data: values.data });
  return { l: layout(cfg.data_dir), control: values.control ?? cfg.control.path };
}

/** Holds in force and hold requests not yet applied: what a new request is checked against. */
export async function knownHolds(l: Layout): Promise<{ active: Set<string>; pending: HoldRequest[] }> {
  return { active: new Set((await readActiveHolds(l)).map((h) => h.id)), pending: (await readHoldRequests(l)).map((r) => r.request) };
}

/**
 * Drops the request for the daemon and waits for its verdict (the daemon applies its
 * requests at once when asked over the control socket). With no daemon answering, says
 * plainly that the request waits for the daemon's next start. Exit 0 applied or waiting; 1 refused.
 */
export async function submitRequest(l: Layout, control: string, request: HoldRequest): Promise<number> {
  const file = await writeHoldRequest(l, request);
  let answer: Record<string, unknown>;
  try {
    answer = await askDaemon(control, { cmd: 'requests', request: basename(file) }, 120_000);
  } catch (err) {
    console.log(request.id);
    console.error(`sealog ${request.op}: requested only, not applied yet: ${(err as Error).message}`);
    console.error(`the daemon seals and applies it at its next start or requests pickup (the request is ${file})`);
    return 0;
  }
  if (typeof answer.error === 'string') throw new SealogError(ErrorCode.NO_ANSWER, `the daemon did not apply the request: ${answer.error}`);
  const o = answer as unknown as RequestOutcome;
  if (!o.applied) {
    console.error(`sealog ${request.op}: ${o.id}: ${o.reason}`);
    return 1;
  }
  console.log(o.id);
  console.error(`sealog ${request.op}: ${o.op === 'hold' ? 'hold placed' : 'hold released'}, sealed at seq ${o.seq}`);
  return 0;
}
