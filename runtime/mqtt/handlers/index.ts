/** One handler per command, dispatched from this table (cmd/<name>). */
import { call } from './call.js';
import { confirm } from './confirm.js';
import { estop } from './estop.js';
import { execute } from './execute.js';
import { state } from './state.js';
import { teach } from './teach.js';
import { traces } from './traces.js';
import type { CommandHandler } from './types.js';

// A Map: the name is a topic level anyone may publish to (cmd/__proto__, cmd/constructor).
const COMMANDS: ReadonlyMap<string, CommandHandler> = new Map([['execute', execute], ['estop', estop], ['confirm', confirm], ['state', state], ['traces', traces], ['call', call], ['teach', teach]]);

export const COMMAND_NAMES: readonly string[] = [...COMMANDS.keys()];

export function commandHandler(name: string): CommandHandler | undefined {
  return COMMANDS.get(name);
}
export type { CommandContext, CommandHandler } from './types.js';
