/** Receive-time clock: wall time at start plus monotonic elapsed, in microseconds, ISO 8601 UTC. */
export function createClock(): () => string {
  const baseUs = BigInt(Date.now()) * 1000n;
  const baseHr = process.hrtime.bigint();
  return () => {
    const us = baseUs + (process.hrtime.bigint() - baseHr) / 1000n;
    const iso = new Date(Number(us / 1000n)).toISOString(); // ...sss Z
    return `${iso.slice(0, 23)}${String(us % 1000n).padStart(3, '0')}Z`;
  };
}
