import type { JsonObject, JsonValue } from '../types.js';

/** An own property of a JSON object (never an inherited one such as `constructor`). */
export function own(o: JsonValue | undefined, k: string): JsonValue | undefined {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return undefined;
  // Most names asked for are absent: one lookup says so (no JSON value is undefined); only a
  // value found is checked to be the object's own.
  const v = (o as JsonObject)[k];
  return v !== undefined && Object.hasOwn(o, k) ? v : undefined;
}

export function text(v: JsonValue | undefined): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** Field names in priority order, as `firstText` takes them (built once per list). */
export function fieldRanks(names: readonly string[]): ReadonlyMap<string, number> {
  return new Map(names.map((n, i) => [n, i]));
}

/**
 * The first non-empty string among the named fields of the event, then of its payload. One pass
 * over each object's own keys: an event has a few keys, and asking for each name that is absent
 * costs more.
 */
export function firstText(e: JsonObject, ranks: ReadonlyMap<string, number>): string | undefined {
  let best = ranks.size;
  let found: string | undefined;
  const consider = (o: JsonObject, inPayload: boolean) => {
    for (const k in o) {
      const r = ranks.get(k);
      // At one rank the event's own field wins over the payload's.
      if (r !== undefined && (r < best || (r === best && !inPayload)) && Object.hasOwn(o, k)) {
        const v = text(o[k]);
        if (v !== undefined) (best = r), (found = v);
      }
    }
  };
  consider(e, false);
  const payload = own(e, 'payload');
  if (payload !== null && typeof payload === 'object' && !Array.isArray(payload)) consider(payload, true);
  return found;
}

/** A dotted path ("payload.decision", "event." prefix optional) split once, at compile time. */
export function compilePath(path: string): string[] {
  const parts = path.split('.');
  return parts[0] === 'event' ? parts.slice(1) : parts;
}

export function at(e: JsonObject, parts: string[]): JsonValue | undefined {
  let v: JsonValue | undefined = e;
  for (const p of parts) v = own(v, p);
  return v;
}
