/** Bash: a shell command in the workspace, destructive commands refused (system tool, off by default). */
import { LlmosError } from '../../lib/errors.js';
import { systemBash } from '../system-tools.js';
import { requireSystem } from './common.js';
import type { Tool } from './types.js';

export const tool: Tool = {
  name: 'Bash', kind: 'system', motion: false,
  summary: 'Run a shell command in the workspace (destructive commands are blocked).',
  schema: {
    type: 'object', required: ['command'], additionalProperties: false,
    properties: { command: { type: 'string', minLength: 1, maxLength: 4096 }, timeout: { type: 'number', minimum: 0 } },
  },
  units: {},
  concepts: ['RUN'],
  requires: { option: 'systemTools' },
  define() {
    return { description: 'Run a shell command in the workspace (destructive commands are blocked).', keywords: ['run', 'shell', 'command', 'execute', 'bash', 'python', 'test'] };
  },
  async handler(args, env) {
    const result = await systemBash(requireSystem(env), args['command'] as string, args['timeout'] as number | undefined, env.signal);
    if (result.exit_code !== 0) {
      throw new LlmosError('ERR_STEP_FAILED', `Bash exited with ${result.exit_code}: ${result.stderr.trim().slice(0, 300)}`, { ...result });
    }
    return result;
  },
};
