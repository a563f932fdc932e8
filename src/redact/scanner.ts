import type { Detector } from './detectors.js';
import { compilePrefilter, UNCLEAN } from './prefilter.js';

/** What to do with a hit of one type; `undefined` from the resolver leaves the hit as it is. */
export interface Treatment {
  kind: string;
  /** The sensitive part → its replacement (marker, pseudonym or mask). */
  replace(sensitive: string): string;
}

export type Scan = (s: string, onHit: (kind: string) => void) => string;
/**
 * Scan, for a string sanitize has not checked yet: undefined, with nothing scanned, when it holds
 * a character sanitize cleans first (prefilter.ts's UNCLEAN), or when it was not read for them
 * (no prefilter); most strings are then read once.
 */
export type ScanIfClean = (s: string, onHit: (kind: string) => void) => string | undefined;

/** One combined regex over some detectors, with what it takes to tell which one matched. */
interface Combined {
  re: RegExp;
  detectors: Detector[];
  sticky: RegExp[];
  /** capture group number → index in `detectors` */
  groupOf: number[];
}

function combine(detectors: Detector[]): Combined | undefined {
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

/** A candidate the scan will act on: where, which detector, what it matched. */
interface Hit {
  at: number;
  detector: Detector;
  text: string;
}

/**
 * The next accepted candidate of `c` at or after `from`. Leftmost match wins; at one
 * position, the first detector (in list order) whose candidate passes its check. A rejected
 * candidate (a Luhn failure, a placeholder such as `${TOKEN}`) is retried against the later
 * detectors at the same position with sticky copies, then the search goes on one character
 * further. Linear: a rejected candidate is short (checks.ts bounds what can be rejected), so
 * what the search sees again after it is bounded too.
 */
function nextHit(c: Combined, s: string, from: number): Hit | undefined {
  const { re, detectors, sticky, groupOf } = c;
  re.lastIndex = from;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    const at = m.index;
    let di = 0;
    for (let g = 1; g < m.length; g++) {
      if (m[g] !== undefined) {
        di = groupOf[g]!;
        break;
      }
    }
    const d = detectors[di]!;
    if (m[0].length > 0 && (!d.accept || d.accept(m[0], s, at))) return { at, detector: d, text: m[0] };
    for (let j = di + 1; j < detectors.length; j++) {
      const st = sticky[j]!;
      st.lastIndex = at;
      const mm = st.exec(s);
      const dj = detectors[j]!;
      if (mm !== null && mm[0].length > 0 && (!dj.accept || dj.accept(mm[0], s, at))) return { at, detector: dj, text: mm[0] };
    }
    re.lastIndex = at + 1;
  }
  return undefined;
}

export interface ScannerOptions {
  /** Run every built-in detector on every string (tests compare the prefilter against this). */
  noPrefilter?: boolean;
}

// Combinations of detectors compiled as the strings that need them come (few do: most strings
// need none, and a real one holds one or two kinds of secret); past this many, a string that needs
// a new combination is scanned by all of them, so hostile input cannot make a regex per string.
const MAX_VARIANTS = 256;

/**
 * Compiles detectors into one scanner, once, at start.
 *
 * Built-in detectors: the prefilter (prefilter.ts) reads each string once and says which of
 * them could match; one combined regex of just those scans it (a combined regex costs what its
 * broadest alternatives cost at every position, and twenty separate passes cost more). A
 * string that none could match scans nothing.
 *
 * Configured patterns: one more combined regex, of only them, run on every string. Kept apart
 * from the built-ins (whose look-behinds the linear-time engine cannot run) so that V8 can
 * finish a pattern that backtracks too much in linear time (see configRegex.ts). At one
 * position a built-in hit wins.
 */
export function compileScanner(
  builtins: readonly Detector[],
  custom: readonly Detector[],
  treat: (type: string) => Treatment | undefined,
  opts: ScannerOptions = {},
): { scan: Scan; scanIfClean: ScanIfClean } {
  const all = builtins.length === 0 ? 0 : -1 >>> (32 - builtins.length);
  const prefilter = opts.noPrefilter ? () => all : compilePrefilter(builtins);
  const every = combine([...builtins]);
  const variants = new Map<number, Combined | undefined>([
    [0, undefined],
    [all, every],
  ]);
  const variant = (mask: number): Combined | undefined => {
    let v = variants.get(mask);
    if (v === undefined && !variants.has(mask)) {
      if (variants.size >= MAX_VARIANTS) return every;
      variants.set(mask, (v = combine(builtins.filter((_, i) => mask & (1 << i)))));
    }
    return v;
  };
  const configured = combine([...custom]);
  // Resolved once per type, not per hit.
  const treatments = new Map<string, Treatment | undefined>();
  const treatmentOf = (type: string) => {
    if (!treatments.has(type)) treatments.set(type, treat(type));
    return treatments.get(type);
  };

  /** The scan of `s` by the built-in detectors in `mask` and every configured pattern. */
  const scanWith = (s: string, mask: number, onHit: (kind: string) => void): string => {
    if (mask === 0 && configured === undefined) return s; // the common case: nothing could match
    const builtin = variant(mask);
    let b = builtin && nextHit(builtin, s, 0);
    let c = configured && nextHit(configured, s, 0);
    if (b === undefined && c === undefined) return s;
    let out = '';
    let last = 0;
    while (b !== undefined || c !== undefined) {
      const hit = c === undefined || (b !== undefined && b.at <= c.at) ? b! : c;
      const { at, detector: d, text } = hit;
      const end = at + text.length;
      const t = treatmentOf(d.typeOf ? d.typeOf(text) : d.name);
      if (t) {
        const [pre, sensitive, post] = d.split ? d.split(text) : ['', text, ''];
        out += s.slice(last, at) + pre + t.replace(sensitive) + post;
        last = end;
        onHit(t.kind);
      }
      // Matches are not nested: each search resumes after the hit (or after its own candidate, if later).
      if (b !== undefined && b.at < end) b = nextHit(builtin!, s, end);
      if (c !== undefined && c.at < end) c = nextHit(configured!, s, end);
    }
    return last === 0 ? s : out + s.slice(last);
  };

  return {
    scan: (s, onHit) => scanWith(s, prefilter(s) & ~UNCLEAN, onHit),
    // Without the prefilter nothing has read the string: it is never known to be clean.
    scanIfClean: opts.noPrefilter
      ? () => undefined
      : (s, onHit) => {
          const mask = prefilter(s);
          return mask & UNCLEAN ? undefined : scanWith(s, mask, onHit);
        },
  };
}

/** Number of capturing groups in a regex source. */
export function countGroups(source: string): number {
  return new RegExp(`${source}|`).exec('')!.length - 1;
}
