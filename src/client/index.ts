// sealog/client: what a Node.js producer imports to send its events to sealog.
export { NotCommittedError, SealogClient, type ClientOptions, type OnFull } from './client.js';
export type { FailureCount } from './protocol.js';
export { ClientCode, SealogError } from '../errors.js';
