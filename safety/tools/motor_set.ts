/** motor_set: run a motor at a speed, for a duration or while refreshed (deadman). */
import { actuatorArg, actuatorsOf, admit, bounded, checkRunTime, describeActuators, finiteArg, numArg, signOf } from './common.js';
import type { Tool } from './types.js';

export const tool: Tool = {
  name: 'motor_set', kind: 'actuation', motion: true,
  summary: 'Run a motor at a speed from -1 to 1, for a duration or, without one, only while refreshed (deadman).',
  schema: {
    type: 'object', required: ['actuator', 'speed'], additionalProperties: false,
    properties: { actuator: { type: 'string' }, speed: { type: 'number' }, duration_ms: { type: 'integer', minimum: 1 } },
  },
  units: { speed: { kind: 'fraction', fromSi: 1 }, duration_ms: { kind: 'time', fromSi: 1000 } },
  concepts: ['RUN'],
  requires: { actuators: ['motor'] },
  define(profile) {
    const motors = actuatorsOf(profile, 'motor');
    const maxRun = Math.max(...motors.map((m) => m.max_run_ms ?? 30000));
    return {
      description: `Run a motor at a speed from -1 to 1, for duration_ms if given (it stops after that). Without a duration the motion lasts only while refreshed (deadman). Motors: ${describeActuators(profile, 'motor')}.`,
      bounds: { actuator: { enum: motors.map((a) => a.name) }, speed: { minimum: -1, maximum: 1 }, duration_ms: { maximum: maxRun } },
      keywords: ['motor', 'spin', 'run', 'winch', 'reel', 'wind', 'hoist', 'pull', 'speed', 'seconds', ...motors.map((a) => a.name)],
    };
  },
  async handler(args, env) {
    const spec = actuatorArg(env, args, ['motor'], 'motor_set');
    const speed = bounded(spec, 'speed', args['speed'] as number, env) * env.speedScale;
    const duration = args['duration_ms'] as number | undefined;
    if (duration !== undefined) checkRunTime(spec, duration + env.bank.runningFor(spec));
    admit(env, spec, speed);
    await env.bank.command(spec, {
      owner: env.owner, abort: env, targets: [{ channel: undefined, value: speed }], rate: spec.max_rate,
      ...(duration === undefined ? { openEnded: true } : { holdMs: duration, rest: [{ channel: undefined, value: 0 }] }),
    });
    if (duration === undefined) return { actuator: spec.name, speed, deadman_ms: env.bank.deadmanMsOf(spec) };
    return { actuator: spec.name, speed, duration_ms: duration };
  },
  intent(args, _current, speedScale) {
    const speed = numArg(args, 'speed');
    return { moves: signOf(speed) !== 0, direction: signOf(speed), speed: Math.abs(speed) * speedScale };
  },
  nominalMs(args) {
    return finiteArg(args, 'duration_ms') ?? 0;
  },
  jog(spec, { dir, speed, stepMs }) {
    const v = Math.sign(dir) * speed;
    if (v < spec.range[0] || v > spec.range[1]) return undefined;
    return { actuator: spec.name, speed: v, duration_ms: Math.round(stepMs) };
  },
};
