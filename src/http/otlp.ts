import type { JsonObject, JsonValue } from '../types.js';

/**
 * OTLP/HTTP logs, JSON encoding (opentelemetry-proto, ExportLogsServiceRequest)
 * to sealog events: one event per LogRecord, with its resource and scope kept,
 * severity mapped to a level, trace and span ids kept for correlation. Pure: the
 * route feeds the events into the pipeline like any other input.
 */

/** SeverityNumber ranges of the OTel log data model: 1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20 ERROR, 21-24 FATAL. */
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export function severityLevel(n: unknown, text: unknown): string | undefined {
  if (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 24) return LEVELS[Math.floor((n - 1) / 4)];
  if (typeof text === 'string') {
    const t = text.toLowerCase().replace(/[0-9]+$/, '');
    if (t === 'warning') return 'warn';
    if ((LEVELS as readonly string[]).includes(t)) return t;
  }
  return undefined;
}

/** An OTLP AnyValue as plain JSON (int64 values arrive as strings in OTLP JSON and stay strings when past 2^53). */
export function anyValue(v: unknown, depth = 0): JsonValue {
  if (v === null || typeof v !== 'object' || depth > 32) return null;
  const o = v as Record<string, unknown>;
  if ('stringValue' in o) return typeof o.stringValue === 'string' ? o.stringValue : null;
  if ('boolValue' in o) return typeof o.boolValue === 'boolean' ? o.boolValue : null;
  if ('intValue' in o) {
    const n = typeof o.intValue === 'string' ? Number(o.intValue) : o.intValue;
    return typeof n === 'number' && Number.isSafeInteger(n) ? n : typeof o.intValue === 'string' ? o.intValue : null;
  }
  if ('doubleValue' in o) return typeof o.doubleValue === 'number' && Number.isFinite(o.doubleValue) ? o.doubleValue : null;
  if ('bytesValue' in o) return typeof o.bytesValue === 'string' ? o.bytesValue : null;
  if ('arrayValue' in o) {
    const values = (o.arrayValue as { values?: unknown })?.values;
    return Array.isArray(values) ? values.map((x) => anyValue(x, depth + 1)) : [];
  }
  if ('kvlistValue' in o) return attributes((o.kvlistValue as { values?: unknown })?.values, depth + 1);
  return null;
}

/** A list of KeyValue as one object (a repeated key: the last wins, as in most OTel SDKs). */
export function attributes(list: unknown, depth = 0): JsonObject {
  const out: JsonObject = {};
  if (!Array.isArray(list)) return out;
  for (const kv of list) {
    if (kv && typeof kv === 'object' && typeof (kv as { key?: unknown }).key === 'string') {
      const key = (kv as { key: string }).key;
      if (key === '__proto__') continue;
      out[key] = anyValue((kv as { value?: unknown }).value, depth);
    }
  }
  return out;
}

/** Nanoseconds since the epoch (a decimal string or number) as ISO 8601 with microseconds, or undefined for 0/absent. */
export function nanosIso(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '' || v === '0' || v === 0) return undefined;
  let ns: bigint;
  try {
    ns = BigInt(typeof v === 'number' ? Math.trunc(v) : String(v));
  } catch {
    return undefined;
  }
  if (ns <= 0n || ns > 8_640_000_000_000_000_000_000n) return undefined;
  const ms = Number(ns / 1_000_000n);
  const micros = String(Number((ns / 1000n) % 1000n)).padStart(3, '0');
  return `${new Date(ms).toISOString().slice(0, -1)}${micros}Z`;
}

export interface OtlpItem {
  /** The event to seal, or the raw LogRecord when it is not an object (then dead-lettered). */
  event?: JsonObject;
  raw?: unknown;
}

/**
 * The LogRecords of a request, in order, each as an event. Returns a string saying
 * why when the request itself is not an ExportLogsServiceRequest.
 */
export function otlpEvents(body: unknown): OtlpItem[] | string {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'the body is not an ExportLogsServiceRequest object';
  const resourceLogs = (body as { resourceLogs?: unknown }).resourceLogs;
  if (resourceLogs === undefined) return [];
  if (!Array.isArray(resourceLogs)) return 'resourceLogs is not an array';
  const out: OtlpItem[] = [];
  for (const rl of resourceLogs) {
    if (!rl || typeof rl !== 'object') return 'a resourceLogs entry is not an object';
    const { resource, scopeLogs, schemaUrl } = rl as {
      resource?: { attributes?: unknown; droppedAttributesCount?: unknown };
      scopeLogs?: unknown;
      schemaUrl?: unknown;
    };
    if (scopeLogs !== undefined && !Array.isArray(scopeLogs)) return 'scopeLogs is not an array';
    const res = attributes(resource?.attributes);
    for (const sl of (scopeLogs as unknown[] | undefined) ?? []) {
      if (!sl || typeof sl !== 'object') return 'a scopeLogs entry is not an object';
      const { scope, logRecords } = sl as { scope?: { name?: unknown; version?: unknown; attributes?: unknown }; logRecords?: unknown };
      if (logRecords !== undefined && !Array.isArray(logRecords)) return 'logRecords is not an array';
      const scopeObj: JsonObject = {
        ...(typeof scope?.name === 'string' && { name: scope.name }),
        ...(typeof scope?.version === 'string' && { version: scope.version }),
        ...(scope?.attributes !== undefined && { attributes: attributes(scope.attributes) }),
      };
      const otel: JsonObject = { resource: res, scope: scopeObj, ...(typeof schemaUrl === 'string' && { schema_url: schemaUrl }) };
      for (const lr of (logRecords as unknown[] | undefined) ?? []) {
        out.push(lr && typeof lr === 'object' && !Array.isArray(lr) ? { event: logEvent(lr as Record<string, unknown>, otel, res) } : { raw: lr });
      }
    }
  }
  return out;
}

function logEvent(lr: Record<string, unknown>, otel: JsonObject, res: JsonObject): JsonObject {
  const level = severityLevel(lr.severityNumber, lr.severityText);
  const e: JsonObject = {
    event_type: typeof lr.eventName === 'string' && lr.eventName ? lr.eventName : 'otel.log',
    ...(typeof res['service.name'] === 'string' && { service_name: res['service.name'] }),
    ...(nanosIso(lr.timeUnixNano) && { timestamp: nanosIso(lr.timeUnixNano)! }),
    ...(nanosIso(lr.observedTimeUnixNano) && { observed_timestamp: nanosIso(lr.observedTimeUnixNano)! }),
    ...(level && { level }),
    ...(typeof lr.severityNumber === 'number' && { severity_number: lr.severityNumber }),
    ...(typeof lr.severityText === 'string' && { severity_text: lr.severityText }),
    ...(lr.body !== undefined && { body: anyValue(lr.body) }),
    attributes: attributes(lr.attributes),
    ...(typeof lr.traceId === 'string' && lr.traceId && { trace_id: lr.traceId.toLowerCase() }),
    ...(typeof lr.spanId === 'string' && lr.spanId && { span_id: lr.spanId.toLowerCase() }),
    ...(typeof lr.flags === 'number' && { flags: lr.flags }),
    ...(typeof lr.droppedAttributesCount === 'number' && lr.droppedAttributesCount > 0 && { dropped_attributes_count: lr.droppedAttributesCount }),
    otel,
  };
  return e;
}
