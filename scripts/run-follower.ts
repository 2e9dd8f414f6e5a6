#!/usr/bin/env node
/**
 * run-follower: the deterministic edge runtime. Serves goals from learned traces (FOLLOWER,
 * CRYSTALLIZED, ORCHESTRATOR of those) and never calls an LLM.
 */
import { start } from './runner.js';

const HELP = `run-follower: run learned robot behaviour deterministically (no LLM).

Usage:
  run-follower [options] "<goal>"      run one goal and exit
  run-follower [options] -             read goals from standard input, one per line
  run-follower --serve [options]       keep running; goals from standard input (and MQTT)
  run-follower --check-board [--board FILE]

Options:
  --config FILE        YAML configuration (see schemas/config.schema.json)
  --preset NAME        development (default) or production
  --board FILE|sim     board profile; "sim" is the shipped simulated board
  --traces DIR         directory of trace files (default ./traces)
  --state DIR          state directory: audit log, caches (default ./state)
  --json               one JSON line per goal: goal, mode, trace, score, params, ok, llm_calls, error
  --explain            decide and print the decision; do not execute
  --sim-log FILE       record every simulated actuator write as a JSON line
  --sim-time MODE      real (default) or virtual: simulated motion completes instantly
  --sim-world FILE     the sim board's room: size, start pose, obstacles (schemas/sim-world.schema.json)
  --twins              run the board's real drivers against simulated twins of their hardware
                       (fake sysfs GPIO, mock serial devices), recording every write
  --mqtt URL           MQTT broker (overrides the config)
  --device-id ID       device id for MQTT topics (overrides the config)
  --log-level LEVEL    trace|debug|info|warn|error|silent
  --log-format FORMAT  text (default) or json (structured pino lines; the production preset's default)
  --check-board        validate the board profile and probe each device
  --standalone         never send goals to a running owner; refuse to start while one runs
  -h, --help           this help
  --version            print the version

One owner per state directory: while a runtime owns it (the service, or another run), goals and
operator commands go to it over its control socket (<state>/control.sock) with the same output and
exit codes, and this process opens no hardware. Otherwise this run owns the board until it ends;
runs that start together take turns (waiting up to LLMOS_OWNER_WAIT_MS, default 30000).

Exit status: 0 every goal succeeded, 1 a goal failed or was refused, 2 bad usage or configuration.
Signals: SIGINT/SIGTERM stop safely; SIGUSR1 engages the e-stop, SIGUSR2 releases it.

Only commands run: questions, statements and conditional goals ("if ...", "when I say go") are
refused with ERR_NOT_A_COMMAND. Stop words act at once and never match a trace: "stop", "halt",
"freeze", "stop the robot", "brake", "hold position", "wait, stop!" stop all motion (mode STOP);
"emergency stop", "e-stop", "hit the kill switch", "cut the power" engage the latched e-stop (mode
ESTOP). "stop the arm" replays a trace for it if the board has one, else stops all motion.
No goal text releases an e-stop.

Operator commands (lines on standard input with "-" or --serve):
  :estop [reason]      engage the latched e-stop        :release     release it
  :confirm <id>        approve a call waiting for confirmation (ids are printed on stderr)
  :deny <id>           refuse it                        :status      e-stop and pending confirmations

Examples:
  run-follower --board sim --sim-log /tmp/sim.jsonl "drive forward 2 meters"
  echo "wave hello" | run-follower --json -
  run-follower --explain "turn left 45 degrees then beep"
  run-follower --board boards/pi-rover.yaml --twins --check-board   # a real board's profile, no hardware`;

start({ name: 'run-follower', help: HELP, allowLlm: false });
