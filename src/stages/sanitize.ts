import { pathKey } from '../redact/fields.js';
import { alreadyRedacted, type FieldRule, type Redactor } from '../redact/redactor.js';
import type { Draft, JsonObject, JsonValue, Redaction } from '../types.js';

export interface SanitizeLimits {
  maxDepth: number;
  maxStringChars: number;
  maxItems: number;
}

// Whole ANSI CSI / OSC sequences go; any other C0/C1 control except tab and newline becomes U+FFFD.
// The redactor's one-pass scan knows the same set (prefilter.ts's UNCLEAN; its test pins them equal).
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u009b[0-?]*[ -/]*[@-~]/g;
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
const NEEDS_WORK = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const DEPTH_MARKER = '[sealog: depth cap]';
// No built-in pattern fits in fewer characters (the shortest is `pwd=x`): shorter strings skip the scan.
const MIN_SCAN = 5;
// Keys repeat from event to event: what a key needs is decided once and cached (bounded, and
// only for keys with nothing to redact in them, so the cache never holds a secret).
const KEY_CACHE_MAX = 8192;

function prototypeEnumerable(): boolean {
  for (const _ in Object.prototype) return true;
  return false;
}

/** A value's place in its parent: an object's key as it appears in a path (`.key`, `["odd key"]`), or an array index. */
type Seg = string | number;
const pathOf = (parent: string, seg: Seg): string => (typeof seg === 'number' ? `${parent}[${seg}]` : parent + seg);

interface KeyInfo {
  seg: string;
  rule: { rule: FieldRule; rank: number } | undefined;
  paths: boolean;
}

/**
 * sanitize: secrets removed and PII pseudonymized (by the redactor's field rules and
 * text patterns), control characters and ANSI escapes neutralized, depth, width and
 * string length capped, lone surrogates replaced (JCS cannot carry them). Every change
 * is listed in `redactions` by path and kind, never with the value.
 * Copy-on-write: an event that needs nothing comes back as the same object.
 * Rebuilt objects have no prototype, so keys such as `__proto__` stay plain data.
 */
export function createSanitizer(limits: SanitizeLimits, redactor?: Redactor): (draft: Draft) => Draft {
  const scan = redactor?.scan;
  const scanIfClean = redactor?.scanIfClean;
  const keys = new Map<string, KeyInfo>();
  /** Whether Object.prototype has an enumerable property (checked per event; see object()). */
  let polluted = false;

  // One hit callback for the whole sanitizer (no closure per string). A string lists
  // each kind once, however many hits of it it had.
  let hitOut: Redaction[] = [];
  let hitParent = '';
  let hitSeg: Seg = '';
  let hitFrom = 0;
  const onHit = (kind: string) => {
    for (let i = hitFrom; i < hitOut.length; i++) if (hitOut[i]!.kind === kind) return;
    hitOut.push({ path: pathOf(hitParent, hitSeg), kind });
  };
  /** Where onHit lists the hits of the next scan. */
  function hitsTo(parent: string, seg: Seg, out: Redaction[]): void {
    hitOut = out;
    hitParent = parent;
    hitSeg = seg;
    hitFrom = out.length;
  }
  function scanText(s: string, parent: string, seg: Seg, out: Redaction[]): string {
    hitsTo(parent, seg, out);
    return scan!(s, onHit);
  }

  // A value's path is passed as its parent's path and its own segment, and put together only
  // when a change is listed: most values need none, and most values are strings.

  /** `rule`: undefined = scan for patterns; keep = leave as is; pseudonymize/mask = replace the whole string. */
  function str(s: string, parent: string, seg: Seg, out: Redaction[], rule: FieldRule | undefined): string {
    if (rule === undefined && scanIfClean && s.length >= MIN_SCAN) {
      // Most strings: the scan's one pass also tells that there is nothing to clean.
      hitsTo(parent, seg, out);
      const r = scanIfClean(s, onHit);
      if (r !== undefined) return r.length > limits.maxStringChars ? cap(r, parent, seg, out) : r;
    }
    let r = s;
    if (NEEDS_WORK.test(r)) {
      r = r.replace(ANSI, '').replace(CONTROL, '\ufffd');
      out.push({ path: pathOf(parent, seg), kind: 'control_chars' });
    }
    if (!r.isWellFormed()) {
      r = r.toWellFormed();
      out.push({ path: pathOf(parent, seg), kind: 'lone_surrogate' });
    }
    // Redact before the cap: a cut through a secret could leave a part no pattern recognizes.
    if (rule === undefined) {
      if (scan && r.length >= MIN_SCAN) r = scanText(r, parent, seg, out);
    } else if (rule.action !== 'keep' && r.length > 0 && !alreadyRedacted(r)) {
      r = rule.replace(r);
      out.push({ path: pathOf(parent, seg), kind: rule.kind });
    }
    return r.length > limits.maxStringChars ? cap(r, parent, seg, out) : r;
  }

  function cap(s: string, parent: string, seg: Seg, out: Redaction[]): string {
    out.push({ path: pathOf(parent, seg), kind: 'string_cap' });
    return s.slice(0, limits.maxStringChars).toWellFormed();
  }

  function value(v: JsonValue, parent: string, seg: Seg, depth: number, out: Redaction[], rule: FieldRule | undefined): JsonValue {
    if (typeof v === 'string') return str(v, parent, seg, out, rule);
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) {
        // JSON.parse turns 1e400 into Infinity, which JSON (and so JCS) cannot carry.
        out.push({ path: pathOf(parent, seg), kind: 'non_finite_number' });
        return null;
      }
      if (rule === undefined) {
        const card = redactor?.number(v);
        if (card === undefined) return v;
        out.push({ path: pathOf(parent, seg), kind: card.kind });
        return card.value;
      }
      if (rule.action === 'keep') return v;
      out.push({ path: pathOf(parent, seg), kind: rule.kind });
      return rule.replace(String(v));
    }
    if (v === null || typeof v !== 'object') return v;
    const path = pathOf(parent, seg);
    if (depth >= limits.maxDepth) {
      out.push({ path, kind: 'depth_cap' });
      return DEPTH_MARKER;
    }
    if (Array.isArray(v)) {
      let copy: JsonValue[] | undefined;
      const n = Math.min(v.length, limits.maxItems);
      for (let i = 0; i < n; i++) {
        const nv = value(v[i]!, path, i, depth + 1, out, rule);
        if (nv !== v[i] && !copy) copy = v.slice(0, n);
        if (copy) copy[i] = nv;
      }
      if (v.length > n) {
        out.push({ path, kind: 'items_cap' });
        copy ??= v.slice(0, n);
      }
      return copy ?? v;
    }
    return object(v, path, depth, out, rule);
  }

  /** A key's own field rule wins over what it inherits; `remove` takes the whole value. */
  function field(v: JsonValue, own: FieldRule, parent: string, seg: Seg, depth: number, out: Redaction[]): JsonValue {
    if (own.action !== 'remove') return value(v, parent, seg, depth + 1, out, own);
    const empty =
      v === null ||
      typeof v === 'boolean' ||
      v === '' ||
      (typeof v === 'string' && alreadyRedacted(v)) ||
      (typeof v === 'object' && (Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0));
    if (empty) return value(v, parent, seg, depth + 1, out, own);
    out.push({ path: pathOf(parent, seg), kind: own.kind });
    return own.replace('');
  }

  function keyInfo(k: string): KeyInfo | undefined {
    let info = keys.get(k);
    if (info !== undefined) return info;
    // A key needing any change is not cached (and never seen by the rules before it is clean).
    if (NEEDS_WORK.test(k) || !k.isWellFormed() || k.length > limits.maxStringChars) return undefined;
    if (scan && k.length >= MIN_SCAN && scan(k, () => {}) !== k) return undefined;
    info = { seg: pathKey(k), rule: redactor?.keyRule(k), paths: redactor?.hasPathRules(k) ?? false };
    if (keys.size < KEY_CACHE_MAX) keys.set(k, info);
    return info;
  }

  function object(o: JsonObject, path: string, depth: number, out: Redaction[], inherited: FieldRule | undefined): JsonObject {
    // for..in, not Object.keys: no array per object, and V8 reads o[k] by the enum cache. It
    // lists an object's own keys first, then any enumerable one it inherits (none, unless
    // something polluted Object.prototype: then the walk stops at the first one).
    let copy: JsonObject | undefined;
    let i = 0;
    for (const k in o) {
      if (polluted && !Object.hasOwn(o, k)) break;
      if (i === limits.maxItems) {
        copy ??= head(o, i);
        out.push({ path, kind: 'keys_cap' });
        break;
      }
      let nk = k;
      let info = keyInfo(k);
      let parent = path;
      if (info === undefined) {
        // A key that needs work. Its path names the key as it was, unless it held a secret
        // or PII: then the path names it as it is now, so the path never carries the value.
        const own: Redaction[] = [];
        nk = str(k, '', '', own, inherited?.action === 'keep' ? inherited : undefined);
        const sensitive = own.some((r) => r.kind.includes(':'));
        parent = `${path}${pathKey(sensitive ? nk : k)}`;
        for (const r of own) out.push({ path: `${parent}(key)`, kind: r.kind });
        info = { seg: '', rule: redactor?.keyRule(nk), paths: redactor?.hasPathRules(nk) ?? false };
      }
      let rule = info.rule;
      if (info.paths) rule = redactor!.pathRule(nk, parent + info.seg, rule?.rank ?? Infinity) ?? rule;
      const v = o[k]!;
      const nv = rule !== undefined ? field(v, rule.rule, parent, info.seg, depth, out) : value(v, parent, info.seg, depth + 1, out, inherited);
      // Copy-on-write: the copy is made at the first change, with the keys before it as they were.
      if (copy === undefined && (nk !== k || nv !== v)) copy = head(o, i);
      if (copy !== undefined) copy[nk] = nv;
      i++;
    }
    return copy ?? o;
  }

  /** A copy of an object's first n keys, without a prototype. */
  function head(o: JsonObject, n: number): JsonObject {
    const copy = Object.create(null) as JsonObject;
    let i = 0;
    for (const k in o) {
      if (i++ === n) break;
      copy[k] = o[k]!;
    }
    return copy;
  }

  /**
   * A dead-letter entry kept as base64 (not UTF-8, or an oversize head cut mid-character)
   * hides its text from the patterns: scan its bytes as Latin-1 (one character per byte,
   * so ASCII secrets are found as they are) and encode the result back.
   */
  function base64Raw(event: JsonObject, out: Redaction[]): JsonObject {
    const raw = event.raw;
    if (!scan || event.raw_encoding !== 'base64' || typeof raw !== 'string') return event;
    const text = Buffer.from(raw, 'base64').toString('latin1');
    const done = scanText(text, 'event.raw', '', out);
    return done === text ? event : { ...event, raw: Buffer.from(done, 'latin1').toString('base64') };
  }

  return (draft) => {
    polluted = prototypeEnumerable();
    const out: Redaction[] = [];
    let event: JsonObject;
    if (draft.rejected && draft.event.raw_encoding === 'base64') {
      // raw is handled on its bytes; the walk then keeps it as it is.
      const pre = base64Raw(draft.event, out);
      const { raw, ...rest } = pre;
      const walked = object(rest as JsonObject, 'event', 0, out, undefined);
      event = walked === rest && pre === draft.event ? draft.event : Object.assign(Object.create(null) as JsonObject, { ...walked, raw });
      if (raw === undefined) delete event.raw;
    } else {
      event = object(draft.event, 'event', 0, out, undefined);
    }
    if (out.length === 0) return draft;
    let rejected = draft.rejected;
    if (rejected) {
      // The ack repeats the reason to the client: it gets the sanitized text too.
      if (typeof event.reason === 'string' && event.reason !== rejected.reason) rejected = { ...rejected, reason: event.reason };
      // A digest of the original line would let anyone test guesses of what was removed from it.
      if (typeof event.raw_sha256 === 'string' && out.some((r) => r.path === 'event.raw' && r.kind.includes(':'))) {
        event.raw_sha256 = null;
        out.push({ path: 'event.raw_sha256', kind: 'digest_removed' });
      }
    }
    return { ...draft, event, ...(rejected ? { rejected } : {}), redactions: [...draft.redactions, ...out] };
  };
}
