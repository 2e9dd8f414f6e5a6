/**
 * What run-follower and run-agentic-follower share: flags, configuration from flags, goal input
 * (one goal, or `-` for one goal per line of standard input), output (text or --json lines) and
 * exit codes (0 all goals succeeded, 1 a goal failed or was refused, 2 bad usage or configuration).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { LlmosError, isLlmosError, toLlmosError } from '../lib/errors.js';
import { redactCredentials } from '../lib/redact.js';
import type { ConfigInput } from '../runtime/config.js';
import type { LLMOS } from '../runtime/llmos.js';
import type { ExecutionResult } from '../runtime/result.js';
import { formatCallLine, parseCallLine } from '../runtime/operator/call-line.js';

export const COMMON_OPTIONS = {
  config: { type: 'string' },
  preset: { type: 'string' },
  board: { type: 'string' },
  traces: { type: 'string' },
  state: { type: 'string' },
  json: { type: 'boolean' },
  explain: { type: 'boolean' },
  'sim-log': { type: 'string' },
  'sim-time': { type: 'string' },
  'sim-world': { type: 'string' },
  twins: { type: 'boolean' },
  mqtt: { type: 'string' },
  'device-id': { type: 'string' },
  serve: { type: 'boolean' },
  standalone: { type: 'boolean' },
  'check-board': { type: 'boolean' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface ParsedCli {
  values: Record<string, string | boolean | undefined>;
  goals: string[];
}

export function parseCli(argv: readonly string[], options: OptionSpec): ParsedCli {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    return { values: values as Record<string, string | boolean | undefined>, goals: positionals };
  } catch (e) {
    throw new LlmosError('ERR_USAGE', `${(e as Error).message.replace(/\. To specify.*$/s, '')} (see --help)`);
  }
}

/** Flags that map onto configuration fields; validated with the config schema. */
export function overridesFrom(values: ParsedCli['values']): ConfigInput {
  const o: ConfigInput = {};
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const preset = str('preset');
  if (preset !== undefined) o.preset = preset as ConfigInput['preset'];
  if (str('board') !== undefined) o.board = str('board') as string;
  if (str('traces') !== undefined || str('state') !== undefined) {
    o.paths = {};
    if (str('traces') !== undefined) o.paths.traces = str('traces') as string;
    if (str('state') !== undefined) o.paths.state = str('state') as string;
  }
  if (str('sim-log') !== undefined || str('sim-time') !== undefined || str('sim-world') !== undefined || values['twins'] === true) {
    o.sim = {};
    if (values['twins'] === true) o.sim.twins = true;
    if (str('sim-log') !== undefined) o.sim.log = str('sim-log') as string;
    if (str('sim-time') !== undefined) o.sim.time = str('sim-time') as 'real' | 'virtual';
    if (str('sim-world') !== undefined) o.sim.world = str('sim-world') as string;
  }
  if (str('mqtt') !== undefined) o.mqtt = { url: str('mqtt') as string };
  if (str('device-id') !== undefined) o.device_id = str('device-id') as string;
  if (str('log-level') !== undefined || str('log-format') !== undefined) {
    o.logging = {};
    if (str('log-level') !== undefined) o.logging.level = str('log-level') as NonNullable<NonNullable<ConfigInput['logging']>['level']>;
    if (str('log-format') !== undefined) o.logging.format = str('log-format') as 'text' | 'json';
  }
  return o;
}

/** Goals from the command line, or from standard input for `-`, one per line, as they arrive. */
export async function* goalsFrom(goals: readonly string[], stdin?: NodeJS.ReadableStream): AsyncGenerator<string> {
  if (goals.length === 1 && goals[0] === '-') {
    const { createInterface } = await import('node:readline');
    // process.stdin only here: creating it costs a stream (a few ms) that a goal in argv never reads.
    const input = stdin ?? process.stdin;
    const rl = createInterface({ input, crlfDelay: Infinity, terminal: false });
    // Input destroyed by the command itself (its output reader left, or a signal): no more goals.
    input.once('close', () => rl.close());
    for await (const line of rl) {
      const goal = line.trim();
      if (goal === '' || goal.startsWith('#')) continue;
      yield goal;
    }
    return;
  }
  if (goals.length > 1) throw new LlmosError('ERR_USAGE', `expected one goal (quote it) or "-", got ${goals.length} arguments: ${goals.map((g) => JSON.stringify(g)).join(' ')}`);
  if (goals.length === 1) yield goals[0] as string;
}

/** Prints confirmation requests (ASK) on stderr so an operator can answer them. */
export function announceConfirmations(os: LLMOS, err: (text: string) => void = (t) => { process.stderr.write(t); }): () => void {
  return os.gate.confirmations.events.on('request', (req) => {
    err(`run-follower: ${req.id}: ${req.tool} ${JSON.stringify(req.args)} needs confirmation (${req.reason}); answer ":confirm ${req.id}" or ":deny ${req.id}" within ${Math.round(req.expires_in_ms / 1000)} s\n`);
  });
}

/** Operator commands on standard input: :estop, :release, :confirm <id>, :deny <id>, :status. */
export function runControl(os: LLMOS, line: string): string {
  const [cmd, ...rest] = line.slice(1).trim().split(/\s+/);
  switch (cmd) {
    case 'estop':
      void os.estop(rest.join(' ') || 'operator (stdin)', 'cli');
      return 'run-follower: e-stop engaged; ":release" to release it';
    case 'release':
      try {
        return os.releaseEstop('cli') ? 'run-follower: e-stop released' : 'run-follower: the e-stop was not engaged';
      } catch (e) {
        const err = e as LlmosError;
        return `run-follower: ${err.code}: ${err.message}`;
      }
    case 'confirm':
    case 'deny': {
      const id = rest[0] ?? '';
      const ok = os.gate.confirmations.answer(id, cmd === 'confirm');
      return ok ? `run-follower: ${id} ${cmd === 'confirm' ? 'approved' : 'refused'}` : `run-follower: ERR_USAGE: no confirmation "${id}" is waiting`;
    }
    case 'status': {
      const e = os.gate.estopStatus;
      const waiting = os.gate.confirmations.list().map((r) => r.id);
      const wd = os.watchdogPid;
      return `run-follower: e-stop ${e.engaged ? `engaged (${e.reason})` : 'released'}; waiting: ${waiting.join(', ') || 'none'}; ${wd !== undefined ? `watchdog pid ${wd}` : 'no watchdog process watching'}`;
    }
    default:
      return `run-follower: ERR_USAGE: unknown command ":${cmd ?? ''}" (try :estop, :release, :confirm <id>, :deny <id>, :status, :call <tool> name=value ...)`;
  }
}

/**
 * `:call <tool> name=value ...` on standard input: one direct tool call by the operator, through
 * the gate (source "operator"), answered on standard output like a goal.
 */
export async function operatorCall(os: LLMOS, text: string, json: boolean): Promise<{ ok: boolean; text: string }> {
  try {
    const call = parseCallLine(text);
    const r = await os.callTool(call, { source: 'operator' });
    return {
      ok: true,
      text: json
        ? JSON.stringify({ call: call.name, args: call.args, ok: true, value: r.value ?? null, adjusted: r.adjusted })
        : `call ${formatCallLine(call)}  ok${r.value !== undefined ? `  ${JSON.stringify(r.value)}` : ''}${r.adjusted.length ? `\n  adjusted: ${r.adjusted.join('; ')}` : ''}`,
    };
  } catch (e) {
    const err = toLlmosError(e);
    return {
      ok: false,
      text: json ? JSON.stringify({ call: text.trim().split(/\s+/)[0] ?? '', ok: false, error: { code: err.code, message: err.message } }) : `call ${text.trim()}  FAILED\n  error ${err.code}: ${err.message}`,
    };
  }
}

export function formatResult(r: ExecutionResult, json: boolean): string {
  if (json) return JSON.stringify(r);
  const status = r.explain ? (r.ok ? 'would run' : 'refused') : r.ok ? 'ok' : 'FAILED';
  const head = `${r.mode.padEnd(12)} ${r.score.toFixed(2)}  ${JSON.stringify(r.goal)}`;
  const lines = [`${head}  ${status}`];
  if (r.did_you_mean) lines.push(`  did you mean: ${JSON.stringify(r.did_you_mean)}`);
  if (r.goal_text && r.goal_text !== r.goal) lines.push(`  trace: ${JSON.stringify(r.goal_text)} (${r.trace})`);
  if (Object.keys(r.params).length) lines.push(`  params: ${Object.entries(r.params).map(([k, v]) => `${k}=${v}`).join(', ')}`);
  if (r.parts) for (const p of r.parts) lines.push(`  part: ${p.mode} ${p.score.toFixed(2)} ${JSON.stringify(p.goal)}${p.ok ? '' : ` (${p.error?.message ?? 'failed'})`}`);
  if (!r.explain && r.steps.length) lines.push(`  ${r.steps.length} step${r.steps.length > 1 ? 's' : ''}, ${(r.duration_ms / 1000).toFixed(2)} s, llm calls: ${r.llm_calls}`);
  for (const s of r.steps) if (s.adjusted?.length) lines.push(`  step ${s.index + 1} ${s.tool}: ${s.adjusted.join('; ')}`);
  if (r.error) lines.push(`  error ${r.error.code}: ${r.error.message}`);
  if (!r.ok && r.nearest?.length && !r.error?.message.includes('nearest')) {
    lines.push(`  nearest: ${r.nearest.map((n) => `${JSON.stringify(n.goal_text)} ${n.score.toFixed(2)}`).join(', ')}`);
  }
  return lines.join('\n');
}

export function usageError(e: unknown): { code: number; message: string } {
  if (isLlmosError(e)) return { code: 2, message: redactCredentials(`${e.code}: ${e.message}`) };
  return { code: 2, message: redactCredentials(`ERR_INTERNAL: ${e instanceof Error ? e.message : String(e)}`) };
}
