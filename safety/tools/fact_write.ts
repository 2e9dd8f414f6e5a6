/** fact_write: store (or with null, delete) a long-term fact (L4 memory). */
import { requireFacts } from './common.js';
import type { Tool } from './types.js';

export const tool: Tool = {
  name: 'fact_write', kind: 'meta', motion: false,
  summary: 'Store a long-term fact (L4 memory); value null deletes it.',
  schema: {
    type: 'object', required: ['key', 'value'], additionalProperties: false,
    properties: { key: { type: 'string', pattern: '^[a-z0-9][a-z0-9_.:-]{0,63}$' }, value: { type: ['string', 'number', 'boolean', 'null'], maxLength: 1024 } },
  },
  units: {},
  requires: { option: 'facts' },
  define() {
    return {
      description: 'Store a long-term fact (L4 memory) under a key (lower case, e.g. room.width_m); value null deletes it.',
      keywords: ['remember', 'store', 'fact', 'note', 'memory', 'save', 'forget'],
    };
  },
  async handler(args, env) {
    const key = args['key'] as string;
    requireFacts(env).set(key, args['value'] as string | number | boolean | null, env.clock.wallNow());
    return { key, stored: args['value'] !== null };
  },
};
