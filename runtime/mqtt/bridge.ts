/**
 * The MQTT side of a device (DESIGN.md "MQTT contract"): `status` retained with a last will,
 * retained `state` republished on change, `events`, and commands on `cmd/<name>` answered on the
 * MQTT v5 response topic (with correlation data) or on `reply/<id>` for 3.1.1 clients.
 *
 * Safety over the network: a payload that fails its schema gets an error reply and changes
 * nothing; a command id seen before is answered from memory, not run again; a command past its
 * deadline, a retained command or a goal off the allow-list is refused; when the broker is gone
 * longer than `safety.broker_loss.after_ms`, motion stops.
 */
import type { IClientPublishOptions, MqttClient } from 'mqtt';
import { readFileSync } from 'node:fs';
import { LlmosError, toLlmosError } from '../../lib/errors.js';
import { packagePath } from '../../lib/paths.js';
import { redactUrl } from '../../lib/redact.js';
import { check, describeIssues } from '../../lib/validate.js';
import type { LLMOS } from '../llmos.js';
import type { Logger } from '../logger.js';
import { Backoff, planConnection } from './connection.js';
import { commandHandler, COMMAND_NAMES, type CommandContext } from './handlers/index.js';
import { announceDelay, discoveryMessages, discoveryTopics } from './home-assistant.js';
import { LinkLiveness } from './liveness.js';
import { commandKey, ReplyMemory } from './reply-memory.js';
import { responseTopicProblem } from './reply-topic.js';
import { SensorTelemetry } from './telemetry.js';
import { isCommandId, topicProblem, topicsFor, type Topics } from './topics.js';

export interface BridgeOptions {
  os: LLMOS;
  /** run-agentic-follower: cmd/execute may allow MIXED and LEARNER. */
  allowLlm: boolean;
  log: Logger;
}

interface Origin {
  responseTopic?: string;
  correlationData?: Buffer;
}

async function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); })]);
  clearTimeout(timer);
}

export class MqttBridge {
  readonly topics: Topics;
  private readonly os: LLMOS;
  private readonly options: BridgeOptions;
  private readonly log: Logger;
  private client: MqttClient | undefined;
  private readonly seen: ReplyMemory;
  private readonly off: Array<() => void> = [];
  private activeGoal: { run: string; goal: string; mode: string } | null = null;
  private stateTimer: NodeJS.Timeout | undefined;
  private lastStateAt = 0;
  private lossTimer: NodeJS.Timeout | undefined;
  private liveness: LinkLiveness | undefined;
  /** This outage already stopped motion: failed reconnects (each a 'close') must not stop again. */
  private lossStopped = false;
  private announceTimer: NodeJS.Timeout | undefined;
  private backoff: Backoff;
  private connected = false;
  private closing = false;
  private readonly allowGoals: RegExp[];
  private readonly version: string;
  private readonly telemetry: SensorTelemetry;

  constructor(options: BridgeOptions) {
    this.os = options.os;
    this.options = options;
    this.log = options.log;
    const cfg = this.os.config;
    this.topics = topicsFor(cfg.mqtt.base_topic, cfg.device_id);
    this.seen = new ReplyMemory(10000, cfg.mqtt.dedupe_window_ms ?? 600000);
    this.backoff = new Backoff(cfg.mqtt.reconnect_ms, cfg.mqtt.max_reconnect_ms);
    this.allowGoals = (cfg.mqtt.allow_goals ?? []).map((p) => {
      try { return new RegExp(`^(?:${p})$`, 'i'); } catch (e) {
        throw new LlmosError('ERR_CONFIG_INVALID', `/mqtt/allow_goals: "${p}" is not a valid regular expression: ${(e as Error).message}`);
      }
    });
    this.version = (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
    this.telemetry = new SensorTelemetry(this.os, {
      publish: (sensor, r) => this.publish(`${this.topics.base}/telemetry/${sensor}`, JSON.stringify(r), { qos: 0 }),
      changed: () => this.publishState(),
      warn: (m) => this.log.warn(m),
    });
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Connects (and keeps reconnecting); resolves once the client exists, not when connected. */
  async start(): Promise<void> {
    // First: a telemetry setting naming an unknown sensor fails start-up before anything connects.
    this.telemetry.start();
    const cfg = this.os.config;
    const loss = cfg.safety.broker_loss;
    const plan = planConnection(cfg.mqtt, cfg.device_id, cfg.preset, this.topics, loss.action === 'stop' ? loss.after_ms : undefined);
    const mqtt = await import('mqtt');
    const client = mqtt.connect(plan.url, plan.options);
    this.client = client;
    client.on('connect', () => this.onConnect());
    client.on('reconnect', () => { (client.options as { reconnectPeriod: number }).reconnectPeriod = this.backoff.next(); });
    client.on('close', () => this.onDisconnect());
    client.on('offline', () => this.onDisconnect());
    client.on('error', (e) => this.log.warn(`mqtt: ${e.message}`));
    if (loss.action === 'stop') {
      // A silent broker is noticed within the loss window, not after keepalive plus the window.
      const live = new LinkLiveness({
        windowMs: loss.after_ms,
        ping: () => { if (this.connected && !this.closing) client.sendPing(); },
        isConnected: () => this.connected && !this.closing,
        onSilent: (ms) => {
          this.log.warn(`mqtt: broker silent for ${ms} ms: stopping motion`);
          void this.os.stopMotion(`broker silent for ${ms} ms`).catch(() => undefined);
        },
      });
      this.liveness = live;
      client.on('packetreceive', () => live.heard());
      live.start();
    }
    client.on('message', (topic, payload, packet) => {
      void this.onMessage(topic, payload, packet as unknown as { retain?: boolean; properties?: { responseTopic?: string; correlationData?: Buffer } });
    });
    this.watchRuntime();
  }

  /** Resolves when connected (tests, start-up scripts). */
  waitConnected(timeoutMs = 10000): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { off(); reject(new LlmosError('ERR_MQTT', `not connected to ${redactUrl(this.os.config.mqtt.url ?? '')} within ${timeoutMs} ms`)); }, timeoutMs);
      const onConnect = (): void => { off(); resolve(); };
      const off = (): void => { clearTimeout(timer); this.client?.off('connect', onConnect); };
      this.client?.on('connect', onConnect);
    });
  }

  private onConnect(): void {
    this.connected = true;
    // Commands and replies are small and latency-bound: no Nagle delay on our side.
    (this.client?.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
    if (this.client) this.client.options.reconnectPeriod = this.backoff.reset();
    clearTimeout(this.lossTimer);
    this.lossTimer = undefined;
    this.lossStopped = false;
    const client = this.client as MqttClient;
    // v5 retain-as-published: a retained publish keeps its flag even on a live subscription, so
    // it is recognised and refused (3.1.1 brokers clear the flag on live delivery; see README).
    client.subscribe(this.topics.commands, { qos: 1, ...(this.os.config.mqtt.protocol_version === 5 ? { rap: true } : {}) });
    const ha = this.os.config.mqtt.home_assistant;
    if (ha.enabled) client.subscribe(`${ha.prefix}/status`, { qos: 1 });
    else client.subscribe(discoveryTopics(ha.prefix, this.os.config.device_id), { qos: 1 }); // to clear what an earlier run left
    this.publish(this.topics.status, 'online', { qos: 1, retain: true });
    this.publishDiscovery();
    this.publishState(true);
    this.log.info(`mqtt: connected to ${redactUrl(this.os.config.mqtt.url ?? '')} as ${this.topics.base}`);
  }

  /** Link-loss failsafe: without the broker for too long, motion stops. */
  private onDisconnect(): void {
    if (!this.connected && this.lossTimer) return;
    this.connected = false;
    if (this.closing || this.lossTimer || this.lossStopped) return;
    const { action, after_ms } = this.os.config.safety.broker_loss;
    if (action !== 'stop') return;
    // The window started when the broker was last heard, not when the loss was noticed.
    this.lossTimer = setTimeout(() => {
      this.lossTimer = undefined;
      if (this.connected || this.closing) return;
      this.lossStopped = true;
      this.log.warn(`mqtt: broker lost for ${after_ms} ms: stopping motion`);
      void this.os.stopMotion(`broker lost for ${after_ms} ms`).catch(() => undefined);
    }, this.liveness?.remainingMs() ?? after_ms);
  }

  private watchRuntime(): void {
    const os = this.os;
    const event = (type: string, body: Record<string, unknown>): void => this.publish(this.topics.events, JSON.stringify({ type, ts: new Date().toISOString(), ...body }), { qos: 0 });
    this.off.push(os.events.on('run_started', (e) => { this.activeGoal = { run: e.run, goal: e.goal, mode: e.mode }; event('run_started', e); this.publishState(); }));
    this.off.push(os.events.on('step', (e) => event('step', { run: e.run, step: e.step })));
    this.off.push(os.events.on('run_finished', (e) => {
      if (this.activeGoal?.run === e.run) this.activeGoal = null;
      const r = e.result;
      event('run_finished', { run: e.run, goal: r.goal, mode: r.mode, ok: r.ok, trace: r.trace, llm_calls: r.llm_calls, duration_ms: r.duration_ms, ...(r.error ? { error: r.error } : {}) });
      this.publishState();
    }));
    this.off.push(os.events.on('suggestion', (s) => event('suggestion', s)));
    this.off.push(os.events.on('learn_rejected', (s) => event('learn_rejected', s)));
    this.off.push(os.gate.events.on('decision', (d) => {
      if (d.decision === 'reject' && (d.code?.startsWith('ERR_SAFETY') || d.code === 'ERR_ESTOP_ENGAGED' || d.code === 'ERR_HOOK_BLOCKED')) {
        event('safety_rejection', { source: d.source, run: d.run, tool: d.tool, args: d.args, code: d.code, reason: d.reason });
      }
    }));
    this.off.push(os.gate.events.on('estop', (e) => { event('estop', e); this.publishState(true); }));
    this.off.push(os.gate.events.on('deadman', (e) => event('deadman', e)));
    this.off.push(os.gate.events.on('reflex', (e) => event('reflex', { ...e })));
    this.off.push(os.gate.events.on('write', () => this.publishState()));
    this.off.push(os.gate.confirmations.events.on('request', (q) => event('confirm_request', { ...q })));
    if (os.sentience) this.off.push(os.sentience.events.on('change', () => this.publishState()));
  }

  stateSnapshot(): Record<string, unknown> {
    const os = this.os;
    const sentience = os.sentience?.snapshot();
    return {
      device_id: os.config.device_id,
      mode: sentience?.mode ?? 'DISABLED',
      ...(sentience ? { sentience } : {}),
      estop: os.gate.estopStatus,
      active_goal: this.activeGoal,
      actuators: os.gate.actuatorSnapshot(),
      sensors: this.telemetry.snapshot(),
      traces: os.traces.size,
      updated_at: new Date().toISOString(),
    };
  }

  /** Retained state, at most every 200 ms (ramps write at 50 Hz), and at once when `now`. */
  private publishState(now = false): void {
    const send = (): void => {
      this.stateTimer = undefined;
      this.lastStateAt = Date.now();
      this.publish(this.topics.state, JSON.stringify(this.stateSnapshot()), { qos: 1, retain: true });
    };
    if (now) { clearTimeout(this.stateTimer); send(); return; }
    if (this.stateTimer) return;
    this.stateTimer = setTimeout(send, Math.max(0, 200 - (Date.now() - this.lastStateAt)));
    this.stateTimer.unref();
  }

  /** The Home Assistant device config (retained). */
  private publishDiscovery(): void {
    const ha = this.os.config.mqtt.home_assistant;
    if (!ha.enabled) return;
    const messages = discoveryMessages({ prefix: ha.prefix, deviceId: this.os.config.device_id, topics: this.topics, version: this.version, sensors: this.os.profile.sensors.values() });
    for (const m of messages) this.publish(m.topic, m.payload, { qos: 1, retain: true });
  }

  /**
   * State and events are only sent while connected (state is republished on connect). Replies
   * (`queue`) are handed to the client even offline: it sends them after reconnecting.
   */
  private publish(topic: string, payload: string, options: IClientPublishOptions, queue = false): void {
    if (!this.client || this.closing || (!this.connected && !queue)) return;
    // The broker drops a client that publishes to a malformed topic, and a queued publish would
    // do it again at every reconnect: such a publish is never handed to the client.
    const problem = topicProblem(topic);
    if (problem) { this.log.warn(`mqtt: not publishing to ${JSON.stringify(topic)}: the topic ${problem}`); return; }
    this.client.publish(topic, payload, options, (e) => { if (e) this.log.warn(`mqtt: publish to ${topic} failed: ${e.message}`); });
  }

  private async onMessage(topic: string, payload: Buffer, packet: { retain?: boolean; properties?: { responseTopic?: string; correlationData?: Buffer; messageExpiryInterval?: number } }): Promise<void> {
    const ha = this.os.config.mqtt.home_assistant;
    if (!ha.enabled && discoveryTopics(ha.prefix, this.os.config.device_id).includes(topic)) {
      // Discovery is off: a config an earlier run left retained is cleared.
      if (packet.retain && payload.length > 0) this.publish(topic, '', { qos: 1, retain: true });
      return;
    }
    if (ha.enabled && topic === `${ha.prefix}/status`) {
      if (payload.toString() === 'online') {
        clearTimeout(this.announceTimer);
        this.announceTimer = setTimeout(() => this.publishDiscovery(), announceDelay());
        this.announceTimer.unref();
      }
      return;
    }
    // A response topic must be one we can publish to, and not one where a message acts (any
    // device's commands, the discovery prefix, our own topics): such a command is answered on
    // reply/<id> instead.
    const responseTopic = packet.properties?.responseTopic;
    const badResponse = responseTopic === undefined ? undefined : responseTopicProblem(responseTopic, this.os.config.mqtt, this.topics);
    const origin: Origin = {
      ...(responseTopic && !badResponse ? { responseTopic } : {}),
      ...(packet.properties?.correlationData && !badResponse ? { correlationData: packet.properties.correlationData } : {}),
    };
    const expiry = packet.properties?.messageExpiryInterval;
    const name = topic.slice(this.topics.command('').length);
    let id: string | undefined;
    let key: string | undefined;
    try {
      let body: unknown;
      try { body = JSON.parse(payload.toString('utf8')); } catch {
        throw new LlmosError('ERR_MQTT', `cmd/${name}: the payload is not JSON`);
      }
      const rawId = (body as { id?: unknown } | null)?.id;
      // Only an id that can be a topic level gets an answer on reply/<id>; any other is refused
      // by the schema and answered on the response topic or as an event.
      id = isCommandId(rawId) ? rawId : undefined;
      const handler = commandHandler(name);
      if (!handler) throw new LlmosError('ERR_MQTT', `unknown command ${JSON.stringify(name)}; commands: ${COMMAND_NAMES.join(', ')}`);
      if (packet.retain) throw new LlmosError('ERR_MQTT', `cmd/${name}: retained commands are not executed (they would replay at every reconnect)`);
      const issues = check(handler.schema, body);
      if (issues.length > 0) throw new LlmosError('ERR_MQTT', `cmd/${name}: ${describeIssues(issues)}`);
      const p = body as Record<string, unknown>;
      const engage = name === 'estop' && p['action'] === 'engage';
      // Engaging the e-stop is always done; anything else with a response topic that cannot carry
      // its reply is refused (the answer goes to reply/<id>).
      if (badResponse && !engage) throw new LlmosError('ERR_MQTT', `cmd/${name}: response topic ${JSON.stringify(responseTopic)} cannot carry a reply: it ${badResponse}; not executed`);
      if (handler.dedupe && id !== undefined && !engage) {
        const k = commandKey(name, id, payload);
        const replyTo = origin;
        const seen = this.seen.claim(k, (reply) => this.send(replyTo, id, { ...reply, duplicate: true }, undefined, name));
        if (seen !== 'new') return;
        key = k;
      }
      const settle = (reply: Record<string, unknown>): void => {
        if (key !== undefined) this.seen.settle(key, reply);
        this.send(origin, id, reply, undefined, name);
      };
      const ctx: CommandContext = {
        os: this.os, payload: p, allowLlm: this.options.allowLlm,
        goalAllowed: (goal) => this.allowGoals.length === 0 || this.allowGoals.some((r) => r.test(goal.trim())),
        state: () => this.stateSnapshot(),
        reply: (result) => settle({ id: id ?? null, ok: (result as { ok?: boolean })?.ok ?? true, result }),
        fail: (error) => settle({ id: id ?? null, ok: false, error: error.toJSON() }),
        ...(typeof expiry === 'number' ? { expiresAt: Date.now() + expiry * 1000 } : {}),
      };
      await handler.handle(ctx);
    } catch (e) {
      const err = toLlmosError(e, 'ERR_MQTT');
      this.log.warn(`mqtt: ${topic}: ${err.message}`);
      const reply = { id: id ?? null, ok: false, error: err.toJSON() };
      // A command that did not run is not remembered: a bad payload may be sent again, fixed.
      if (key !== undefined) this.seen.forget(key, { ...reply });
      this.send(origin, id, reply, topic);
    }
  }

  /** Replies go to the v5 response topic (with correlation data), else to reply/<id>. */
  private send(origin: Origin, id: string | undefined, reply: Record<string, unknown>, topic?: string, command?: string): void {
    const payload = JSON.stringify(reply);
    if (origin.responseTopic) {
      this.publish(origin.responseTopic, payload, { qos: 1, ...(origin.correlationData ? { properties: { correlationData: origin.correlationData } } : {}) }, true);
    } else if (id !== undefined) {
      this.publish(this.topics.reply(id), payload, { qos: 1 }, true);
    } else {
      // No id and no response topic (a Home Assistant button press): the outcome of a command
      // that ran goes to events under its name; only a payload that could not be taken is invalid.
      const event = command ? { type: 'command_reply', command } : { type: 'invalid_command', topic };
      this.publish(this.topics.events, JSON.stringify({ ...event, ts: new Date().toISOString(), ...reply }), { qos: 0 });
    }
  }

  /** Orderly stop: `status` offline (retained), then disconnect. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.lossTimer);
    this.liveness?.stop();
    clearTimeout(this.stateTimer);
    clearTimeout(this.announceTimer);
    this.telemetry.stop();
    for (const f of this.off.splice(0)) f();
    const client = this.client;
    if (!client) return;
    if (this.connected) {
      await withTimeout(client.publishAsync(this.topics.status, 'offline', { qos: 1, retain: true }), 2000);
      await withTimeout(client.endAsync(), 2000);
    }
    // Not connected (or a graceful end that did not finish): a graceful end would wait for a
    // connection that is not there, so force it.
    if (!client.disconnected) await withTimeout(client.endAsync(true), 2000);
    this.connected = false;
  }
}
