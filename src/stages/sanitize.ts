import type { Draft, JsonObject, JsonValue, Redaction } from '../types.js';

export interface SanitizeLimits {
  maxDepth: number;
  maxStringChars: number;
  maxItems: number;
}

// Whole ANSI CSI / OSC sequences go; any other C0/C1 control except tab and newline becomes U+FFFD.
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u009b[0-?]*[ -/]*[@-~]/g;
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
const NEEDS_WORK = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const DEPTH_MARKER = '[sealog: depth cap]';

/**
 * sanitize: control characters and ANSI escapes neutralized, depth, width and
 * string length capped, lone surrogates replaced (JCS cannot carry them).
 * Copy-on-write: an event that needs nothing comes back as the same object.
 * Rebuilt objects have no prototype, so keys such as `__proto__` stay plain data.
 */
export function createSanitizer(limits: SanitizeLimits): (draft: Draft) => Draft {
  function str(s: string, path: string, out: Redaction[]): string {
    let r = s;
    if (NEEDS_WORK.test(r)) {
      r = r.replace(ANSI, '').replace(CONTROL, '\ufffd');
      out.push({ path, kind: 'control_chars' });
    }
    if (!r.isWellFormed()) {
      r = r.toWellFormed();
      out.push({ path, kind: 'lone_surrogate' });
    }
    if (r.length > limits.maxStringChars) {
      r = r.slice(0, limits.maxStringChars).toWellFormed();
      out.push({ path, kind: 'string_cap' });
    }
    return r;
  }

  function value(v: JsonValue, path: string, depth: number, out: Redaction[]): JsonValue {
    if (typeof v === 'string') return str(v, path, out);
    if (typeof v === 'number' && !Number.isFinite(v)) {
      // JSON.parse turns 1e400 into Infinity, which JSON (and so JCS) cannot carry.
      out.push({ path, kind: 'non_finite_number' });
      return null;
    }
    if (v === null || typeof v !== 'object') return v;
    if (depth >= limits.maxDepth) {
      out.push({ path, kind: 'depth_cap' });
      return DEPTH_MARKER;
    }
    if (Array.isArray(v)) {
      let copy: JsonValue[] | undefined;
      const n = Math.min(v.length, limits.maxItems);
      for (let i = 0; i < n; i++) {
        const nv = value(v[i]!, `${path}[${i}]`, depth + 1, out);
        if (nv !== v[i] && !copy) copy = v.slice(0, n);
        if (copy) copy[i] = nv;
      }
      if (v.length > n) {
        out.push({ path, kind: 'items_cap' });
        copy ??= v.slice(0, n);
      }
      return copy ?? v;
    }
    return object(v, path, depth, out);
  }

  function object(o: JsonObject, path: string, depth: number, out: Redaction[]): JsonObject {
    const keys = Object.keys(o);
    let changed = keys.length > limits.maxItems;
    const n = Math.min(keys.length, limits.maxItems);
    const entries: [string, JsonValue][] = new Array(n);
    for (let i = 0; i < n; i++) {
      const k = keys[i]!;
      const childPath = `${path}${pathKey(k)}`;
      const nk = str(k, `${childPath}(key)`, out);
      const nv = value(o[k]!, childPath, depth + 1, out);
      if (nk !== k || nv !== o[k]) changed = true;
      entries[i] = [nk, nv];
    }
    if (!changed) return o;
    if (keys.length > n) out.push({ path, kind: 'keys_cap' });
    const copy = Object.create(null) as JsonObject;
    for (const [k, v] of entries) copy[k] = v;
    return copy;
  }

  return (draft) => {
    const out: Redaction[] = [];
    const event = object(draft.event, 'event', 0, out);
    if (out.length === 0) return draft;
    return { ...draft, event, redactions: [...draft.redactions, ...out] };
  };
}

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
function pathKey(k: string): string {
  return PLAIN_KEY.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
}
