/**
 * Connection options for the broker: MQTT v5 (or 3.1.1), TLS with CA / client certificate / key,
 * username and password, the last will (`status` = offline, retained), a clean session (so the
 * broker keeps no queue of stale commands for us), no queueing of our own QoS 0 messages while
 * offline, and reconnection with exponential backoff. The production preset refuses a plaintext
 * broker that is not on this machine.
 */
import { readFileSync } from 'node:fs';
import { LlmosError } from '../../lib/errors.js';
import { redactUrl } from '../../lib/redact.js';
import type { MqttConfig, Preset } from '../config.js';
import { brokerUrlProblem, type Topics } from './topics.js';

export interface ConnectionPlan {
  url: string;
  options: Record<string, unknown>;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/**
 * The keepalive that lets the link-loss failsafe fire on time: a link that dies silently (no
 * TCP reset) is only noticed after about 1.5 keepalive intervals, so the interval must fit in
 * the failsafe's window. 0 (no keepalive) would never notice it. Never below 5 s: a busy event
 * loop (a burst of commands, a slow SD card) must not be mistaken for a dead link, which would
 * drop in-flight replies and stop motion for nothing.
 */
export function keepaliveFor(keepaliveS: number, linkLossMs: number | undefined): number {
  if (linkLossMs === undefined) return keepaliveS;
  const fits = Math.max(5, Math.floor(linkLossMs / 1500));
  return keepaliveS > 0 ? Math.min(keepaliveS, fits) : fits;
}

export function planConnection(cfg: MqttConfig, deviceId: string, preset: Preset, topics: Topics, linkLossMs?: number): ConnectionPlan {
  if (!cfg.url) throw new LlmosError('ERR_CONFIG_INVALID', 'MQTT needs a broker: set mqtt.url in the config or pass --mqtt URL');
  const problem = brokerUrlProblem(cfg.url);
  if (problem) throw new LlmosError('ERR_CONFIG_INVALID', `/mqtt/url: "${redactUrl(cfg.url)}" ${problem}`);
  const url = new URL(cfg.url);
  const scheme = url.protocol.replace(/:$/, '');
  const secure = ['mqtts', 'tls', 'wss'].includes(scheme);
  if (preset === 'production' && !secure && !LOOPBACK.has(url.hostname)) {
    throw new LlmosError('ERR_CONFIG_INVALID', `/mqtt/url: the production preset refuses a plaintext broker that is not on loopback (${redactUrl(cfg.url)}); use mqtts:// with mqtt.tls, or a broker on localhost`);
  }
  const read = (what: string, path: string | undefined): Buffer | undefined => {
    if (!path) return undefined;
    try { return readFileSync(path); } catch (e) {
      throw new LlmosError('ERR_CONFIG_NOT_FOUND', `/mqtt/tls/${what}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  };
  const tls = cfg.tls ?? {};
  const options: Record<string, unknown> = {
    protocolVersion: cfg.protocol_version,
    clientId: cfg.client_id ?? `llmos-${deviceId}`,
    // A clean session: the broker keeps no queue of commands for us while we are away, so no
    // stale motion is replayed at reconnect. A persistent session receives what was queued, and
    // only what has not expired (v5 message expiry) or passed its deadline runs.
    clean: !cfg.persistent_session,
    keepalive: keepaliveFor(cfg.keepalive_s, linkLossMs),
    reconnectPeriod: cfg.reconnect_ms,
    connectTimeout: 10000,
    queueQoSZero: false,
    resubscribe: true,
    will: { topic: topics.status, payload: Buffer.from('offline'), qos: 1, retain: true },
  };
  // In v5 a session ends at disconnect unless it has an expiry interval.
  if (cfg.persistent_session && cfg.protocol_version === 5) options['properties'] = { sessionExpiryInterval: 3600 };
  if (cfg.username !== undefined) options['username'] = cfg.username;
  if (cfg.password !== undefined) options['password'] = cfg.password;
  const ca = read('ca', tls.ca);
  const cert = read('cert', tls.cert);
  const key = read('key', tls.key);
  if (ca) options['ca'] = ca;
  if (cert) options['cert'] = cert;
  if (key) options['key'] = key;
  if ((cert && !key) || (key && !cert)) throw new LlmosError('ERR_CONFIG_INVALID', '/mqtt/tls: a client certificate needs its key, and a key its certificate');
  if (tls.reject_unauthorized !== undefined) options['rejectUnauthorized'] = tls.reject_unauthorized;
  return { url: cfg.url, options };
}

/** Exponential backoff between reconnection attempts, reset once connected. */
export class Backoff {
  private readonly base: number;
  private readonly max: number;
  current: number;

  constructor(base: number, max: number) {
    this.base = base;
    this.max = Math.max(base, max);
    this.current = base;
  }

  next(): number {
    this.current = Math.min(this.max, this.current * 2);
    return this.current;
  }

  reset(): number {
    this.current = this.base;
    return this.current;
  }
}
