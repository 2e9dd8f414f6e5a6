/**
 * llmos: the admin command of a board. Traces, board check, runtime state, crystallization,
 * benchmarks and trace bundles; readable tables by default, --json for machines, progress on
 * standard error. Exit status: 0 ok, 1 failure, 2 bad usage or configuration.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { toLlmosError } from '../../lib/errors.js';
import { packagePath } from '../../lib/paths.js';
import { bundleCommand } from '../admin/bundle.js';
import { COMMON_HELP, exitCodeOf, usage, type Io } from '../admin/common.js';
import { crystallizeCommand } from '../crystallize.js';
import { processIo } from '../main-io.js';
import { boardCommand, stateCommand } from '../admin/state.js';
import { jogCommand } from '../admin/jog.js';
import { teachCommand } from '../admin/teach.js';
import { exportCommand, plotCommand } from '../admin/view.js';
import { tracesCommand } from '../admin/traces.js';

const HELP = `llmos: administer an LLM OS edge runtime on this board.

Usage:
  llmos traces list|show|validate|import|rm ...   learned traces (llmos traces --help)
  llmos board check                               validate the board profile, probe each device
  llmos state show                                sentience state, last e-stop, trace counts
  llmos state reset [--sentience|--stats|--estop] forget state on purpose (asks first)
  llmos crystallize [--dry-run] <signature|"goal">  turn a trace into crystallized/<name>.ts
  llmos crystallize --config FILE --trust FILE      pin a hand-written function (runs with full privileges)
  llmos bench [section...]                        performance figures as JSON (llmos bench --help)
  llmos bundle export|import ...                  copy traces between boards (llmos bundle --help)
  llmos jog [--teach "<goal>"]                    move the board from the keyboard (llmos jog --help)
  llmos teach "<goal>" [--yes] [-]                record a demonstration as a trace (llmos teach --help)
  llmos export mcap --sim-log FILE --out F.mcap   a run as an MCAP file for Foxglove
  llmos plot --sim-log FILE --out F.svg           actuator values against time (SVG)
  llmos <command> --help                          help for one command
  llmos --version

${COMMON_HELP}

Exit status: 0 ok, 1 failure (invalid file, missing device, refused import), 2 bad usage or configuration.

Examples:
  llmos traces list
  llmos traces import upstream/ping.yaml notes/wave.md
  llmos bundle export /tmp/arm.tar --only "wave hello"
  llmos state show --json`;

/**
 * Runs another of our entry points with the same arguments (one implementation per command), with
 * this command's standard streams: the process's own, or copied to `io` for a command run in-process.
 */
function delegate(script: string, argv: readonly string[], io: Io): Promise<number> {
  return new Promise((resolvePromise) => {
    const own = io === processIo;
    const child = spawn(process.execPath, [packagePath('dist', 'scripts', script), ...argv], { stdio: own ? 'inherit' : ['ignore', 'pipe', 'pipe'], env: io.env, cwd: io.cwd });
    child.stdout?.on('data', (d: Buffer) => io.out(d.toString()));
    child.stderr?.on('data', (d: Buffer) => io.err(d.toString()));
    child.on('error', (e) => { io.err(`llmos: ERR_INTERNAL: ${e.message}\n`); resolvePromise(1); });
    child.on('close', (code, signal) => resolvePromise(code ?? (signal ? 1 : 0)));
  });
}

const COMMANDS: Record<string, (argv: readonly string[], io: Io) => Promise<number>> = {
  traces: tracesCommand,
  board: boardCommand,
  state: stateCommand,
  bundle: bundleCommand,
  teach: teachCommand,
  jog: jogCommand,
  export: exportCommand,
  plot: plotCommand,
  crystallize: crystallizeCommand,
  bench: (argv, io) => delegate('bench.js', argv, io),
};

/** The command, importable: its exit code (scripts/llmos.ts runs it as a process). */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') { io.out(`${HELP}\n`); return cmd === undefined ? 2 : 0; }
    if (cmd === '--version') {
      io.out(`${(JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version}\n`);
      return 0;
    }
    const run = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
    if (!run) throw usage(cmd.startsWith('-') ? `unknown option '${cmd}' before the command (see --help)` : `unknown command "${cmd}" (traces, board, state, crystallize, bench, bundle, jog, teach, export, plot)`);
    return await run(rest, io);
  } catch (e) {
    const err = toLlmosError(e);
    io.err(`llmos: ${err.code}: ${err.message}\n`);
    return exitCodeOf(err);
  }
}

