/**
 * run-agentic-follower: run-follower plus a local Ollama model. Learned behaviour still runs
 * first and without the LLM; a goal nothing learned fits is adapted (MIXED) or learned (LEARNER),
 * and a successful run becomes a new trace, so the same goal is free next time.
 */
import { AGENTIC_SPEC } from '../agentic-options.js';
import type { MainIo } from '../main-io.js';
import { runCommand } from '../runner.js';

const HELP = `run-agentic-follower: run learned robot behaviour, and ask a local Ollama model when nothing learned fits.

Usage:
  run-agentic-follower [options] "<goal>"     run one goal and exit
  run-agentic-follower [options] -            goals from standard input, one per line
  run-agentic-follower --serve [options]      keep running; goals from standard input (and MQTT)

All run-follower options (--config, --board, --traces, --json, --explain, --sim-log, --sim-time,
--mqtt, --device-id, ...), plus:
  --model NAME              Ollama model (default qwen2.5:1.5b; config ollama.model)
  --ollama-host URL         Ollama server (default http://127.0.0.1:11434)
  --llm-timeout-ms N        timeout of one model request
  --max-llm-calls N         LLM calls per goal (budget.llm_calls_per_goal)
  --max-tokens N            tokens per goal (budget.tokens_per_goal)
  --max-wall-ms N           wall time per goal (budget.wall_ms_per_goal)
  --max-iterations N        tool-loop iterations of a LEARNER run
  --learn-requires WHAT     tool_success | sensor_check | operator_confirm: proof needed to save a new trace
  --allow-llm-in-recovery   use the LLM even when the sentience layer is in RECOVERY mode

Modes: CRYSTALLIZED and FOLLOWER (0 LLM calls), MIXED (1 call: the nearest trace adapted),
LEARNER (a tool loop; a clean success is saved as a trace), ORCHESTRATOR (multi-step goals split
by wording, or by the model, each part dispatched on its own).
Stop words act at once and never reach a trace or the model: "stop", "halt", "freeze", "stop
moving", "stop everything" stop all motion (mode STOP); "emergency stop" / "e-stop" engage the
latched e-stop (mode ESTOP). Questions go to the model; statements and conditional goals ("if ...",
"when I say go") are refused with ERR_NOT_A_COMMAND.

Exit status: 0 every goal succeeded, 1 a goal failed or was refused, 2 bad usage or configuration.

Examples:
  run-agentic-follower --model qwen2.5:1.5b "spin the winch for two seconds"
  run-agentic-follower --json --explain "wave hello then beep"`;

/** The command, importable: the exit code once the runtime is shut down (scripts/run-agentic-follower.ts runs it as a process). */
export function main(argv: readonly string[], io: MainIo): Promise<number> {
  return runCommand({ ...AGENTIC_SPEC, help: HELP }, argv, io);
}
