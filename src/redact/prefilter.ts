// The prefilter: one pass over a string says which detectors could match anywhere in it, as
// gitleaks and trufflehog run a rule only where its keywords occur. A detector names keywords
// (one of them is in every match: `sk-`, `AKIA`, `password`) and/or shape features (one of them
// holds in every string it matches: an `@`, a run of digit groups); both are NECESSARY
// conditions, so a detector is never left out of a string it could match
// (test/unit/redact.prefilter.test.ts checks the scan with and without the prefilter gives the
// same result). Most strings (timestamps, ids, words) need no regex at all.
//
// The pass runs two table-driven automata side by side, fed by one lookup per character: an
// Aho–Corasick automaton over every keyword (case-folded: a case-sensitive keyword found in
// the wrong case only costs a needless scan), and a small automaton over the character
// classes of numbers (digits and `.`, `+`, ` `, `(`, `)`, `-`) that also notes `@`, `:`, `=`.
// Tables, not regexes: a regex call costs more than the loop on the short strings events are
// made of, and a string holding none of the features costs no regex at all.

/** `@`: emails, passwords in connection strings. */
export const AT = 1;
/** `:` or `=`: the key=value detectors (`password=…`, `"customer_name": …`). */
export const ASSIGN = 2;
/** `::` or seven colons: an IPv6 address. */
export const IPV6 = 4;
/**
 * In one run of the characters `0-9 .()+-`: three groups of digits, two of them at least three
 * long (ssn 3-2-4, phone 3-3-4 and `0…` 2-5/3-4/3-4, card 4-4-4-x and 4-6-5). An ISO date (4-2-2)
 * has one. A group right after a letter or `_` is not counted: these detectors start at a word
 * boundary, so no match begins inside such a group (`c6-1838-4657` in a UUID has two groups).
 */
export const DIGIT_GROUPS = 8;
/** Thirteen digits in a row (a card number written as one run). */
export const LONG_NUMBER = 16;
/** Four groups of digits and three dots in one run (an IPv4 address; counted as DIGIT_GROUPS counts them). */
export const DOTTED_NUMBER = 32;
/** `+` and then eight digits in one run (an international phone number). */
export const PLUS_NUMBER = 64;
// `:` just read: a sign of the run state (a second one makes `::`), not a feature.
const COLON = 128;

/** What a detector asks of the prefilter: it runs where both hold; with neither, on every string. */
export interface Gate {
  /** One of these is in every match (case-insensitive). */
  keywords?: readonly string[];
  /** One of these features holds in every string the detector matches. */
  needs?: number;
}

/** For a string: the detectors that could match in it, as a mask (bit i = gates[i]), and UNCLEAN. */
export type Prefilter = (s: string) => number;

// Character classes of the number automaton (0: any other character).
const DIGIT = 1;
const DOT = 2;
const PLUS = 3;
const SEPARATOR = 4;
const AT_SIGN = 5;
const COLON_SIGN = 6;
const EQUALS_SIGN = 7;
const WORD = 8; // a letter or `_`: ends a run, and the group after it is no match's start
const CLASSES = 9;
const CLASS = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) CLASS[c] = DIGIT;
for (let c = 0x41; c <= 0x5a; c++) CLASS[c] = CLASS[c + 0x20] = WORD;
CLASS[0x5f] = WORD;
for (const [ch, k] of [
  ['.', DOT],
  ['+', PLUS],
  [' ', SEPARATOR],
  ['(', SEPARATOR],
  [')', SEPARATOR],
  ['-', SEPARATOR],
  ['@', AT_SIGN],
  [':', COLON_SIGN],
  ['=', EQUALS_SIGN],
] as const)
  CLASS[ch.charCodeAt(0)] = k;

/**
 * The state of a run of number characters: the current digit group's length (up to 13), the
 * groups (up to 4), those at least 3 long (up to 2), dots (up to 3), whether a `+` came and the
 * digits since it (up to 8), and the sign just read (`@`, `:`, `::`, `=`), which ends the run;
 * `afterWord`: a letter or `_` came just before the current group (or, with no group yet, just now).
 */
type RunState = readonly [group: number, groups: number, long: number, dots: number, plus: number, afterPlus: number, sign: number, afterWord: number];
const START: RunState = [0, 0, 0, 0, 0, 0, 0, 0];
const AFTER_WORD: RunState = [0, 0, 0, 0, 0, 0, 0, 1];

function step(s: RunState, k: number): RunState {
  const [group, groups, long, dots, plus, afterPlus, sign, afterWord] = s;
  switch (k) {
    case DIGIT: {
      const g = Math.min(group + 1, 13);
      const counted = afterWord === 0;
      return [
        g,
        group === 0 && counted ? Math.min(groups + 1, 4) : groups,
        g === 3 && counted ? Math.min(long + 1, 2) : long,
        dots,
        plus,
        plus ? Math.min(afterPlus + 1, 8) : 0,
        0,
        afterWord,
      ];
    }
    case DOT:
      return [0, groups, long, Math.min(dots + 1, 3), plus, afterPlus, 0, 0];
    case PLUS:
      return [0, groups, long, dots, 1, 0, 0, 0];
    case SEPARATOR:
      return [0, groups, long, dots, plus, afterPlus, 0, 0];
    case AT_SIGN:
      return [0, 0, 0, 0, 0, 0, AT, 0];
    case COLON_SIGN:
      return [0, 0, 0, 0, 0, 0, sign === COLON || sign === IPV6 ? IPV6 : COLON, 0];
    case EQUALS_SIGN:
      return [0, 0, 0, 0, 0, 0, ASSIGN, 0];
    case WORD:
      return AFTER_WORD;
    default:
      return START;
  }
}

function featuresOf([group, groups, long, dots, plus, afterPlus, sign]: RunState): number {
  let f = sign === COLON ? ASSIGN : sign === IPV6 ? IPV6 | ASSIGN : sign;
  if (groups >= 3 && long >= 2) f |= DIGIT_GROUPS;
  if (group >= 13) f |= LONG_NUMBER;
  if (groups >= 4 && dots >= 3) f |= DOTTED_NUMBER;
  if (plus && afterPlus >= 8) f |= PLUS_NUMBER;
  return f;
}

/** The number automaton, built once: transitions[state * CLASSES + class], and each state's features. */
const NUMBERS = (() => {
  const index = new Map<string, number>([[START.join(), 0]]);
  const states: RunState[] = [START];
  const next: number[] = [];
  for (let i = 0; i < states.length; i++) {
    for (let k = 0; k < CLASSES; k++) {
      const t = step(states[i]!, k);
      let j = index.get(t.join());
      if (j === undefined) index.set(t.join(), (j = states.push(t) - 1));
      next[i * CLASSES + k] = j;
    }
  }
  return { next: Uint16Array.from(next), features: Uint8Array.from(states, featuresOf) };
})();

/** A case-folded Aho–Corasick automaton over the gates' keywords; each state's output is the mask of gates whose keyword ends there. */
function keywordAutomaton(gates: readonly Gate[]): { symbol: Uint8Array; symbols: number; next: Uint16Array; out: Int32Array } {
  const words = gates.flatMap((g, i) => (g.keywords ?? []).map((w) => [w.toLowerCase(), 1 << i] as const));
  // Characters that occur in no keyword share symbol 0; upper-case letters fold onto lower.
  const symbol = new Uint8Array(128);
  let symbols = 1;
  for (const [w] of words) for (const ch of w) symbol[ch.charCodeAt(0)] ||= symbols++;
  for (let c = 0x41; c <= 0x5a; c++) symbol[c] = symbol[c + 0x20]!;
  // The trie, then failure links breadth-first, filling in every transition.
  const child: Map<number, number>[] = [new Map()];
  const out = [0];
  for (const [w, bit] of words) {
    let s = 0;
    for (const ch of w) {
      const y = symbol[ch.charCodeAt(0)]!;
      let t = child[s]!.get(y);
      if (t === undefined) child[s]!.set(y, (t = child.push(new Map()) - 1)), out.push(0);
      s = t;
    }
    out[s]! |= bit;
  }
  const next = new Uint16Array(child.length * symbols);
  const fail = new Array<number>(child.length).fill(0);
  const queue: number[] = [];
  for (const [y, t] of child[0]!) (next[y] = t), queue.push(t);
  for (let q = 0; q < queue.length; q++) {
    const r = queue[q]!;
    out[r]! |= out[fail[r]!]!;
    for (let y = 1; y < symbols; y++) {
      const t = child[r]!.get(y);
      if (t === undefined) next[r * symbols + y] = next[fail[r]! * symbols + y]!;
      else (next[r * symbols + y] = t), (fail[t] = next[fail[r]! * symbols + y]!), queue.push(t);
    }
  }
  return { symbol, symbols, next, out: Int32Array.from(out) };
}

/** One compiled prefilter's tables (compilePrefilter says what each holds). */
interface Tables {
  input: Uint16Array;
  keywordNext: Uint32Array;
  keywordOut: Int32Array;
  numberNext: Uint32Array;
  numberFeatures: Uint8Array;
}

/** What one pass found; one object, filled again by each pass (nothing allocated per string). */
const found = { words: 0, features: 0, seen: 0, colons: 0 };

/**
 * The pass over one string. A function of its own, with the tables as an argument, not a
 * closure over them: V8 then compiles the loop as fast whatever the number of prefilters in the
 * process (a closure's loop got slower once a second one was compiled, as benchmarks/redaction.mjs does).
 */
function pass(s: string, t: Tables): typeof found {
  const { input, keywordNext, keywordOut, numberNext, numberFeatures } = t;
  let k = 0; // keyword automaton state
  let n = 0; // number automaton state
  let words = 0;
  let f = 0;
  let seen = 0; // the input entries, or'ed: for UNCLEAN_CHAR
  let colons = 0; // counted here: a second look at each string with a colon (every timestamp) cost more
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128) {
      k = n = 0; // no keyword or number holds a non-ASCII character
      if (isUnclean(c)) seen |= UNCLEAN_CHAR;
      continue;
    }
    const x = input[c]!;
    seen |= x;
    colons += x >> COLON_SHIFT;
    k = keywordNext[k + (x & 0xff)]!;
    n = numberNext[n + ((x >> CLASS_SHIFT) & CLASS_MASK)]!;
    words |= keywordOut[k]!;
    f |= numberFeatures[n]!;
  }
  found.words = words;
  found.features = f;
  found.seen = seen;
  found.colons = colons;
  return found;
}

/**
 * Not a gate: bit 31 of the prefilter's answer says the string holds a character sanitize cleans
 * before any scan: a C0 control but tab and newline, DEL or a C1 control (sanitize.ts's
 * CONTROL), or a surrogate (sanitize replaces a lone one; a pair only costs it its own check).
 * The pass reads every character anyway: a string without them spares sanitize a pass of its own.
 */
export const UNCLEAN = 1 << 31;

// A character's entry in the input table: its keyword symbol (bits 0-7), its number class
// (bits 8-11), UNCLEAN_CHAR and, as its top bit, whether it is a colon: one lookup feeds both
// automata, the unclean test and the colon count.
const CLASS_SHIFT = 8;
const CLASS_MASK = 0xf;
const UNCLEAN_CHAR = 1 << 12;
const COLON_SHIFT = 13;

/** Compiles the gates (one per detector, at most 31) into the one-pass prefilter, once, at start. */
export function compilePrefilter(gates: readonly Gate[]): Prefilter {
  if (gates.length > 31) throw new Error('the prefilter takes at most 31 detectors');
  const { symbol, symbols, next, out } = keywordAutomaton(gates);
  // States are kept as their row's offset in the transition table (state × row length): a
  // transition is then one addition and one lookup. Each state's output is stored at its offset.
  const keywordStates = out.length;
  const keywordNext = Uint32Array.from(next, (t) => t * symbols);
  const keywordOut = new Int32Array(keywordStates * symbols);
  for (let q = 0; q < keywordStates; q++) keywordOut[q * symbols] = out[q]!;
  const numberStates = NUMBERS.features.length;
  const numberNext = Uint32Array.from(NUMBERS.next, (t) => t * CLASSES);
  const numberFeatures = new Uint8Array(numberStates * CLASSES);
  for (let q = 0; q < numberStates; q++) numberFeatures[q * CLASSES] = NUMBERS.features[q]!;
  const input = new Uint16Array(128);
  for (let c = 0; c < 128; c++) input[c] = symbol[c]! | (CLASS[c]! << CLASS_SHIFT) | (isUnclean(c) ? UNCLEAN_CHAR : 0);
  input[0x3a]! |= 1 << COLON_SHIFT;
  const ungated = gates.reduce((m, g, i) => (g.keywords === undefined && g.needs === undefined ? m | (1 << i) : m), 0);
  const noKeyword = gates.reduce((m, g) => (g.keywords === undefined ? m | (g.needs ?? 0) : m), 0);
  const tables: Tables = { input, keywordNext, keywordOut, numberNext, numberFeatures };
  return (s) => {
    const { words, features, seen, colons } = pass(s, tables);
    // An IPv6 address written in full has seven colons; a time has two.
    const f = colons >= 7 ? features | IPV6 : features;
    const unclean = seen & UNCLEAN_CHAR ? UNCLEAN : 0;
    if (words === 0 && (f & noKeyword) === 0) return ungated | unclean; // the common case
    let mask = ungated | unclean;
    for (let i = 0; i < gates.length; i++) {
      const g = gates[i]!;
      if ((g.keywords === undefined || words & (1 << i)) && (g.needs === undefined || f & g.needs)) mask |= 1 << i;
    }
    return mask;
  };
}

function isUnclean(c: number): boolean {
  return (c <= 0x1f && c !== 0x09 && c !== 0x0a) || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xdfff);
}
