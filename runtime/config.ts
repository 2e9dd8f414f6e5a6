/**
 * Configuration: a preset (development | production, mirroring the seed's
 * LLMOSConfig.development() / production()), then the YAML file, then command-line flags. The
 * merged result is validated against schemas/config.schema.json (so a bad flag is reported like
 * a bad file: by field), paths are resolved, and the object is frozen.
 */
import { brokerUrlProblem, prefixProblem } from './mqtt/topics.js';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { LlmosError } from '../lib/errors.js';
import { redactUrl } from '../lib/redact.js';
import { assertValid } from '../lib/validate.js';
import { validationMemo } from '../lib/validation-memo.js';
import { readYamlFile } from '../lib/yaml-file.js';
import type { HookRule } from '../safety/hooks.js';
import { DEFAULT_LEARNING, type LearningConfig } from './traces/learn-checks.js';

export type Preset = 'development' | 'production';

/** The file format: every field optional (schemas/config.schema.json). */
export interface ConfigInput {
  preset?: Preset;
  device_id?: string;
  board?: string;
  paths?: Partial<Record<'traces' | 'crystallized' | 'state' | 'agents' | 'workspace' | 'logs', string>>;
  budget?: Partial<BudgetConfig>;
  modes?: Partial<ModesConfig>;
  crystallization?: Partial<CrystallizationConfig>;
  learning?: Partial<LearningConfig>;
  sentience?: Partial<SentienceConfig>;
  tools?: { disabled?: string[]; facts?: boolean; system?: Partial<SystemConfig> };
  safety?: Partial<Omit<SafetyConfig, 'watchdog' | 'broker_loss'>> & { watchdog?: Partial<SafetyConfig['watchdog']>; broker_loss?: Partial<SafetyConfig['broker_loss']> };
  sim?: Partial<SimConfig>;
  mqtt?: Partial<MqttConfig>;
  ollama?: Partial<OllamaConfig>;
  logging?: Partial<LoggingConfig>;
}

export interface LoggingConfig {
  level: LogLevel;
  format: 'text' | 'json';
  sessions: boolean;
  session_max_bytes: number;
  session_keep: number;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface BudgetConfig {
  usd: number;
  llm_calls_per_goal: number;
  tokens_per_goal: number;
  wall_ms_per_goal: number;
  llm_calls_per_hour: number;
  tokens_per_hour: number;
}
export interface ModesConfig { follower_threshold: number; mixed_threshold: number; embeddings: boolean; embedding_threshold: number }
export interface CrystallizationConfig {
  auto: boolean; min_usage: number; min_success: number;
  /** sha256 of hand-written crystallized files the operator trusts (`llmos crystallize --trust FILE`). */
  trusted_sha256?: string[];
}
export interface SentienceVars { safety: number; curiosity: number; energy: number; confidence: number }
export interface SentienceConfig {
  enabled: boolean;
  half_life_ms: number;
  cautious_speed_scale: number;
  initial: SentienceVars;
  set_points: SentienceVars;
  deltas: Record<string, Partial<SentienceVars>>;
  thresholds: Record<string, number>;
}
export interface SystemConfig { enabled: boolean; bash_timeout_ms: number }
export interface SafetyConfig {
  deadman_ms: number;
  speed_scale: number;
  ramp_tick_ms: number;
  confirm_timeout_ms: number;
  audit: boolean;
  watchdog: { enabled: boolean; heartbeat_ms: number };
  broker_loss: { action: 'stop' | 'ignore'; after_ms: number };
  hooks: HookRule[];
  /** Wall-time limit of every run (ms); unset: derived from the run's own steps' bounds. */
  run_limit_ms?: number;
  /** The longest one step may take (a ramp at a tiny rate, a long wait); longer is refused. */
  max_step_ms: number;
}
export interface SimConfig { time: 'real' | 'virtual'; log?: string; twins?: boolean; /** World file of the sim board (drivers/sim/sim-world.ts). */ world?: string }
export interface MqttConfig {
  url?: string;
  base_topic: string;
  protocol_version: 4 | 5;
  username?: string;
  password?: string;
  client_id?: string;
  keepalive_s: number;
  tls?: { ca?: string; cert?: string; key?: string; reject_unauthorized?: boolean };
  allow_goals?: string[];
  /** Tools cmd/call may use; unset: every tool, unless allow_goals limits remote goals (then none). */
  allow_calls?: string[];
  home_assistant: { enabled: boolean; prefix: string };
  /** Sensor readings on telemetry/<sensor> every interval_ms (0: off, the default on battery boards). */
  telemetry?: { interval_ms: number; sensors?: string[] };
  reconnect_ms: number;
  max_reconnect_ms: number;
  persistent_session?: boolean;
  /** When set, v5 response topics must lie under it. */
  reply_prefix?: string;
  /** How long a command's answer is remembered (a repeat within it is not run again). */
  dedupe_window_ms?: number;
}
export interface OllamaConfig {
  host: string;
  model: string;
  embed_model: string;
  timeout_ms: number;
  /** The largest answer read from Ollama; more is refused (ERR_LLM_BAD_OUTPUT) without being buffered. */
  max_response_bytes?: number;
  max_iterations: number;
  learn_requires: 'tool_success' | 'sensor_check' | 'operator_confirm';
}

export interface RuntimeConfig {
  preset: Preset;
  device_id: string;
  board: string;
  /** Absolute paths. */
  paths: Record<'traces' | 'crystallized' | 'state' | 'agents' | 'workspace' | 'logs', string>;
  budget: BudgetConfig;
  modes: ModesConfig;
  crystallization: CrystallizationConfig;
  /** Checks on a model's run before it is saved as a trace (runtime/traces/learn-checks.ts). */
  learning: LearningConfig;
  sentience: SentienceConfig;
  tools: { disabled: string[]; facts: boolean; system: SystemConfig };
  safety: SafetyConfig;
  sim: SimConfig;
  mqtt: MqttConfig;
  ollama: OllamaConfig;
  logging: LoggingConfig;
  /** The config file, if any. */
  source?: string;
}

const COMMON: ConfigInput & { ollama: Partial<OllamaConfig>; logging: Partial<LoggingConfig> } = {
  board: 'sim',
  modes: { follower_threshold: 0.92, mixed_threshold: 0.75 },
  crystallization: { min_usage: 5, min_success: 0.95 },
  learning: { ...DEFAULT_LEARNING },
  sentience: {
    enabled: true,
    half_life_ms: 10 * 60 * 1000,
    cautious_speed_scale: 0.5,
    initial: { safety: 0.5, curiosity: 0.0, energy: 0.8, confidence: 0.3 },
    set_points: { safety: 0.5, curiosity: 0.0, energy: 0.7, confidence: 0.3 },
    deltas: {},
    thresholds: {},
  },
  tools: { disabled: [], facts: true, system: { enabled: false, bash_timeout_ms: 120000 } },
  logging: { format: 'text', sessions: true, session_max_bytes: 5 * 1024 * 1024, session_keep: 20 },
  safety: {
    deadman_ms: 500, speed_scale: 1, ramp_tick_ms: 20, confirm_timeout_ms: 30000, audit: true,
    watchdog: { enabled: true, heartbeat_ms: 100 }, broker_loss: { action: 'stop', after_ms: 2000 }, hooks: [], max_step_ms: 600000,
  },
  sim: { time: 'real' },
  mqtt: {
    base_topic: 'llmos', protocol_version: 5, keepalive_s: 30,
    home_assistant: { enabled: false, prefix: 'homeassistant' }, telemetry: { interval_ms: 0 }, reconnect_ms: 500, max_reconnect_ms: 30000, dedupe_window_ms: 600000,
  },
  ollama: { host: 'http://127.0.0.1:11434', model: 'qwen2.5:1.5b', embed_model: 'nomic-embed-text', max_iterations: 8, learn_requires: 'tool_success' },
};

/** The seed's presets: development is cheap and manual; production learns and crystallizes on its own. */
export const PRESETS: Record<Preset, ConfigInput> = {
  development: {
    ...structuredClone(COMMON),
    preset: 'development',
    device_id: 'llmos-dev',
    budget: { usd: 1, llm_calls_per_goal: 8, tokens_per_goal: 16000, wall_ms_per_goal: 120000, llm_calls_per_hour: 200, tokens_per_hour: 400000 },
    modes: { follower_threshold: 0.92, mixed_threshold: 0.75, embeddings: false, embedding_threshold: 0.8 },
    crystallization: { auto: false, min_usage: 5, min_success: 0.95 },
    ollama: { ...COMMON.ollama, timeout_ms: 120000 },
    logging: { ...COMMON.logging, level: 'info' },
  },
  production: {
    ...structuredClone(COMMON),
    preset: 'production',
    device_id: 'llmos',
    budget: { usd: 100, llm_calls_per_goal: 12, tokens_per_goal: 32000, wall_ms_per_goal: 60000, llm_calls_per_hour: 600, tokens_per_hour: 2000000 },
    modes: { follower_threshold: 0.92, mixed_threshold: 0.75, embeddings: true, embedding_threshold: 0.8 },
    crystallization: { auto: true, min_usage: 5, min_success: 0.95 },
    ollama: { ...COMMON.ollama, timeout_ms: 60000 },
    logging: { ...COMMON.logging, level: 'warn', format: 'json' },
  },
};

type Plain = Record<string, unknown>;

function isPlain(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge where later layers win; arrays are replaced, not concatenated. */
export function mergeConfig(...layers: ReadonlyArray<Plain | undefined>): Plain {
  const out: Plain = {};
  for (const layer of layers) {
    if (!layer) continue;
    for (const [k, v] of Object.entries(layer)) {
      if (v === undefined) continue;
      out[k] = isPlain(v) && isPlain(out[k]) ? mergeConfig(out[k] as Plain, v) : structuredClone(v);
    }
  }
  return out;
}

function deepFreeze<T>(o: T): T {
  if (isPlain(o) || Array.isArray(o)) {
    for (const v of Object.values(o as object)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

export interface LoadConfigOptions {
  /** Config file path (YAML); none = preset only. */
  file?: string;
  /** Values from flags or code, applied last. */
  overrides?: ConfigInput;
  /** Where relative paths of overrides and defaults resolve (default: process.cwd()). */
  cwd?: string;
}

export function loadConfig(options: LoadConfigOptions = {}): RuntimeConfig {
  const cwd = options.cwd ?? process.cwd();
  let fileLayer: Plain | undefined;
  let fileDir = cwd;
  let source: string | undefined;
  if (options.file) {
    source = resolve(cwd, options.file);
    const raw = readYamlFile(source, 'ERR_CONFIG_INVALID');
    if (raw !== null && raw !== undefined && !isPlain(raw)) throw new LlmosError('ERR_CONFIG_INVALID', `${source}: the configuration must be a YAML mapping`);
    fileLayer = (raw ?? {}) as Plain;
    assertValid('config', fileLayer, source, 'ERR_CONFIG_INVALID');
    fileDir = dirname(source);
  }
  const preset = (options.overrides?.preset ?? (fileLayer?.['preset'] as Preset | undefined) ?? 'development');
  // Relative paths from the file resolve against the file; from flags and defaults, against cwd.
  const rebase = (layer: Plain | undefined, base: string): Plain | undefined => {
    if (!layer) return layer;
    const copy = structuredClone(layer);
    const paths = copy['paths'];
    if (isPlain(paths)) for (const [k, v] of Object.entries(paths)) if (typeof v === 'string') paths[k] = resolve(base, v);
    if (typeof copy['board'] === 'string' && copy['board'] !== 'sim') copy['board'] = resolve(base, copy['board']);
    const sim = copy['sim'];
    if (isPlain(sim) && typeof sim['log'] === 'string') sim['log'] = resolve(base, sim['log']);
    if (isPlain(sim) && typeof sim['world'] === 'string') sim['world'] = resolve(base, sim['world']);
    const tls = isPlain(copy['mqtt']) ? (copy['mqtt'] as Plain)['tls'] : undefined;
    if (isPlain(tls)) for (const k of ['ca', 'cert', 'key']) if (typeof tls[k] === 'string') tls[k] = resolve(base, tls[k] as string);
    return copy;
  };
  const merged = mergeConfig(PRESETS[preset] as Plain, rebase(fileLayer, fileDir), rebase(options.overrides as Plain | undefined, cwd));
  const paths = (merged['paths'] ?? {}) as Plain;
  const abs = (v: unknown, fallback: string): string => (typeof v === 'string' ? (isAbsolute(v) ? v : resolve(cwd, v)) : resolve(cwd, fallback));
  // The same configuration as at the last start passed already: the validator need not load.
  const memo = validationMemo(join(abs(paths['state'], 'state'), 'cache'), 'config', [options.overrides ?? null, merged]);
  if (!memo.passed()) {
    if (options.overrides) assertValid('config', options.overrides, 'command-line options', 'ERR_CONFIG_INVALID');
    assertValid('config', merged, source ?? 'configuration', 'ERR_CONFIG_INVALID');
    memo.remember();
  }
  const cfg = merged as unknown as RuntimeConfig;
  cfg.paths = {
    traces: abs(paths['traces'], 'traces'),
    crystallized: abs(paths['crystallized'], 'crystallized'),
    state: abs(paths['state'], 'state'),
    agents: abs(paths['agents'], 'agents'),
    workspace: abs(paths['workspace'], 'workspace'),
    logs: '',
  };
  // Logs live in the state directory unless placed elsewhere: --state DIR moves them too.
  cfg.paths.logs = paths['logs'] !== undefined ? abs(paths['logs'], 'logs') : join(cfg.paths.state, 'logs');
  if (cfg.modes.mixed_threshold > cfg.modes.follower_threshold) {
    throw new LlmosError('ERR_CONFIG_INVALID', `${source ?? 'configuration'}: /modes/mixed_threshold (${cfg.modes.mixed_threshold}) must not exceed /modes/follower_threshold (${cfg.modes.follower_threshold})`);
  }
  for (const [i, h] of cfg.safety.hooks.entries()) {
    for (const key of ['tool', 'match'] as const) {
      const pattern = h[key];
      if (pattern === undefined) continue;
      try { new RegExp(pattern); } catch (e) {
        throw new LlmosError('ERR_CONFIG_INVALID', `${source ?? 'configuration'}: /safety/hooks/${i}/${key}: not a valid regular expression: ${(e as Error).message}`);
      }
    }
  }
  // A prefix with a wildcard or a leading $ would connect and never serve (or serve others' topics).
  const prefixes: Array<[string, string | undefined]> = [['base_topic', cfg.mqtt.base_topic], ['home_assistant/prefix', cfg.mqtt.home_assistant.prefix], ['reply_prefix', cfg.mqtt.reply_prefix]];
  for (const [field, value] of prefixes) {
    const problem = value === undefined ? undefined : prefixProblem(value);
    if (problem) throw new LlmosError('ERR_CONFIG_INVALID', `${source ?? 'configuration'}: /mqtt/${field}: ${JSON.stringify(value)} ${problem}; use plain topic levels such as "llmos" or "site/robots"`);
  }
  const urlProblem = cfg.mqtt.url === undefined ? undefined : brokerUrlProblem(cfg.mqtt.url);
  if (urlProblem) throw new LlmosError('ERR_CONFIG_INVALID', `${options.overrides?.mqtt?.url !== undefined ? 'command-line options (--mqtt)' : source ?? 'configuration'}: /mqtt/url: "${redactUrl(cfg.mqtt.url ?? '')}" ${urlProblem}`);
  if (source) cfg.source = source;
  return deepFreeze(cfg);
}
