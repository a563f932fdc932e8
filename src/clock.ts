/** "000Z" … "999Z": a timestamp's microseconds and zone, made once rather than per event. */
const MICROS = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(3, '0')}Z`);

/**
 * A receive-time clock: the time as text and, where given, `write`, which puts the same text into
 * a buffer at `at` without making a string (the seal stage's way: `prefix + micros` is a cons
 * string, which V8 copies flat with a runtime call the first time its characters are read, ~250 ns).
 */
export type Clock = (() => string) & { write?(buf: Buffer, at: number): void };

/**
 * Receive-time clock: ISO 8601 UTC with microseconds, from the high-resolution
 * monotonic clock anchored at process start. The ISO text up to the millisecond
 * is computed once per millisecond, not per event.
 */
export function createClock(): Clock {
  const origin = performance.timeOrigin;
  let lastMs = -1;
  let prefix = '';
  /** Brings prefix up to now; returns the microseconds within its millisecond. */
  const tick = (): number => {
    const us = Math.floor((origin + performance.now()) * 1000);
    const ms = Math.floor(us / 1000);
    if (ms !== lastMs) {
      lastMs = ms;
      prefix = new Date(ms).toISOString().slice(0, 23);
      // Past year 9999 the text grows (+010000-…), and a record's ts has a fixed width.
      if (prefix.length !== 23 || prefix[10] !== 'T') throw new Error(`clock: ${prefix} is not a four-digit year's time`);
    }
    return us - ms * 1000;
  };
  const now = () => {
    const micros = MICROS[tick()]!; // first: tick may move prefix on
    return prefix + micros;
  };
  return Object.assign(now, {
    write(buf: Buffer, at: number): void {
      const micros = MICROS[tick()]!;
      for (let i = 0; i < prefix.length; i++) buf[at++] = prefix.charCodeAt(i);
      for (let i = 0; i < micros.length; i++) buf[at++] = micros.charCodeAt(i);
    },
  });
}
