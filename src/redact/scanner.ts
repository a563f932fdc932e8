import type { Detector } from './detectors.js';

/** What to do with a hit of one type; `undefined` from the resolver leaves the hit as it is. */
export interface Treatment {
  kind: string;
  /** The sensitive part → its replacement (marker, pseudonym or mask). */
  replace(sensitive: string): string;
}

export type Scan = (s: string, onHit: (kind: string) => void) => string;

interface Variant {
  re: RegExp;
  detectors: Detector[];
  sticky: RegExp[];
  /** capture group number → index in `detectors` */
  groupOf: number[];
}

function compileVariant(detectors: Detector[]): Variant | undefined {
  if (detectors.length === 0) return undefined;
  const groupOf: number[] = [];
  const parts: string[] = [];
  let group = 1;
  detectors.forEach((d, i) => {
    parts.push(`(${d.source})`);
    groupOf[group] = i;
    group += 1 + countGroups(d.source);
  });
  return { re: new RegExp(parts.join('|'), 'g'), detectors, sticky: detectors.map((d) => new RegExp(d.source, 'y')), groupOf };
}

/**
 * Compiles detectors into one scanner, once, at start. Each string is scanned by one
 * combined regex (twenty separate passes cost about three times as much). Detectors
 * with a gate (`@` for emails) are left out of the regex for strings that fail the
 * gate: the few gates are cheap character searches, and a combined regex costs what
 * its broadest alternatives cost at every position. One regex per combination of
 * gates is compiled here.
 *
 * Leftmost match wins; at one position, the first detector (in list order) whose
 * candidate passes its check. A rejected candidate (a Luhn failure, a time that looked
 * like an address) is retried against the later detectors at the same position with
 * sticky copies, then the scan moves on by one character.
 */
export function compileScanner(detectors: readonly Detector[], treat: (type: string) => Treatment | undefined): Scan {
  const gates = [...new Set(detectors.flatMap((d) => (d.gate ? [d.gate] : [])))];
  const variants: (Variant | undefined)[] = [];
  for (let mask = 0; mask < 1 << gates.length; mask++) {
    variants.push(compileVariant(detectors.filter((d) => !d.gate || mask & (1 << gates.indexOf(d.gate)))));
  }
  // Resolved once per type, not per hit.
  const treatments = new Map<string, Treatment | undefined>();
  const treatmentOf = (type: string) => {
    if (!treatments.has(type)) treatments.set(type, treat(type));
    return treatments.get(type);
  };

  return (s, onHit) => {
    let mask = 0;
    for (let g = 0; g < gates.length; g++) if (gates[g]!(s)) mask |= 1 << g;
    const v = variants[mask];
    if (v === undefined) return s;
    const { re, detectors: dets, sticky, groupOf } = v;
    re.lastIndex = 0;
    let m = re.exec(s);
    if (m === null) return s; // the common case: one scan, nothing found, same string back
    let out = '';
    let last = 0;
    while (m !== null) {
      const at = m.index;
      let di = 0;
      for (let g = 1; g < m.length; g++) {
        if (m[g] !== undefined) {
          di = groupOf[g]!;
          break;
        }
      }
      let d = dets[di]!;
      let text = m[0];
      if (d.accept && !d.accept(text, s, at)) {
        let found = false;
        for (let j = di + 1; j < dets.length && !found; j++) {
          const st = sticky[j]!;
          st.lastIndex = at;
          const mm = st.exec(s);
          const dj = dets[j]!;
          if (mm !== null && mm[0].length > 0 && (!dj.accept || dj.accept(mm[0], s, at))) {
            d = dj;
            text = mm[0];
            found = true;
          }
        }
        if (!found) {
          re.lastIndex = at + 1;
          m = re.exec(s);
          continue;
        }
      }
      const end = at + text.length;
      const t = end > at ? treatmentOf(d.typeOf ? d.typeOf(text) : d.name) : undefined;
      if (t) {
        const [pre, sensitive, post] = d.split ? d.split(text) : ['', text, ''];
        out += s.slice(last, at) + pre + t.replace(sensitive) + post;
        last = end;
        onHit(t.kind);
      }
      re.lastIndex = end > at ? end : at + 1;
      m = re.exec(s);
    }
    return last === 0 ? s : out + s.slice(last);
  };
}

/** Number of capturing groups in a regex source. */
export function countGroups(source: string): number {
  return new RegExp(`${source}|`).exec('')!.length - 1;
}
