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

/** The first non-empty string among the named fields of the event, then of its payload. */
export function firstText(e: JsonObject, names: readonly string[]): string | undefined {
  const payload = own(e, 'payload');
  for (const n of names) {
    const v = text(own(e, n)) ?? text(own(payload, n));
    if (v) return v;
  }
  return undefined;
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
