// One registry of coded errors. Callers, tests and the dead letter branch on
// `code`, never on message text.

export const RejectCode = {
  LINE_TOO_LONG: 'E_LINE_TOO_LONG',
  INVALID_UTF8: 'E_INVALID_UTF8',
  INVALID_JSON: 'E_INVALID_JSON',
  NOT_OBJECT: 'E_NOT_OBJECT',
  BAD_HANDSHAKE: 'E_BAD_HANDSHAKE',
  SCHEMA: 'E_SCHEMA',
  TRUNCATED_LINE: 'E_TRUNCATED_LINE',
} as const;
export type RejectCode = (typeof RejectCode)[keyof typeof RejectCode];

export const RejectReason: Record<RejectCode, string> = {
  E_LINE_TOO_LONG: 'line exceeds the size limit',
  E_INVALID_UTF8: 'line is not valid UTF-8',
  E_INVALID_JSON: 'line is not valid JSON',
  E_NOT_OBJECT: 'JSON value is not an object',
  E_SCHEMA: 'event does not match the JSON Schema for its type',
  E_TRUNCATED_LINE: 'the connection ended in the middle of this line (no newline) and what came is not a whole JSON value',
  E_BAD_HANDSHAKE: 'the $sealog control line is only allowed as the first line and must be {"$sealog":{"ack":true|false}}',
};

// Verification findings. A failure names the first broken seq, segment and byte offset.
export const VerifyCode = {
  FRAME_CORRUPT: 'V_FRAME_CORRUPT',
  RECORD_MALFORMED: 'V_RECORD_MALFORMED',
  NOT_CANONICAL: 'V_NOT_CANONICAL',
  HASH_MISMATCH: 'V_HASH_MISMATCH',
  SEQ_MISMATCH: 'V_SEQ_MISMATCH',
  CHAIN_BROKEN: 'V_CHAIN_BROKEN',
  SEGMENT_GAP: 'V_SEGMENT_GAP',
  CHECKPOINT_INVALID: 'V_CHECKPOINT_INVALID',
  CHECKPOINT_SIGNATURE: 'V_CHECKPOINT_SIGNATURE',
  CHECKPOINT_ORIGIN: 'V_CHECKPOINT_ORIGIN',
  ROOT_MISMATCH: 'V_ROOT_MISMATCH',
  TRUNCATED: 'V_TRUNCATED',
  MANIFEST_INVALID: 'V_MANIFEST_INVALID',
  MANIFEST_SIGNATURE: 'V_MANIFEST_SIGNATURE',
  MANIFEST_MISMATCH: 'V_MANIFEST_MISMATCH',
  REMOVED_UNRECORDED: 'V_REMOVED_UNRECORDED',
  REMOVAL_PENDING: 'V_REMOVAL_PENDING',
  CHECKPOINT_UNCHECKED: 'V_CHECKPOINT_UNCHECKED',
  RETIRED_KEY: 'V_RETIRED_KEY',
  KEY_TRANSITION_INVALID: 'V_KEY_TRANSITION_INVALID',
  NO_CHECKPOINT: 'V_NO_CHECKPOINT',
  UNSEALED_TAIL: 'V_UNSEALED_TAIL',
  KEY_NOT_PINNED: 'V_KEY_NOT_PINNED',
  ORIGIN_NOT_PINNED: 'V_ORIGIN_NOT_PINNED',
} as const;
export type VerifyCode = (typeof VerifyCode)[keyof typeof VerifyCode];

export class SealogError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'SealogError';
  }
}

export const ErrorCode = {
  CONFIG_INVALID: 'E_CONFIG_INVALID',
  KEY_MISSING: 'E_KEY_MISSING',
  KEY_INVALID: 'E_KEY_INVALID',
  KEY_EXISTS: 'E_KEY_EXISTS',
  SOCKET_IN_USE: 'E_SOCKET_IN_USE',
  DATA_LOCKED: 'E_DATA_LOCKED',
  DATA_ACCESS: 'E_DATA_ACCESS',
  TOO_MANY_CONNECTIONS: 'E_TOO_MANY_CONNECTIONS',
  FSYNC_FAILED: 'E_FSYNC_FAILED',
  /** An LZ4 frame whose declared blocks could decode past the frame cap: refused before decoding. */
  LZ4_CAP: 'E_LZ4_CAP',
  /** An LZ4 frame that does not decode. */
  LZ4_FRAME: 'E_LZ4_FRAME',
  /** At start, the log's state cannot be trusted (a damaged segment or checkpoint): sealog refuses to append. */
  RECOVERY: 'E_RECOVERY',
  USAGE: 'E_USAGE',
} as const;

// What can go wrong with a dropped spool file; each becomes a sealed `sealog.spool.failed`
// (or, for a duplicate, `sealog.spool.duplicate`) record, and the file moves to rejected/.
export const SpoolCode = {
  SYMLINK: 'E_SPOOL_SYMLINK',
  UNREADABLE: 'E_SPOOL_UNREADABLE',
  NOT_FILE: 'E_SPOOL_NOT_FILE',
  TRUNCATED: 'E_SPOOL_TRUNCATED',
  CHANGED: 'E_SPOOL_CHANGED',
  VANISHED: 'E_SPOOL_VANISHED',
  DUPLICATE: 'E_SPOOL_DUPLICATE',
} as const;

// The Node client's (sealog/client) errors, thrown or rejected to the producer.
export const ClientCode = {
  /** flush(): some events sent so far are not (or not known to be) in the log; the error says which and why. */
  NOT_COMMITTED: 'E_NOT_COMMITTED',
  /** send() with onFull 'error': the ring buffer has no room for the event. */
  RING_FULL: 'E_RING_FULL',
  /** send(): one event is larger than the whole ring buffer. */
  EVENT_TOO_LARGE: 'E_EVENT_TOO_LARGE',
  /** connect(): the daemon's socket does not answer. */
  CONNECT: 'E_CONNECT',
  /** send() or flush() after close(). */
  CLOSED: 'E_CLIENT_CLOSED',
  /** Not a rejection by the daemon: the connection ended before these events were acknowledged. */
  CONNECTION_LOST: 'E_CONNECTION_LOST',
  /** Not a rejection by the daemon: send() with onFull 'drop' found the ring full. */
  DROPPED: 'E_DROPPED',
} as const;
