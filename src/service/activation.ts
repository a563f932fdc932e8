/**
 * The listening socket systemd passed to this process (sd_listen_fds(3)): the
 * first passed fd is always 3. The variables are removed once read, so nothing
 * this process starts takes them for its own.
 */
export function takeActivatedFd(env: NodeJS.ProcessEnv, pid = process.pid): number | undefined {
  const forUs = Number(env.LISTEN_PID) === pid;
  const count = Number(env.LISTEN_FDS);
  delete env.LISTEN_PID;
  delete env.LISTEN_FDS;
  delete env.LISTEN_FDNAMES;
  return forUs && Number.isSafeInteger(count) && count >= 1 ? 3 : undefined;
}
