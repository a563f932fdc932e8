/**
 * The one lifecycle every input source has (DESIGN §1), so the daemon starts
 * and stops them all alike, in order:
 *   start          - take input (listen, watch); throws if it cannot;
 *   stopAccepting  - read no more; what was handed to the pipeline still commits;
 *   finish         - the pipeline has drained: last acks out, progress saved.
 * A source talks to the pipeline through Ingest only; the daemon knows nothing
 * else of it.
 */
export interface InputSource {
  start(): Promise<void>;
  stopAccepting(): Promise<void>;
  finish(): Promise<void>;
}
