/** sensor_read: read one of the board's sensors through its driver. */
import { LlmosError } from '../../lib/errors.js';
import { readSensor } from './common.js';
import type { Tool } from './types.js';

export const tool: Tool = {
  name: 'sensor_read', kind: 'sensing', motion: false,
  summary: 'Read a sensor.',
  schema: {
    type: 'object', required: ['sensor'], additionalProperties: false,
    properties: { sensor: { type: 'string' } },
  },
  units: {},
  concepts: ['READ', 'SENSOR', 'LEVEL'],
  requires: { sensors: true },
  define(profile) {
    const sensors = [...profile.sensors.values()];
    return {
      description: `Read a sensor. Sensors: ${sensors.map((s) => `${s.name}${s.unit ? ` (${s.unit})` : ''}${s.description ? `: ${s.description}` : ''}`).join('; ')}.`,
      bounds: { sensor: { enum: sensors.map((s) => s.name) } },
      keywords: ['read', 'sensor', 'measure', 'check', 'get', 'value', 'level', ...sensors.flatMap((s) => [s.name, s.role ?? '', s.unit ?? ''])].filter(Boolean),
    };
  },
  async handler(args, env) {
    const name = args['sensor'];
    const spec = typeof name === 'string' ? env.profile.sensors.get(name) : undefined;
    if (!spec) {
      throw new LlmosError('ERR_SENSOR_UNKNOWN', `sensor_read: unknown sensor ${JSON.stringify(name)}; this board has ${[...env.profile.sensors.keys()].join(', ') || 'no sensors'}`);
    }
    const reading = await readSensor(env, spec);
    return { sensor: spec.name, ...reading };
  },
};
