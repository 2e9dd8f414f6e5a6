/**
 * run-agentic-follower's own flags (Ollama, budgets), shared by the command and by an owner that
 * runs such a command sent to it over the control socket.
 */
import type { ConfigInput } from '../runtime/config.js';
import type { ParsedCli } from './cli.js';
import type { CommandSpec } from './runner.js';

const num = (values: ParsedCli['values'], k: string): number | undefined => {
  const v = values[k];
  if (typeof v !== 'string') return undefined;
  const n = Number(v);
  // Left as a string, the schema check reports the field precisely.
  return Number.isFinite(n) ? n : (v as unknown as number);
};

function overrides(values: ParsedCli['values']): ConfigInput {
  const o: ConfigInput = {};
  const ollama: NonNullable<ConfigInput['ollama']> = {};
  if (typeof values['model'] === 'string') ollama.model = values['model'];
  if (typeof values['ollama-host'] === 'string') ollama.host = values['ollama-host'];
  if (values['llm-timeout-ms'] !== undefined) ollama.timeout_ms = num(values, 'llm-timeout-ms') as number;
  if (values['max-iterations'] !== undefined) ollama.max_iterations = num(values, 'max-iterations') as number;
  if (typeof values['learn-requires'] === 'string') ollama.learn_requires = values['learn-requires'] as NonNullable<ConfigInput['ollama']>['learn_requires'] & string;
  if (Object.keys(ollama).length) o.ollama = ollama;
  const budget: NonNullable<ConfigInput['budget']> = {};
  if (values['max-llm-calls'] !== undefined) budget.llm_calls_per_goal = num(values, 'max-llm-calls') as number;
  if (values['max-tokens'] !== undefined) budget.tokens_per_goal = num(values, 'max-tokens') as number;
  if (values['max-wall-ms'] !== undefined) budget.wall_ms_per_goal = num(values, 'max-wall-ms') as number;
  if (Object.keys(budget).length) o.budget = budget;
  return o;
}

export const AGENTIC_SPEC: Omit<CommandSpec, 'help'> = {
  name: 'run-agentic-follower',
  allowLlm: true,
  extraOptions: {
    model: { type: 'string' }, 'ollama-host': { type: 'string' }, 'llm-timeout-ms': { type: 'string' },
    'max-llm-calls': { type: 'string' }, 'max-tokens': { type: 'string' }, 'max-wall-ms': { type: 'string' },
    'max-iterations': { type: 'string' }, 'learn-requires': { type: 'string' }, 'allow-llm-in-recovery': { type: 'boolean' },
  },
  extraOverrides: overrides,
  executeOptions: (values) => ({ allowLlmInRecovery: values['allow-llm-in-recovery'] === true }),
};
