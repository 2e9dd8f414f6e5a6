/** search_tools: the few tools of this board that fit a task (the LEARNER starts with only this). */
import { searchTools } from './search.js';
import type { Tool } from './types.js';

export const tool: Tool = {
  name: 'search_tools', kind: 'meta', motion: false,
  summary: 'Find the tools relevant to a task (names, descriptions, argument schemas).',
  schema: {
    type: 'object', required: ['query'], additionalProperties: false,
    properties: { query: { type: 'string', maxLength: 200 }, limit: { type: 'integer', minimum: 1, maximum: 20 } },
  },
  units: {},
  requires: { always: true },
  define() {
    return {
      description: 'Find the tools relevant to a task; returns their names, descriptions and argument schemas.',
      keywords: ['search', 'find', 'tools', 'help'],
    };
  },
  async handler(args, env) {
    const found = searchTools(env.catalog, args['query'] as string, (args['limit'] as number | undefined) ?? 3);
    return { tools: found.map((t) => ({ name: t.name, description: t.description, parameters: t.parameters })) };
  },
};
