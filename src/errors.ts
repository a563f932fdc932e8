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
  JSON_DOCUMENT: 'E_JSON_DOCUMENT',
} as const;
export type RejectCode = (typeof RejectCode)[keyof typeof RejectCode];

export const RejectReason: Record<RejectCode, string> = {
  E_LINE_TOO_LONG: 'line exceeds the size limit',
  E_INVALID_UTF8: 'line is not valid UTF-8',
  E_INVALID_JSON: 'line is not valid JSON',
  E_NOT_OBJECT: 'JSON value is not an object',
  E_SCHEMA: 'event does not match the JSON Schema for its type',
  E_TRUNCATED_LINE: 'the connection ended in the middle of this line (no newline) and what came is not a whole JSON value',
  E_JSON_DOCUMENT:
    'a spool .json document is not valid JSON from here on: the rest of the file, kept as one entry (its sealog.spool.ingested record gives the byte offset)',
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
  /** A file the log is made of is a symlink, FIFO, device or directory (safeRead.ts). */
  NOT_REGULAR_FILE: 'V_NOT_REGULAR_FILE',
  /** A checkpoint or manifest larger than any signed note sealog writes. */
  FILE_TOO_LARGE: 'V_FILE_TOO_LARGE',
  /** A frame whose blocks could decode to more than the per-frame cap (verify --max-frame-mb). */
  FRAME_TOO_LARGE: 'V_FRAME_TOO_LARGE',
  /** An electronic signature record (sealog.signature) fails: unregistered signer, bad signature, or signed records that are not in the log with those hashes. */
  SIGNATURE_INVALID: 'V_SIGNATURE_INVALID',
  /** A signed record lies in a segment retention removed: the signature is checked, the record no longer can be. */
  SIGNED_RECORD_REMOVED: 'V_SIGNED_RECORD_REMOVED',
  /** Signatures were checked against the data directory's keys/signers.pub, not a registry the caller pinned. */
  SIGNERS_NOT_PINNED: 'V_SIGNERS_NOT_PINNED',
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
  /** verify: the directory holds no segments, tombstones or checkpoints (an empty or wrong directory). */
  NOT_A_LOG: 'E_NOT_A_LOG',
  /** status, hold, release: no daemon answers on the control socket. */
  NO_ANSWER: 'E_NO_ANSWER',
  /** start: the log fails verification (integrity.at_start: refuse), or a signed checkpoint covers records that are gone. */
  LOG_DAMAGED: 'E_LOG_DAMAGED',
  /** hold/release: an id already in use, or no such hold. */
  HOLD_REFUSED: 'E_HOLD_REFUSED',
  /** A file opened for reading is not a regular file (a symlink inside the data directory, a FIFO, a device). */
  NOT_REGULAR_FILE: 'E_NOT_REGULAR_FILE',
  /** A small file (a signed note, a key) larger than its kind can be. */
  FILE_TOO_LARGE: 'E_FILE_TOO_LARGE',
  /** A reader (query, prove, tiles) found a record or frame that fails its own check; the message names seq, segment and offset. */
  INTEGRITY: 'E_INTEGRITY',
  /** prove: the seq is past the newest checkpoint. */
  NOT_SEALED: 'E_NOT_SEALED',
  /** tiles: a record longer than a tlog-tiles entry may be (65535 bytes). */
  TILE_ENTRY_TOO_LARGE: 'E_TILE_ENTRY_TOO_LARGE',
} as const;

// Electronic signatures (sealog signer add, sealog sign; DESIGN §13).
export const SignCode = {
  /** The signer key file cannot be opened with this passphrase (or was altered). */
  PASSPHRASE: 'E_SIGNER_PASSPHRASE',
  /** The signer's public key is not registered in keys/signers.pub under that printed name. */
  SIGNER_UNKNOWN: 'E_SIGNER_UNKNOWN',
  /** The signature does not verify under the registered key. */
  SIGNATURE_INVALID: 'E_SIGNATURE_INVALID',
  /** A record to be signed is not in the log (or not with the hash the signature names). */
  SIGNED_RECORD: 'E_SIGNED_RECORD',
  /** The signature request is malformed (fields, meaning, too many records). */
  REQUEST_INVALID: 'E_SIGN_REQUEST',
  /** The daemon refused the signature without saying which of the above. */
  REFUSED: 'E_SIGN',
} as const;

// What can go wrong with a dropped spool file; each becomes a sealed `sealog.spool.failed`
// (or, for a duplicate, `sealog.spool.duplicate`) record, and the file moves to rejected/.
export const SpoolCode = {
  SYMLINK: 'E_SPOOL_SYMLINK',
  UNREADABLE: 'E_SPOOL_UNREADABLE',
  NOT_FILE: 'E_SPOOL_NOT_FILE',
  LINKED: 'E_SPOOL_LINKED',
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

// The HTTP API's errors: every error response is {"error":{"code":"E_…","message":"…"}} with one of these.
export const HttpCode = {
  BAD_REQUEST: 'E_HTTP_BAD_REQUEST',
  BAD_JSON: 'E_HTTP_BAD_JSON',
  BODY_TOO_LARGE: 'E_HTTP_BODY_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'E_HTTP_UNSUPPORTED_MEDIA_TYPE',
  UNAUTHORIZED: 'E_HTTP_UNAUTHORIZED',
  FORBIDDEN: 'E_HTTP_FORBIDDEN',
  NOT_FOUND: 'E_HTTP_NOT_FOUND',
  METHOD_NOT_ALLOWED: 'E_HTTP_METHOD_NOT_ALLOWED',
  TIMEOUT: 'E_HTTP_TIMEOUT',
  /** The pipeline is full or too many ingest requests are open: try again after Retry-After. */
  BUSY: 'E_HTTP_BUSY',
  STOPPING: 'E_HTTP_STOPPING',
  NOT_READY: 'E_HTTP_NOT_READY',
  NOT_IMPLEMENTED: 'E_HTTP_NOT_IMPLEMENTED',
  /** The record or proof asked for could not be checked against the log (hash, chain or tree). */
  INTEGRITY: 'E_HTTP_INTEGRITY',
  INTERNAL: 'E_HTTP_INTERNAL',
  /** A listen address without TLS that is not loopback, and http.allow_plaintext_remote is off. */
  PLAINTEXT_REMOTE: 'E_HTTP_PLAINTEXT_REMOTE',
  TOKEN_UNKNOWN: 'E_TOKEN_UNKNOWN',
} as const;
export type HttpCode = (typeof HttpCode)[keyof typeof HttpCode];
