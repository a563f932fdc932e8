import { isIP } from 'node:net';
import type { Config } from '../config.js';

export interface ListenAddress {
  host: string;
  port: number;
  tls: boolean;
}

/** 127.0.0.0/8, ::1, localhost: only this machine can connect. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/**
 * The config's `http` rules that a schema cannot say: a port in range, TLS cert and
 * key given together, and no plaintext listen off this machine unless allowed (a
 * bearer token in clear text on a network is a token given away). Returns the errors.
 */
export function checkHttpConfig(h: Config['http']): string[] {
  const errors: string[] = [];
  const { host, port } = parseListen(h.listen);
  if (!(port >= 0 && port <= 65535)) errors.push(`http.listen: port ${port} is out of range`);
  if (Boolean(h.tls.cert) !== Boolean(h.tls.key)) errors.push('http.tls: give both cert and key, or neither');
  if (h.enabled && !h.tls.cert && !isLoopback(host) && !h.allow_plaintext_remote) {
    errors.push(
      `http.listen: ${h.listen} is not a loopback address and http.tls has no cert/key: plaintext off this machine exposes tokens; configure TLS or set http.allow_plaintext_remote: true`,
    );
  }
  return errors;
}

export function parseListen(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(':');
  const host = listen.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(listen.slice(at + 1)) };
}
