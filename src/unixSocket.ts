import { chmod, lstat, unlink } from 'node:fs/promises';
import { connect, type Server } from 'node:net';
import { ErrorCode, SealogError } from './errors.js';

/**
 * Listens on a Unix socket path with exactly `mode`: a file left by a crashed
 * daemon is replaced, a live one never; the file is created with no access
 * beyond the mode (umask), then set to it.
 */
export async function listenUnix(server: Server, path: string, mode: number): Promise<void> {
  await removeStaleSocket(path);
  const old = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(old);
  }
  await chmod(path, mode);
}

async function removeStaleSocket(path: string): Promise<void> {
  const st = await lstat(path).catch(() => undefined);
  if (st && !st.isSocket()) throw new SealogError(ErrorCode.SOCKET_IN_USE, `${path} exists and is not a socket; refusing to replace it`);
  const alive = await new Promise<boolean | 'absent'>((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ENOENT' ? 'absent' : false));
  });
  if (alive === true) throw new SealogError(ErrorCode.SOCKET_IN_USE, `another process is listening on ${path}; refusing to take its socket`);
  if (alive === false) await unlink(path);
}
