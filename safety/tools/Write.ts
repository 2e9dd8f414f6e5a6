/** Write: a text file inside the workspace (system tool, off unless the config enables it). */
import { systemWrite } from '../system-tools.js';
import { requireSystem } from './common.js';
import type { Tool } from './types.js';

export const tool: Tool = {
  name: 'Write', kind: 'system', motion: false,
  summary: 'Write a text file inside the workspace.',
  schema: {
    type: 'object', required: ['file_path', 'content'], additionalProperties: false,
    properties: { file_path: { type: 'string', minLength: 1 }, content: { type: 'string' } },
  },
  units: {},
  concepts: ['FILE', 'CREATE'],
  requires: { option: 'systemTools' },
  define() {
    return { description: 'Write a text file inside the workspace.', keywords: ['write', 'file', 'save', 'create', 'code'] };
  },
  async handler(args, env) {
    return systemWrite(requireSystem(env), args['file_path'] as string, args['content'] as string);
  },
};
