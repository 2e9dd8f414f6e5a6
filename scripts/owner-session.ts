/**
 * What the owner does with a command sent over its control socket: the same flags, goals, output
 * (text or --json lines), operator commands and exit codes as the command run on its own, but
 * executed by this process, on its board, with its statistics, facts and LLM ledger.
 *
 * Flags that choose a different runtime (another board, traces directory, simulated clock, broker,
 * model ...) than the owner runs with are refused (ERR_OWNER_MISMATCH, exit 2) rather than
 * silently ignored; flags about output (--json, --explain) apply per command.
 */
import { resolve } from 'node:path';
import { LlmosError, isLlmosError, toLlmosError } from '../lib/errors.js';
import { loadConfig, type ConfigInput, type RuntimeConfig } from '../runtime/config.js';
import type { LLMOS } from '../runtime/llmos.js';
import type { SessionHandler, SessionIo } from '../runtime/owner/server.js';
import type { ExecutionResult } from '../runtime/result.js';
import { AGENTIC_SPEC } from './agentic-options.js';
import { CRYSTALLIZE_OPTIONS, crystallizeExitCode, crystallizeIn } from './crystallize.js';
import { COMMON_OPTIONS, formatResult, goalsFrom, operatorCall, overridesFrom, parseCli, runControl, usageError, type ParsedCli } from './cli.js';
import type { CommandSpec } from './runner.js';

export const SPECS: Record<string, Omit<CommandSpec, 'help'>> = {
  'run-follower': { name: 'run-follower', allowLlm: false },
  'run-agentic-follower': AGENTIC_SPEC,
};

/** Flags whose value must agree with the owner's configuration, and where that value lives. */
const IDENTITY: ReadonlyArray<[string, (c: RuntimeConfig) => unknown]> = [
  ['preset', (c) => c.preset], ['board', (c) => c.board], ['traces', (c) => c.paths.traces],
  ['sim-log', (c) => c.sim.log], ['sim-time', (c) => c.sim.time], ['sim-world', (c) => c.sim.world], ['twins', (c) => c.sim.twins === true],
  ['mqtt', (c) => c.mqtt.url], ['device-id', (c) => c.device_id],
  ['model', (c) => c.ollama.model], ['ollama-host', (c) => c.ollama.host], ['llm-timeout-ms', (c) => c.ollama.timeout_ms],
  ['max-iterations', (c) => c.ollama.max_iterations], ['learn-requires', (c) => c.ollama.learn_requires],
  ['max-llm-calls', (c) => c.budget.llm_calls_per_goal], ['max-tokens', (c) => c.budget.tokens_per_goal], ['max-wall-ms', (c) => c.budget.wall_ms_per_goal],
];

function merge(a: ConfigInput, b: ConfigInput): ConfigInput {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = prev && typeof prev === 'object' && v && typeof v === 'object' ? { ...(prev as object), ...(v as object) } : v;
  }
  return out as ConfigInput;
}

/** Throws ERR_OWNER_MISMATCH naming the first flag that asks for another runtime than this one. */
export function checkSameRuntime(owner: RuntimeConfig, values: ParsedCli['values'], spec: Omit<CommandSpec, 'help'>, cwd: string): void {
  const who = `the runtime that owns ${owner.paths.state} (pid ${process.pid})`;
  const hint = 'give the same configuration, stop that runtime, or use another --state';
  const file = typeof values['config'] === 'string' ? resolve(cwd, values['config']) : undefined;
  if (file !== undefined && file !== owner.source) {
    throw new LlmosError('ERR_OWNER_MISMATCH', `--config ${values['config'] as string}: ${who} runs with ${owner.source ? `--config ${owner.source}` : 'no configuration file'}; ${hint}`);
  }
  const given = IDENTITY.filter(([flag]) => values[flag] !== undefined);
  if (given.length === 0) return;
  const mine = loadConfig({ ...(file ? { file } : {}), overrides: merge(overridesFrom(values), spec.extraOverrides?.(values) ?? {}), cwd });
  for (const [flag, get] of given) {
    if (JSON.stringify(get(mine)) !== JSON.stringify(get(owner))) {
      throw new LlmosError('ERR_OWNER_MISMATCH', `--${flag} ${String(values[flag])}: ${who} runs with ${JSON.stringify(get(owner) ?? null)}; ${hint}`);
    }
  }
}

/** Lines of standard input as goalsFrom reads them: trimmed, blank lines and # comments skipped. */
async function* goalLines(lines: AsyncIterable<string>): AsyncGenerator<string> {
  for await (const line of lines) {
    const goal = line.trim();
    if (goal === '' || goal.startsWith('#')) continue;
    yield goal;
  }
}

export function sessionHandler(os: LLMOS): SessionHandler {
  return async (hello, io) => {
    if (hello.cmd === 'crystallize') return crystallizeSession(os, hello.argv, hello.cwd, io);
    if (hello.cmd === 'llmos jog') return (await import('./admin/jog-owner.js')).jogSession(os, hello.argv, hello.cwd, io);
    if (hello.cmd === 'llmos teach') return (await import('./admin/teach-owner.js')).teachSession(os, hello.argv, hello.cwd, io);
    const spec = Object.hasOwn(SPECS, hello.cmd) ? SPECS[hello.cmd] : undefined;
    if (!spec) { io.err(`llmos: ERR_USAGE: the owner runs run-follower and run-agentic-follower commands, not "${hello.cmd}"\n`); return 2; }
    const name = spec.name;
    let parsed: ParsedCli;
    try {
      parsed = parseCli(hello.argv, { ...COMMON_OPTIONS, ...spec.extraOptions });
      checkSameRuntime(os.config, parsed.values, spec, hello.cwd);
      if (parsed.goals.length === 0) throw new LlmosError('ERR_USAGE', 'no goal given: pass "<goal>", "-" for standard input, or --serve');
    } catch (e) {
      const u = usageError(e);
      io.err(`${name}: ${u.message}\n`);
      return u.code;
    }
    const { values, goals } = parsed;
    const json = values['json'] === true;
    const perGoal = { allowLlm: spec.allowLlm, ...spec.executeOptions?.(values) };
    const offConfirm = os.gate.confirmations.events.on('request', (req) => {
      io.err(`${name}: ${req.id}: ${req.tool} ${JSON.stringify(req.args)} needs confirmation (${req.reason}); answer ":confirm ${req.id}" or ":deny ${req.id}" within ${Math.round(req.expires_in_ms / 1000)} s\n`);
    });
    let failed = false;
    try {
      const source = goals.length === 1 && goals[0] === '-' ? goalLines(io.lines) : goalsFrom(goals);
      let printing: Promise<void> = Promise.resolve();
      for await (const line of source) {
        if (io.signal.aborted) break;
        if (line === ':call' || line.startsWith(':call ')) {
          const outcome = operatorCall(os, line.slice(5), json);
          printing = printing.then(async () => {
            const r = await outcome;
            if (!r.ok) failed = true;
            io.out(`${r.text}\n`);
          });
          continue;
        }
        if (line.startsWith(':')) { io.err(`${runControl(os, line)}\n`); continue; }
        const result: Promise<ExecutionResult> = os.execute(line, { source: 'cli', explain: values['explain'] === true, signal: io.signal, ...perGoal });
        printing = printing.then(async () => {
          const r = await result;
          if (!r.ok) failed = true;
          io.out(`${formatResult(r, json)}\n`);
        });
      }
      await printing;
    } catch (e) {
      const err = toLlmosError(e);
      io.err(`${name}: ${err.code}: ${err.message}\n`);
      return isLlmosError(e) && err.code === 'ERR_USAGE' ? 2 : 1;
    } finally {
      offConfirm();
    }
    if (io.signal.aborted) return 130;
    return failed ? 1 : 0;
  };
}

/** `llmos crystallize` sent to the owner: its registry and trace store see the new function at once. */
async function crystallizeSession(os: LLMOS, argv: string[], cwd: string, io: SessionIo): Promise<number> {
  try {
    const { values, goals } = parseCli(argv, CRYSTALLIZE_OPTIONS);
    checkSameRuntime(os.config, values, SPECS['run-follower'] as Omit<CommandSpec, 'help'>, cwd);
    if (typeof values['crystallized'] === 'string' && resolve(cwd, values['crystallized']) !== os.config.paths.crystallized) {
      throw new LlmosError('ERR_OWNER_MISMATCH', `--crystallized ${values['crystallized']}: the runtime that owns ${os.config.paths.state} (pid ${process.pid}) uses ${os.config.paths.crystallized}`);
    }
    await crystallizeIn(os, values, goals, io.out);
    return 0;
  } catch (e) {
    const err = toLlmosError(e);
    io.err(`crystallize: ${usageError(err).message}\n`);
    return crystallizeExitCode(err.code);
  }
}
