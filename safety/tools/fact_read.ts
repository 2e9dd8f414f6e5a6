/** fact_read: long-term facts (L4 memory), one by key or all under a prefix. */
import { requireFacts } from './common.js';
import type { Tool } from './types.js';

export const tool: Tool = {
  name: 'fact_read', kind: 'meta', motion: false,
  summary: 'Read long-term facts (L4 memory): one by key, or all under a prefix.',
  schema: {
    type: 'object', additionalProperties: false,
    properties: { key: { type: 'string', pattern: '^[a-z0-9][a-z0-9_.:-]{0,63}$' }, prefix: { type: 'string', maxLength: 64 } },
  },
  units: {},
  requires: { option: 'facts' },
  define() {
    return {
      description: 'Read long-term facts (L4 memory): one by key, or every fact whose key starts with prefix.',
      keywords: ['remember', 'recall', 'fact', 'facts', 'memory', 'know', 'note', 'read'],
    };
  },
  async handler(args, env) {
    const facts = requireFacts(env);
    const key = args['key'] as string | undefined;
    if (key !== undefined) {
      const f = facts.get(key);
      return f ? { key, ...f } : { key, found: false };
    }
    return { facts: facts.list((args['prefix'] as string | undefined) ?? '').slice(0, 100) };
  },
};
