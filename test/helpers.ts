/** Shared test fixtures: a simulated robot in a temporary directory with a virtual clock. */
import { FakeSysfs } from '../drivers/gpio/twins/fake-sysfs.js';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../lib/clock.js';
import { packagePath } from '../lib/paths.js';
import type { SimFaults } from '../drivers/sim/sim.js';
import { loadConfig, type ConfigInput } from '../runtime/config.js';
import { LLMOS } from '../runtime/llmos.js';
import { silentLogger } from '../runtime/logger.js';

export interface SimLogLine {
  t: number;
  actuator: string;
  value: number | boolean | string;
  channel?: 'left' | 'right';
}

const created: string[] = [];
// Temporary directories go away with the test process, whatever the test did.
// (A safety watchdog left by a kill -9 test may still be appending its last writes: retry.)
process.once('exit', () => { for (const d of created) try { rmSync(d, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 }); } catch { /* left in tmp */ } });

export function tempDir(prefix = 'llmos-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

export function readSimLog(file: string): SimLogLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as SimLogLine);
}

export interface SimRobot {
  os: LLMOS;
  dir: string;
  simLog: string;
  clock: VirtualClock;
  writes(): SimLogLine[];
  cleanup(): Promise<void>;
}

export interface SimRobotOptions {
  overrides?: ConfigInput;
  /** Copy the shipped traces (default true). */
  shippedTraces?: boolean;
  /** Manual clock (tests advance time) instead of an auto-advancing one. */
  manualClock?: boolean;
  /** Real time (watchdog, network and link-loss tests); `clock` is then unused. */
  realTime?: boolean;
  simFaults?: SimFaults;
  board?: string;
}

export async function simRobot(options: SimRobotOptions = {}): Promise<SimRobot> {
  const dir = tempDir();
  const traces = join(dir, 'traces');
  if (options.shippedTraces !== false) cpSync(packagePath('traces'), traces, { recursive: true });
  else mkdirSync(traces, { recursive: true });
  const simLog = join(dir, 'sim.jsonl');
  const clock = new VirtualClock({ auto: !options.manualClock });
  const config = loadConfig({
    cwd: dir,
    overrides: {
      board: options.board ?? 'sim',
      ...options.overrides,
      paths: { traces, state: join(dir, 'state'), workspace: join(dir, 'workspace'), ...options.overrides?.paths },
      sim: { log: simLog, ...options.overrides?.sim },
      logging: { level: 'silent' },
    },
  });
  const os = new LLMOS({ config, ...(options.realTime ? {} : { clock }), logger: silentLogger, ...(options.simFaults ? { simFaults: options.simFaults } : {}) });
  await os.boot();
  return {
    os, dir, simLog, clock,
    writes: () => readSimLog(simLog),
    cleanup: async () => {
      let done = false;
      const closing = os.shutdown('test done').finally(() => { done = true; });
      // A manual clock must keep moving for controlled (category 1) stops to finish.
      for (let i = 0; i < 5000 && !done && !options.realTime; i++) await clock.advance(10);
      await closing;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A world file for the sim board (drivers/sim/sim-world.ts), e.g. a room big enough for long drives. */
export function simWorldFile(world: Record<string, unknown>): string {
  const file = join(tempDir('llmos-world-'), 'world.json');
  writeFileSync(file, JSON.stringify(world));
  return file;
}

export function shippedBoard(): string {
  return packagePath('boards', 'sim.yaml');
}

export interface CliRun { code: number | null; stdout: string; stderr: string }

/** Runs one of the bundled commands (dist/bin/<name>.js) to completion, with optional stdin. */
/** `detached`: its own session, with no controlling terminal (what a service or CI has). */
export function runBin(bin: string, args: readonly string[], options: { cwd?: string; input?: string; detached?: boolean } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [packagePath('dist', 'bin', bin), ...args], { cwd: options.cwd ?? tempDir(), env: { ...process.env, NODE_NO_WARNINGS: '1' }, detached: options.detached === true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (options.input !== undefined) child.stdin.end(options.input); else child.stdin.end();
  });
}

/**
 * A board with one LED and an e-stop button on a GPIO twin (a Pi 5 sysfs tree, pins 17 and 24):
 * `press(true)` holds the button down, as a separate process reading the tree would see it.
 */
export function estopPanel(): { fake: FakeSysfs; dir: string; board: string; press(active: boolean): void } {
  const fake = new FakeSysfs({ layout: 'pi5', pwmChips: 3 });
  const dir = tempDir();
  for (const n of [17, 24]) fake.exported('gpio', fake.gpioRoot, 571 + n);
  const board = join(dir, 'board.yaml');
  writeFileSync(board, `name: panel
drivers:
  gpio: { type: gpio, sysfs_root: ${fake.gpioRoot}, pwm_root: ${fake.pwmRoot}, backend: sysfs, pwm_chip: 2 }
actuators:
  led: { type: digital_out, pin: 17, safe_value: false }
estop: { driver: gpio, pin: 24, debounce_ms: 0 }
`);
  return { fake, dir, board, press: (active) => fake.setInput(24 + 571, active ? 1 : 0) };
}

export interface RunningFollower { child: ChildProcessWithoutNullStreams; log: string; out: () => string; dir: string }

/**
 * A real run-follower process on the sim board with a copy of the shipped traces, its sim log in
 * `log`, stdout and stderr collected in `out()`. Standard input is ended unless `stdinOpen`.
 */
export function startFollower(args: readonly string[], stdinOpen = true): RunningFollower {
  const dir = tempDir();
  const log = join(dir, 'sim.jsonl');
  cpSync(packagePath('traces'), join(dir, 'traces'), { recursive: true });
  const child = spawn(process.execPath, [packagePath('dist', 'bin', 'run-follower.js'), '--traces', join(dir, 'traces'), '--state', join(dir, 'state'), '--sim-log', log, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  if (!stdinOpen) child.stdin.end();
  return { child, log, out: () => out, dir };
}
