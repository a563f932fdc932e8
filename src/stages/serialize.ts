import { hash } from 'node:crypto';
import { jcsFast } from '../crypto/canonical.js';
import type { Draft, Serialized } from '../types.js';

/** The dedupe key of an event, or undefined when it has none we can trust (missing, not a string/number, redacted). */
export function dedupeKey(d: Pick<Draft, 'event' | 'redactions' | 'rejected' | 'system' | 'source'>): string | undefined {
  if (d.rejected || d.system || d.source.kind === 'sealog') return undefined;
  const id = d.event.event_id;
  if (typeof id === 'string' ? id.length === 0 : typeof id !== 'number') return undefined;
  // A redacted id stands for many values: it identifies nothing.
  if (d.redactions.some((r) => r.path === 'event.event_id')) return undefined;
  return typeof id === 'string' ? `s${id}` : `n${id}`;
}

/** The event_id a dedupe key was made from (for the duplicate ack). */
export function eventIdOf(key: string): string | number {
  return key[0] === 's' ? key.slice(1) : Number(key.slice(1));
}

/** Digest of the canonical event text: the same id on a different event is not a resend. */
export function eventDigest(eventJcs: string): string {
  return hash('sha256', eventJcs, 'base64').slice(0, 22);
}

/** serialize: a finished draft as seal takes it, canonical text of its parts, defaults filled in. */
export function serialize(d: Draft, withDedupe: boolean): Serialized {
  const eventJcs = jcsFast(d.event);
  const key = withDedupe ? dedupeKey(d) : undefined;
  return {
    source: d.source,
    ack: d.ack,
    rejected: d.rejected,
    eventJcs,
    metaJcs: d.meta ? jcsFast(d.meta) : '{}',
    redactionsJcs: d.redactions.length ? jcsFast(d.redactions) : '[]',
    stream: d.stream ?? 'application',
    level: d.level ?? 'info',
    type: d.type ?? 'event',
    dedupe: key === undefined ? undefined : { key, digest: eventDigest(eventJcs) },
  };
}
