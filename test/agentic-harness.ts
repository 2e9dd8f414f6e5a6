/**
 * Shared by the agentic suites: a local server speaking Ollama's wire format with scripted replies,
 * a sim robot pointed at it, and a scripted LEARNER run that nods the arm. Not a test file itself.
 */
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { ConfigInput } from '../runtime/config.js';
import { simRobot, tempDir, type SimRobot } from './helpers.js';
import { call, FakeOllama } from './ollama-server.js';

export let server: FakeOllama;
export let url = '';
/** Starts the scripted Ollama server before this file's tests and closes it after them. */
export function useOllama(): void {
  before(async () => { server = new FakeOllama(); url = await server.start(); });
  after(async () => { await server.close(); });
}

export function reset(): void {
  server.requests.length = 0;
  server.fallback = undefined;
  server.embedder = undefined;
  (server as unknown as { queue: unknown[] }).queue.length = 0;
}

export async function robot(overrides: ConfigInput = {}, shippedTraces = false): Promise<SimRobot> {
  reset();
  return simRobot({
    shippedTraces,
    overrides: { ...overrides, ollama: { host: url, timeout_ms: 2000, ...overrides.ollama }, paths: { agents: join(tempDir(), 'agents'), ...overrides.paths } },
  });
}

export const NOD = [
  { tool_calls: [call('search_tools', { query: 'move the arm servo' })] },
  { tool_calls: [call('servo_move', { actuator: 'arm', angle: 110 }), call('servo_move', { actuator: 'arm', angle: 70 })] },
  { tool_calls: [call('servo_move', { actuator: 'arm', angle: 90 })] },
  { content: 'The arm nodded.' },
];
