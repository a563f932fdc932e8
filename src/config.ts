import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Ajv } from 'ajv';
import cron from 'node-cron';
import { parse as parseYaml } from 'yaml';
import { compileRules } from './classify/rules.js';
import { ErrorCode, SealogError } from './errors.js';
import { checkHttpConfig } from './http/listen.js';
import type { RedactConfig } from './redact/redactor.js';
import { redactSchema } from './redact/schema.js';
import type { FromSchema } from './schemaType.js';

const DURATION = '^[1-9][0-9]*[smhd]$';

// The one schema: option names, types, bounds and defaults. config/sealog.yaml documents each.
const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    data_dir: { type: 'string', minLength: 1, default: './var/data' },
    origin: { type: 'string', pattern: '^[^\\s+]*$', default: '' },
    socket: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        path: { type: 'string', minLength: 1, maxLength: 107, default: './var/sealog.sock' },
        mode: { type: 'string', pattern: '^0?[0-7]{3}$', default: '0660' },
        max_line_bytes: { type: 'integer', minimum: 256, maximum: 64 * 1024 * 1024, default: 1024 * 1024 },
        ack_buffer_bytes: { type: 'integer', minimum: 4096, default: 1024 * 1024 },
        max_connections: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 4096 },
      },
    },
    control: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        path: { type: 'string', maxLength: 107, default: '' },
        mode: { type: 'string', pattern: '^0?[0-7]{3}$', default: '0600' },
      },
    },
    spool: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        dir: { type: 'string', minLength: 1, default: './var/spool' },
        enabled: { type: 'boolean', default: true },
        stability_ms: { type: 'integer', minimum: 10, maximum: 3_600_000, default: 1000 },
        idle_ms: { type: 'integer', minimum: 10, maximum: 7 * 24 * 3_600_000, default: 60_000 },
        on_done: { enum: ['move', 'delete'], default: 'move' },
        duplicates: { enum: ['reject', 'ingest'], default: 'reject' },
        parallel_files: { type: 'integer', minimum: 1, maximum: 64, default: 4 },
      },
    },
    dedupe: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        window_seconds: { type: 'integer', minimum: 1, maximum: 7 * 24 * 3600, default: 600 },
        max_entries: { type: 'integer', minimum: 1, maximum: 10_000_000, default: 100_000 },
      },
    },
    front: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        workers: { anyOf: [{ enum: ['auto'] }, { type: 'integer', minimum: 1, maximum: 256 }], default: 'auto' },
      },
    },
    batch: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        max_records: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 4096 },
        max_bytes: { type: 'integer', minimum: 1024, maximum: 16 * 1024 * 1024, default: 1024 * 1024 },
        linger_ms: { type: 'integer', minimum: 0, maximum: 10_000, default: 2 },
      },
    },
    fsync: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        mode: { enum: ['batch', 'interval', 'never'], default: 'batch' },
        interval_ms: { type: 'integer', minimum: 1, maximum: 60_000, default: 1000 },
      },
    },
    segment: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        max_bytes: { type: 'integer', minimum: 4096, default: 128 * 1024 * 1024 },
        max_age_seconds: { type: 'integer', minimum: 1, default: 3600 },
      },
    },
    checkpoint: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        every_records: { type: 'integer', minimum: 1, default: 100_000 },
        every_seconds: { type: 'integer', minimum: 1, default: 60 },
      },
    },
    sanitize: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        max_depth: { type: 'integer', minimum: 1, maximum: 1000, default: 32 },
        max_string_chars: { type: 'integer', minimum: 16, default: 65536 },
        max_items: { type: 'integer', minimum: 1, default: 10_000 },
      },
    },
    redact: redactSchema,
    classify: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        rules: {
          type: 'array',
          default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['match', 'set'],
            properties: {
              name: { type: 'string' },
              match: {
                type: 'object',
                minProperties: 1,
                additionalProperties: {
                  anyOf: [
                    { type: ['string', 'number', 'boolean', 'null'] },
                    { type: 'object', additionalProperties: false, required: ['exists'], properties: { exists: { type: 'boolean' } } },
                  ],
                },
              },
              set: {
                type: 'object',
                additionalProperties: false,
                minProperties: 1,
                properties: {
                  stream: { enum: ['application', 'audit', 'security'] },
                  level: { enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] },
                  type: { type: 'string', minLength: 1 },
                  classification: { enum: ['public', 'internal', 'confidential', 'pii'] },
                  gamp_category: { type: 'integer', minimum: 1, maximum: 5 },
                  original: { type: 'boolean' },
                },
              },
            },
          },
        },
        schemas_dir: { type: 'string', default: '' },
      },
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        max_frame_bytes: { type: 'integer', minimum: 1024 * 1024, maximum: 1024 * 1024 * 1024, default: 64 * 1024 * 1024 },
        queue_items: { type: 'integer', minimum: 1, maximum: 100_000, default: 256 },
        input_buffer_bytes: { type: 'integer', minimum: 1024 * 1024, maximum: 16 * 1024 * 1024 * 1024, default: 64 * 1024 * 1024 },
        stall_seconds: { type: 'number', exclusiveMinimum: 0, maximum: 86_400, default: 30 },
      },
    },
    retention: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: false },
        schedule: { type: 'string', default: '0 30 3 * * *' },
        streams: {
          type: 'object',
          default: { audit: '2555d', security: '2555d', application: '30d', rejected: '90d' },
          propertyNames: { pattern: '^[a-z][a-z0-9_.-]*$' },
          additionalProperties: { type: 'string', pattern: DURATION },
        },
        archive_dir: { type: 'string', default: '' },
        max_total_bytes: { type: 'integer', minimum: 0, default: 0 },
      },
    },
    requests: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { schedule: { type: 'string', default: '*/10 * * * * *' } },
    },
    integrity: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        schedule: { type: 'string', default: '0 */10 * * * *' },
        full_schedule: { type: 'string', default: '0 0 4 * * 0' },
        sample_segments: { type: 'integer', minimum: 0, maximum: 1_000_000, default: 2 },
        at_start: { enum: ['refuse', 'unhealthy'], default: 'refuse' },
      },
    },
    http: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        listen: { type: 'string', pattern: '^(\\[[0-9a-fA-F:.]+\\]|[^:\\s]+):[0-9]{1,5}$', default: '127.0.0.1:8470' },
        tls: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: { cert: { type: 'string', default: '' }, key: { type: 'string', default: '' } },
        },
        allow_plaintext_remote: { type: 'boolean', default: false },
        max_body_bytes: { type: 'integer', minimum: 1024, maximum: 256 * 1024 * 1024, default: 8 * 1024 * 1024 },
        request_timeout_ms: { type: 'integer', minimum: 100, maximum: 3_600_000, default: 30_000 },
        idle_timeout_ms: { type: 'integer', minimum: 100, maximum: 3_600_000, default: 30_000 },
        max_ingest_requests: { type: 'integer', minimum: 1, maximum: 10_000, default: 64 },
        max_concurrent_reads: { type: 'integer', minimum: 1, maximum: 256, default: 4 },
        max_read_queue: { type: 'integer', minimum: 0, maximum: 100_000, default: 1000 },
        access_log_flush_ms: { type: 'integer', minimum: 10, maximum: 600_000, default: 5000 },
      },
    },
    // DESIGN §11: each sink reads the committed log by its cursor data/sinks/<name>.cursor.
    sinks: {
      type: 'array',
      default: [],
      maxItems: 16,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'type', 'url'],
        properties: {
          name: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' },
          type: { enum: ['jetstream', 'postgres'] },
          url: { type: 'string', minLength: 1, maxLength: 2048 },
          stream: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$', default: 'SEALOG' },
          subject_root: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$', default: 'sealog' },
          duplicate_window_seconds: { type: 'integer', minimum: 1, maximum: 7 * 24 * 3600, default: 600 },
          max_in_flight: { type: 'integer', minimum: 1, maximum: 65536, default: 1024 },
          batch_records: { type: 'integer', minimum: 1, maximum: 100_000, default: 4096 },
          max_lag_records: { type: 'integer', minimum: 1, default: 1_000_000 },
          max_lag_seconds: { type: 'integer', minimum: 1, default: 300 },
          hold_retention: { type: 'boolean', default: true },
        },
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { level: { enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], default: 'info' } },
    },
  },
} as const;

/**
 * The loaded config's type, derived from the schema above (defaults filled in), so the two
 * cannot drift. The redact section is the redact module's own schema and type (RedactConfig).
 */
export type Config = Omit<FromSchema<typeof schema>, 'redact'> & { redact: RedactConfig };

/** One entry of `sinks`: subject_root is the first subject token (sealog.<origin token>.records.<stream>); hold_retention keeps every record the sink has not acknowledged. */
export type SinkConfig = Config['sinks'][number];

export interface Overrides {
  data?: string;
  socket?: string;
  spool?: string;
}

const validate = new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true }).compile(schema);

/**
 * Reads the YAML file (if any), applies flags, fills defaults and checks it all
 * at once: an invalid config is refused with every error listed. Frozen after.
 */
export function loadConfig(file: string | undefined, overrides: Overrides = {}): Config {
  let raw: unknown = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new SealogError(ErrorCode.CONFIG_INVALID, `cannot read config ${file}: ${(err as Error).message}`);
    }
    try {
      raw = parseYaml(text) ?? {};
    } catch (err) {
      throw new SealogError(ErrorCode.CONFIG_INVALID, `config ${file} is not valid YAML: ${(err as Error).message}`);
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new SealogError(ErrorCode.CONFIG_INVALID, `config ${file}: the top level must be a mapping of options`);
  }
  const cfg = structuredClone(raw) as Record<string, any>;
  if (overrides.data) cfg.data_dir = overrides.data;
  if (overrides.socket) cfg.socket = { ...(cfg.socket ?? {}), path: overrides.socket };
  if (overrides.spool) cfg.spool = { ...(cfg.spool ?? {}), dir: overrides.spool };
  if (!validate(cfg)) {
    const lines = (validate.errors ?? []).map((e) => {
      const at = e.instancePath ? e.instancePath.slice(1).replaceAll('/', '.') : '(top level)';
      const extra = e.keyword === 'additionalProperties' ? ` '${(e.params as { additionalProperty: string }).additionalProperty}'` : '';
      return `  - ${at}: ${e.message}${extra}`;
    });
    throw new SealogError(
      ErrorCode.CONFIG_INVALID,
      `invalid configuration${file ? ` in ${file}` : ''} (${lines.length} error${lines.length === 1 ? '' : 's'}):\n${lines.join('\n')}`,
    );
  }
  if (!cfg.origin) cfg.origin = `sealog/${hostname()}`;
  if (!cfg.control.path) cfg.control.path = `${cfg.socket.path.replace(/\.sock$/, '')}.ctl`;
  const names = (cfg.sinks as SinkConfig[]).map((x) => x.name);
  const twice = names.filter((n, i) => names.indexOf(n) !== i);
  if (twice.length)
    throw new SealogError(
      ErrorCode.CONFIG_INVALID,
      `invalid configuration${file ? ` in ${file}` : ''}: sink name ${JSON.stringify(twice[0])} is used twice (each has its own cursor file)`,
    );
  compileRules(cfg.classify.rules); // a bad rule (regex, match key) is a config error now, not at first event
  const schedules = {
    'retention.schedule': cfg.retention.schedule,
    'requests.schedule': cfg.requests.schedule,
    'integrity.schedule': cfg.integrity.schedule,
    'integrity.full_schedule': cfg.integrity.full_schedule,
  };
  const badCron = Object.entries(schedules).filter(([, expr]) => !cron.validate(expr));
  if (badCron.length) {
    throw new SealogError(
      ErrorCode.CONFIG_INVALID,
      `invalid configuration${file ? ` in ${file}` : ''}:\n${badCron.map(([k, v]) => `  - ${k}: ${JSON.stringify(v)} is not a cron expression`).join('\n')}`,
    );
  }
  const httpErrors = checkHttpConfig(cfg.http);
  if (httpErrors.length)
    throw new SealogError(ErrorCode.CONFIG_INVALID, `invalid configuration${file ? ` in ${file}` : ''}:\n${httpErrors.map((e) => `  - ${e}`).join('\n')}`);
  return deepFreeze(cfg) as Config;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
