/**
 * Safe state on every way out of the process: normal exit, SIGINT, SIGTERM, an uncaught
 * exception, an unhandled rejection. Signals also drive the e-stop from a shell:
 * SIGUSR1 engages it, SIGUSR2 releases it (`kill -USR1 <pid>`).
 */
import type { LLMOS } from '../../runtime/llmos.js';

export interface GuardOptions {
  /** Called after the orderly shutdown, with the exit code. */
  exit?: (code: number) => void;
  log?: (msg: string) => void;
  /** Called when a stop begins (a signal or a crash), before the runtime is brought to rest. */
  onStop?: (reason: string, code: number) => void;
  /** Where signals, crashes and 'exit' come from (default: this process). */
  source?: NodeJS.EventEmitter;
}

export function installProcessGuards(os: LLMOS, options: GuardOptions = {}): () => void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const log = options.log ?? ((m: string) => process.stderr.write(`llmos: ${m}\n`));
  const source: NodeJS.EventEmitter = options.source ?? process;
  let stopping = false;

  const stop = (reason: string, code: number): void => {
    if (stopping) {
      // A second fault or signal during the stop never leaves it halfway: the synchronous
      // failsafe writes finish first. A crash lets the orderly stop go on (bounded by its timer);
      // a second signal (the user insists) exits once the outputs are written safe.
      const wrote = os.failsafeSync(`${reason} during the stop`);
      if (reason === 'crash') {
        log(`crash during the stop: ${wrote} failsafe writes done; the stop goes on`);
        return;
      }
      log(`${reason} again: ${wrote} failsafe writes done; exiting now`);
      exit(code);
      return;
    }
    stopping = true;
    options.onStop?.(reason, code);
    log(`${reason}: bringing actuators to safe values`);
    const timer = setTimeout(() => {
      const wrote = os.failsafeSync('shutdown took too long');
      log(`shutdown took too long; ${wrote} failsafe writes done; exiting`);
      exit(code);
    }, 3000);
    timer.unref();
    os.shutdown(reason).then(() => exit(code), (e: unknown) => { log(`shutdown failed: ${String(e)}`); os.failsafeSync('shutdown failed'); exit(code); });
  };

  const onSigint = (): void => stop('SIGINT', 130);
  const onSigterm = (): void => stop('SIGTERM', 143);
  const onUsr1 = (): void => { void os.estop('SIGUSR1', 'signal').then(() => log('e-stop engaged (SIGUSR1); send SIGUSR2 to release')); };
  const onUsr2 = (): void => {
    try {
      if (os.releaseEstop('signal')) log('e-stop released (SIGUSR2)');
    } catch (e) {
      log(`e-stop not released (SIGUSR2): ${e instanceof Error ? `${(e as { code?: string }).code ?? ''} ${e.message}` : String(e)}`);
    }
  };
  const onCrash = (e: unknown): void => {
    log(`crash: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    stop('crash', 70);
  };
  const onExit = (): void => os.flushSync();

  const handlers: Array<[string, (...args: unknown[]) => void]> = [
    ['SIGINT', onSigint], ['SIGTERM', onSigterm], ['SIGUSR1', onUsr1], ['SIGUSR2', onUsr2],
    ['uncaughtException', onCrash], ['unhandledRejection', onCrash], ['exit', onExit],
  ];
  for (const [event, f] of handlers) source.on(event, f);
  return () => { for (const [event, f] of handlers) source.off(event, f); };
}
