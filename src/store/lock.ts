import { open, readFile, unlink } from 'node:fs/promises';
import { ErrorCode, SealogError } from '../errors.js';

/**
 * One daemon per data directory: a lock file holding the owner's pid. A lock
 * whose pid is gone is stale (a crash) and is taken over.
 */
export async function acquireLock(path: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o640);
      await fh.writeFile(`${process.pid}\n`);
      await fh.sync();
      await fh.close();
      return async () => {
        await unlink(path).catch(() => {});
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new SealogError(ErrorCode.DATA_LOCKED, `another sealog (pid ${pid}) is running on this data directory (${path})`);
      }
      await unlink(path).catch(() => {});
    }
  }
  throw new SealogError(ErrorCode.DATA_LOCKED, `could not take the lock ${path}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
