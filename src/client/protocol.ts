// Messages between the client's main thread and its worker: only at connect,
// flush and close, never per event.

export interface WorkerConfig {
  sab: SharedArrayBuffer;
  socket: string;
  eventIds: boolean;
  lingerMs: number;
  reconnectMs: number;
}

/** Events of one code that a flush reports as not committed. */
export interface FailureCount {
  code: string;
  count: number;
  /** The reason given for the first of them. */
  reason: string;
}

export type ToWorker = { type: 'flush'; id: number; target: number } | { type: 'close' };

export type ToMain =
  | { type: 'ready' }
  | { type: 'error'; code: string; message: string }
  | { type: 'flushed'; id: number; failures: FailureCount[] }
  | { type: 'closed' };
