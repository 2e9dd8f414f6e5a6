/** The MQTT topic tree of one device (DESIGN.md "MQTT contract"): base/<device_id>/... */
export interface Topics {
  base: string;
  status: string;
  state: string;
  events: string;
  /** Subscription for every command: cmd/+ */
  commands: string;
  command(name: string): string;
  /** 3.1.1 replies: reply/<command id> (ids are restricted to one safe topic level). */
  reply(id: string): string;
}

export function topicsFor(baseTopic: string, deviceId: string): Topics {
  const base = `${baseTopic.replace(/\/+$/, '')}/${deviceId}`;
  return {
    base,
    status: `${base}/status`,
    state: `${base}/state`,
    events: `${base}/events`,
    commands: `${base}/cmd/+`,
    command: (name) => `${base}/cmd/${name}`,
    reply: (id) => `${base}/reply/${id}`,
  };
}

/**
 * What a command id may hold: it becomes the topic level of reply/<id>, so no separators or
 * wildcards (`a/b` would land on another id's topic), no control characters or Unicode
 * non-characters (the broker drops a client that publishes them), and a bounded length. The same
 * pattern is in every schemas/mqtt-*.schema.json.
 */
export const COMMAND_ID = /^[A-Za-z0-9._:@~=-]{1,128}$/;

export function isCommandId(id: unknown): id is string {
  return typeof id === 'string' && COMMAND_ID.test(id);
}

/**
 * Why a topic cannot be published to (undefined: it can). A publish the broker finds malformed
 * ends the connection, and a queued one would end it again at every reconnect, so nothing like
 * that is ever handed to the client.
 */
export function topicProblem(topic: string): string | undefined {
  if (topic === '') return 'is empty';
  if (/[+#]/.test(topic)) return 'holds a wildcard (+ or #)';
  if (topic.startsWith('$')) return 'is a $ topic (reserved for the broker)';
  if (hasForbiddenCodePoint(topic)) return 'holds a control character or a Unicode non-character';
  if (Buffer.byteLength(topic, 'utf8') > 65535) return 'is longer than 65535 bytes';
  return undefined;
}

/**
 * Why a configured topic prefix (mqtt.base_topic, the discovery prefix, mqtt.reply_prefix)
 * cannot be used: a prefix holding a wildcard or starting with `$` would subscribe to, or publish
 * under, topics that are not this device's.
 */
export function prefixProblem(prefix: string): string | undefined {
  const p = prefix.replace(/\/+$/, '');
  if (p === '') return 'is empty';
  const problem = topicProblem(p);
  if (problem) return problem;
  if (p.split('/').some((level) => level === '')) return 'has an empty topic level (//)';
  return undefined;
}

/** URL schemes mqtt.js connects with (tcp and tls are its aliases of mqtt and mqtts). */
export const BROKER_SCHEMES: readonly string[] = ['mqtt', 'mqtts', 'tcp', 'tls', 'ws', 'wss'];

/**
 * Why a broker URL cannot be used, or undefined. Checked when the configuration loads, so a typo
 * in `--mqtt` is an error on every run, not only once a service tries to connect.
 */
export function brokerUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try { parsed = new URL(url); } catch { return 'is not a URL (e.g. mqtt://broker.local:1883 or mqtts://broker:8883)'; }
  const scheme = parsed.protocol.replace(/:$/, '');
  if (!BROKER_SCHEMES.includes(scheme)) return `has the unsupported scheme "${scheme}" (mqtt, mqtts, ws, wss)`;
  if (parsed.hostname === '') return 'names no host (e.g. mqtt://broker.local:1883)';
  return undefined;
}

/** True when `topic` is `prefix` itself or lies under it. */
export function under(topic: string, prefix: string): boolean {
  const p = prefix.replace(/\/+$/, '');
  return topic === p || topic.startsWith(`${p}/`);
}

/** C0/C1 controls, lone surrogates and the Unicode non-characters (U+FDD0..U+FDEF, U+xFFFE, U+xFFFF). */
function hasForbiddenCodePoint(s: string): boolean {
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f)) return true;
    if (cp >= 0xd800 && cp <= 0xdfff) return true;
    if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe) return true;
  }
  return false;
}
