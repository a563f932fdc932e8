import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ErrorCode, SealogError } from '../errors.js';

/**
 * A directory sealog may not write to (another owner, a read-only mode or mount) is an
 * operator's mistake, not a crash: say which path, who owns it and who sealog runs as.
 */
export async function explainAccess(err: unknown): Promise<unknown> {
  const e = err as NodeJS.ErrnoException & { address?: string };
  const path = e.path ?? e.address; // a socket that cannot be created names its path as `address`
  if (!path || !(e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS')) return err;
  if (e.code === 'EROFS') return new SealogError(ErrorCode.DATA_ACCESS, `cannot write ${path}: it is on a read-only filesystem`, { cause: err });
  // The path itself, or (when it cannot be looked at or does not exist yet) the directory that refuses.
  let owner = '';
  for (const p of [path, dirname(path)]) {
    const st = await stat(p).catch(() => undefined);
    if (!st) continue;
    owner = ` (${p === path ? 'it' : p} is owned by uid ${st.uid} gid ${st.gid}, mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')})`;
    break;
  }
  const me = process.getuid ? `uid ${process.getuid()} gid ${process.getgid!()}` : 'this user';
  return new SealogError(
    ErrorCode.DATA_ACCESS,
    `permission denied: cannot ${e.syscall ?? 'use'} ${path}${owner}; sealog runs as ${me}. Run it as the owner of its data, socket and spool directories, or give that user access.`,
    { cause: err },
  );
}
