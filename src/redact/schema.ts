import { ACTIONS, BUILTIN_TYPES, KINDS } from './kinds.js';

const KIND = { type: 'string', pattern: '^(secret|pii):[a-z0-9_]+$' } as const;

/** The `redact` section of the config schema; config/sealog.yaml documents each option. */
export const redactSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    enabled: { type: 'boolean', default: true },
    kinds: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: Object.fromEntries(BUILTIN_TYPES.map((t) => [t, { enum: ACTIONS, default: KINDS[t].action }])),
    },
    builtin_fields: { type: 'boolean', default: true },
    fields: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        properties: { key: { type: 'string', minLength: 1 }, path: { type: 'string', minLength: 5 }, kind: KIND, action: { enum: ACTIONS } },
      },
    },
    patterns: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['kind', 'regex'],
        properties: { kind: KIND, regex: { type: 'string', minLength: 1 }, action: { enum: ACTIONS } },
      },
    },
  },
};
