/**
 * The command-line runner shared by run-follower (deterministic, no LLM) and
 * run-agentic-follower (adds MIXED and LEARNER through a local Ollama model).
 */
import { readFileSync } from 'node:fs';
import { isLlmosError, toLlmosError } from '../lib/errors.js';
import { packagePath } from '../lib/paths.js';
import { redactUrl } from '../lib/redact.js';
import { assertReplaceable, assertUsableDir, assertUsableFile } from '../lib/usable-path.js';
import { loadConfig, type ConfigInput } from '../runtime/config.js';
import { LLMOS } from '../runtime/llmos.js';
import { checkBoard, formatBoardCheck } from './check-board.js';
import { showProgress } from './progress.js';
import { loggerFor, type MainIo } from './main-io.js';
import { watchStdout } from './stdout-closed.js';
import type { MqttBridge } from '../runtime/mqtt/bridge.js';
import type { SdNotify } from './lib/sd-notify.js';
import type { OwnerLock } from '../runtime/owner/lock.js';
import { ownOrForward, serveControl } from './owner-start.js';
import { announceConfirmations, COMMON_OPTIONS, formatResult, goalsFrom, operatorCall, overridesFrom, parseCli, runControl, usageError, type OptionSpec, type ParsedCli } from './cli.js';

export interface CommandSpec {
  name: string;
  help: string;
  /** MIXED / LEARNER allowed (run-agentic-follower). */
  allowLlm: boolean;
  extraOptions?: OptionSpec;
  /** Flags of this command that map onto configuration fields. */
  extraOverrides?: (values: ParsedCli['values']) => ConfigInput;
  /** Flags of this command that are per-goal execute options. */
  executeOptions?: (values: ParsedCli['values']) => { allowLlmInRecovery?: boolean };
}

/**
 * Runs the command to its end: the exit code after an orderly shutdown (motion stopped first).
 * Everything outside comes through `io`: streams, directory, environment, signals.
 */
export async function runCommand(spec: CommandSpec, argv: readonly string[], io: MainIo): Promise<number> {
  const name = spec.name;
  let parsed: ParsedCli;
  try {
    parsed = parseCli(argv, { ...COMMON_OPTIONS, ...spec.extraOptions });
  } catch (e) {
    const u = usageError(e);
    io.err(`${name}: ${u.message}\n`);
    return u.code;
  }
  const { values, goals } = parsed;
  if (values['help']) { io.out(`${spec.help}\n`); return 0; }
  if (values['version']) {
    const pkg = JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string };
    io.out(`${pkg.version}\n`);
    return 0;
  }
  const json = values['json'] === true;
  let os: LLMOS;
  let sd: SdNotify | undefined;
  let lock: OwnerLock | undefined;
  try {
    const overrides = mergeOverrides(overridesFrom(values), spec.extraOverrides?.(values) ?? {});
    const config = loadConfig({ ...(typeof values['config'] === 'string' ? { file: values['config'] } : {}), overrides, cwd: io.cwd });
    // Checked before anything is made in it (the owner lock, caches): /proc or a file is refused.
    assertUsableDir(config.paths.state, 'state directory (--state, paths.state)');
    if (values['check-board']) {
      // Probing opens the devices: not while a runtime owns them.
      const probe = await ownOrForward(name, argv, config.paths.state, 'standalone', io);
      if ('lock' in probe) lock = probe.lock;
      const report = await checkBoard(config.board, { twins: config.sim.twins === true });
      io.out(`${json ? JSON.stringify(report) : formatBoardCheck(report)}\n`);
      lock?.release();
      // A profile that does not load is a configuration error (2); devices not found are 1.
      return report.error ? 2 : report.ok ? 0 : 1;
    }
    if (config.logging.sessions) assertUsableDir(config.paths.logs, 'log directory (paths.logs)');
    if (config.sim.log) {
      assertUsableFile(config.sim.log, 'sim log (--sim-log, sim.log)');
      assertReplaceable(config.sim.log, 'sim log (--sim-log, sim.log)', 'sim log');
    }
    if (goals.length === 0 && !values['serve']) throw toLlmosError(new Error('no goal given: pass "<goal>", "-" for standard input, or --serve'), 'ERR_USAGE');
    // One owner per state directory: send the goals to it, or become it before opening hardware.
    const owner = await ownOrForward(name, argv, config.paths.state, values['serve'] ? 'serve' : values['standalone'] ? 'standalone' : 'auto', io);
    if ('code' in owner) return owner.code;
    lock = owner.lock;
    // Under systemd (deploy/llmos.service); loaded only when NOTIFY_SOCKET is set.
    sd = io.env['NOTIFY_SOCKET'] ? (await import('./lib/sd-notify.js')).SdNotify.fromEnv(io.env, { log: (m) => io.err(`llmos: ${m}\n`) }) : undefined;
    const notifier = sd;
    os = new LLMOS({ config, ...loggerFor(io, config), ...(notifier ? { onWatchdogBeat: () => notifier.pet() } : {}) });
    await os.boot();
  } catch (e) {
    lock?.release();
    const u = usageError(e);
    io.err(`${name}: ${u.message}\n`);
    return u.code;
  }

  // A signal's stop: no more input, and once the runtime is at rest its exit code (a process
  // entry exits the process instead).
  let signalled: number | undefined;
  let stopped: Promise<void> = Promise.resolve();
  let atRest = (): void => undefined;
  const unguard = io.guard(os, {
    stopping: (code) => { signalled = code; stopped = new Promise((r) => { atRest = r; }); io.stdin.destroy?.(); },
    exit: () => atRest(),
  });
  // Other commands send their goals here while this process owns the board.
  const oneGoal = !values['serve'] && !(goals.length === 1 && goals[0] === '-');
  const control = serveControl(os, lock as OwnerLock, `${name}${values['serve'] ? ' --serve' : ''}`, oneGoal ? 250 : 0);
  if (sd) {
    const notifier = sd;
    // First hook: systemd stops expecting pings before the slower steps of a shutdown.
    os.onShutdown(() => notifier.stopping('stopping: bringing actuators to safe values'));
    // No heartbeat without the safety watchdog (disabled, virtual time): ping from a timer instead.
    if (!os.watchdogReady) notifier.startTimer();
  }
  let failed = false;
  let bridge: MqttBridge | undefined;
  if (values['serve'] && os.config.mqtt.url) {
    try {
      const { MqttBridge: Bridge } = await import('../runtime/mqtt/bridge.js');
      bridge = new Bridge({ os, allowLlm: spec.allowLlm, log: os.log });
      const b = bridge;
      os.onShutdown(() => b.stop());
      await bridge.start();
      io.err(`${name}: serving ${bridge.topics.base}/cmd/+ on ${redactUrl(os.config.mqtt.url)}\n`);
    } catch (e) {
      const u = usageError(e);
      io.err(`${name}: ${u.message}\n`);
      await os.shutdown('error');
      unguard();
      lock?.release();
      return u.code;
    }
  } else if (values['serve']) {
    io.err(`${name}: no MQTT broker configured (mqtt.url or --mqtt URL): goals from standard input only\n`);
  }
  // A service with no input at all (systemd's StandardInput=null) stays up until a signal, so
  // the unit stays active and keeps its e-stop signals; otherwise the end of input ends --serve.
  const idle = values['serve'] === true && !bridge && io.stdinIsNull();
  if (idle) io.err(`${name}: standard input is /dev/null: idle until stopped\n`);
  await sd?.ready(`${os.traceReport.loaded} traces; ${bridge ? `serving ${bridge.topics.base}/cmd/+` : idle ? 'idle (no MQTT broker configured)' : 'reading goals from standard input'}`);
  const perGoal = { allowLlm: spec.allowLlm, ...spec.executeOptions?.(values) };
  // The reader of our output went away: stop motion and goals, then end quietly.
  const stdout = watchStdout(() => {
    // stopMotion first: it also discards the goals still queued, so none starts after this.
    void os.stopMotion('standard output closed').catch(() => undefined).finally(() => os.shutdown('standard output closed'));
    io.stdin.destroy?.();
  }, io.stdout, io.err);
  // Undone on every way out, so nothing of this run stays attached to the io (many runs share a process in tests).
  const offs: Array<() => void> = [() => stdout.off()];
  try {
    // io.stdin only when read: the process's stdin is created on first access (a few ms of every start).
    const source = values['serve'] || (goals.length === 1 && goals[0] === '-') ? goalsFrom(['-'], io.stdin) : goalsFrom(goals);
    offs.push(announceConfirmations(os, io.err));
    offs.push(os.events.on('suggestion', (s) => io.err(`${name}: suggestion for "${s.goal}": ${s.text}\n`)));
    if (!values['serve']) offs.push(showProgress(os, io.stderr));
    // Lines are read while goals run, so ":confirm <id>" can answer a goal that is waiting.
    let printing: Promise<void> = Promise.resolve();
    for await (const line of source) {
      if (stdout.closed || signalled !== undefined) break;
      if (line === ':call' || line.startsWith(':call ')) {
        const outcome = operatorCall(os, line.slice(5), json);
        printing = printing.then(async () => {
          const r = await outcome;
          if (stdout.closed) return;
          if (!r.ok) failed = true;
          stdout.write(`${r.text}\n`);
        });
        continue;
      }
      if (line.startsWith(':')) {
        io.err(`${runControl(os, line)}\n`);
        continue;
      }
      const result = os.execute(line, { source: 'cli', explain: values['explain'] === true, ...perGoal });
      printing = printing.then(async () => {
        const r = await result;
        // Goals cut short because no one reads the answer are not failures of this run.
        if (stdout.closed) return;
        if (!r.ok) failed = true;
        stdout.write(`${formatResult(r, json)}\n`);
      });
    }
    await printing;
    // Goals other commands sent here finish before this run gives up the board.
    if (!values['serve']) await control.close();
    // A service keeps serving MQTT after its standard input closes, until a signal stops it.
    if (bridge) await os.closedPromise;
    else if (idle) {
      // Nothing else holds the event loop open here.
      const hold = setInterval(() => undefined, 1 << 30);
      await os.closedPromise;
      clearInterval(hold);
    }
    // Confirmations, suggestions and progress end here; the stdout watch at the very end.
    for (const off of offs.splice(1)) off();
  } catch (e) {
    const err = toLlmosError(e);
    io.err(`${name}: ${err.code}: ${err.message}\n`);
    await os.shutdown('error');
    await stopped;
    for (const off of offs.splice(0)) off();
    unguard();
    lock?.release();
    return isLlmosError(e) && err.code === 'ERR_USAGE' ? 2 : 1;
  }
  await os.shutdown('done');
  // A signal's stop started first: shutdown('done') did not wait for it.
  await stopped;
  for (const off of offs.splice(0)) off();
  unguard();
  lock?.release();
  return signalled ?? (failed ? 1 : 0);
}

function mergeOverrides(a: ConfigInput, b: ConfigInput): ConfigInput {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = prev && typeof prev === 'object' && v && typeof v === 'object' ? { ...(prev as object), ...(v as object) } : v;
  }
  return out as ConfigInput;
}
