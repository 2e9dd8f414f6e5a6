/** wait: a pause that is a step of the plan (the run's motions stay alive). */
import { finiteArg } from './common.js';
import type { Tool } from './types.js';

export const tool: Tool = {
  name: 'wait', kind: 'meta', motion: false,
  summary: 'Wait a number of milliseconds; motions started by the run stay alive meanwhile.',
  schema: {
    type: 'object', required: ['ms'], additionalProperties: false,
    properties: { ms: { type: 'integer', minimum: 0, maximum: 60000 } },
  },
  units: { ms: { kind: 'time', fromSi: 1000 } },
  concepts: ['WAIT'],
  requires: { always: true },
  define() {
    return {
      description: 'Wait for ms milliseconds (at most 60000). Motions started by this run stay alive while it waits.',
      keywords: ['wait', 'pause', 'sleep', 'delay', 'seconds', 'hold'],
    };
  },
  async handler(args, env) {
    const ms = args['ms'] as number;
    const end = env.clock.now() + ms;
    // A wait is an explicit step of the plan: the run is alive, so its motions are refreshed.
    for (;;) {
      env.refresh();
      const left = end - env.clock.now();
      if (left <= 0) break;
      await env.clock.sleep(Math.min(left, 100), env.signal);
    }
    return { waited_ms: ms };
  },
  nominalMs(args) {
    return finiteArg(args, 'ms') ?? 0;
  },
};
