import type { Progress } from './service/notify.js';
import type { Status } from './status.js';

/**
 * Sets the `pipeline` health condition while input waits and nothing has been
 * committed for `afterMs`: a stall (a blocked file system, a stuck stage, every
 * libuv thread held) shows in `sealog status` and the systemd STATUS line, not
 * only as silence. Cleared at the next commit, or once nothing waits.
 */
export function watchForStall(status: Status, progress: () => Progress, afterMs: number): () => void {
  let last = progress();
  let calmSince = Date.now();
  const timer = setInterval(
    () => {
      const now = progress();
      if (now.pending === 0 || now.lastCommitAt !== last.lastCommitAt) {
        calmSince = Date.now();
        status.setHealth('pipeline', 'ok');
      } else if (Date.now() - calmSince >= afterMs) {
        const s = Math.round((Date.now() - calmSince) / 1000);
        status.setHealth('pipeline', 'unhealthy', `stalled: ${now.pending} records wait and nothing was committed for ${s} s`);
      }
      last = now;
    },
    Math.max(10, Math.min(1000, afterMs / 4)),
  ).unref();
  return () => clearInterval(timer);
}
