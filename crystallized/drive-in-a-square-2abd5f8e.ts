// Crystallized from trace "drive in a square" (goal_signature 2abd5f8ea8a9d856, traces/drive-square.yaml)
// on 2026-11-24T04:55:08.208Z, after 0 runs with 100% success.
// Generated code: it acts only through the ToolApi it is passed, so every call passes the
// safety gate. To change the behaviour, edit the trace and crystallize it again.
import type { ToolApi } from '../runtime/crystallized-api.js';

export const signature = '2abd5f8ea8a9d856';
export const traceHash = 'cc5f57aa91e48ecb';
export const generator = 'llmos-codegen/2';

export async function driveInASquare(tools: ToolApi): Promise<void> {
  await tools.call('drive', { distance_m: 0.5 });
  await tools.call('turn', { degrees: 90 });
  await tools.call('drive', { distance_m: 0.5 });
  await tools.call('turn', { degrees: 90 });
  await tools.call('drive', { distance_m: 0.5 });
  await tools.call('turn', { degrees: 90 });
  await tools.call('drive', { distance_m: 0.5 });
  await tools.call('turn', { degrees: 90 });
}
