/** "000Z" … "999Z": a timestamp's microseconds and zone, made once rather than per event. */
const MICROS = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(3, '0')}Z`);

/**
 * Receive-time clock: ISO 8601 UTC with microseconds, from the high-resolution
 * monotonic clock anchored at process start. The ISO text up to the millisecond
 * is computed once per millisecond, not per event.
 */
export function createClock(): () => string {
  const origin = performance.timeOrigin;
  let lastMs = -1;
  let prefix = '';
  return () => {
    const us = Math.floor((origin + performance.now()) * 1000);
    const ms = Math.floor(us / 1000);
    if (ms !== lastMs) {
      lastMs = ms;
      prefix = new Date(ms).toISOString().slice(0, 23);
    }
    return prefix + MICROS[us - ms * 1000]!;
  };
}
