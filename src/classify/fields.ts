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

/** The values one `FieldReader.read` found, by slot (undefined: no such own field). */
export interface FieldValues {
  event: readonly (JsonValue | undefined)[];
  /** The event's `payload`'s, when it is an object (not an array). */
  payload: readonly (JsonValue | undefined)[];
}

export interface FieldReader<N extends string> {
  /** Each name's slot in FieldValues. */
  slot: Readonly<Record<N, number>>;
  /** The named fields of an event and of its payload; the arrays are reused by the next read. */
  read(e: JsonObject): FieldValues;
}

/**
 * Reads the named fields of an event and of its payload in one pass over each object's own keys:
 * an event has a few keys, and asking it for each of some forty names, most of them absent,
 * costs more. Built once per list of names.
 */
export function fieldReader<N extends string>(names: readonly N[]): FieldReader<N> {
  const all = [...new Set<string>(['payload', ...names])];
  const slots = new Map(all.map((n, i) => [n, i]));
  const event = new Array<JsonValue | undefined>(all.length).fill(undefined);
  const payload = new Array<JsonValue | undefined>(all.length).fill(undefined);
  const values: FieldValues = { event, payload };
  // The slots the last read set (a payload's slot + all.length): only those are cleared.
  const written = new Uint16Array(2 * all.length);
  let count = 0;
  const take = (o: JsonObject, into: (JsonValue | undefined)[], tag: number) => {
    for (const k in o) {
      const i = slots.get(k);
      // for..in also lists inherited names: only the object's own fields count.
      if (i !== undefined && Object.hasOwn(o, k)) {
        into[i] = o[k];
        written[count++] = i + tag;
      }
    }
  };
  return {
    slot: Object.fromEntries(slots) as Record<N, number>,
    read(e) {
      for (let j = 0; j < count; j++) {
        const w = written[j]!;
        if (w < all.length) event[w] = undefined;
        else payload[w - all.length] = undefined;
      }
      count = 0;
      take(e, event, 0);
      const p = event[0];
      if (p !== null && typeof p === 'object' && !Array.isArray(p)) take(p, payload, all.length);
      return values;
    },
  };
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
