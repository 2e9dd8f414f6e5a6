/** One handler per command, dispatched from this table (cmd/<name>). */
import { call } from './call.js';
import { confirm } from './confirm.js';
import { estop } from './estop.js';
import { execute } from './execute.js';
import { state } from './state.js';
import { teach } from './teach.js';
import { traces } from './traces.js';
import type { CommandHandler } from './types.js';

export const COMMANDS: Readonly<Record<string, CommandHandler>> = { execute, estop, confirm, state, traces, call, teach };
export type { CommandContext, CommandHandler } from './types.js';
