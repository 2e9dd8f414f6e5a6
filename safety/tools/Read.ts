/** Read: a text file inside the workspace (system tool, off unless the config enables it). */
import { systemRead } from '../system-tools.js';
import { requireSystem } from './common.js';
import type { Tool } from './types.js';

export const tool: Tool = {
  name: 'Read', kind: 'system', motion: false,
  summary: 'Read a text file inside the workspace.',
  schema: {
    type: 'object', required: ['file_path'], additionalProperties: false,
    properties: { file_path: { type: 'string', minLength: 1 } },
  },
  units: {},
  concepts: ['FILE', 'READ'],
  requires: { option: 'systemTools' },
  define() {
    return { description: 'Read a text file inside the workspace.', keywords: ['read', 'file', 'open', 'load'] };
  },
  async handler(args, env) {
    return { content: await systemRead(requireSystem(env), args['file_path'] as string) };
  },
};
