import canonicalize from 'canonicalize';

/** RFC 8785 canonical JSON. Throws on values JSON cannot carry canonically (NaN, lone surrogates). */
export function jcs(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no canonical JSON form');
  return text;
}
