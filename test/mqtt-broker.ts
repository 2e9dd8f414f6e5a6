/**
 * A real MQTT broker for the tests: Mosquitto on a free port when the binary is installed (it
 * speaks MQTT v5), otherwise an in-process aedes (3.1.1 only; v5 cases are skipped with a
 * reason, and fail instead when LLMOS_CI=1, where Mosquitto must be present).
 */
import type { TestContext } from 'node:test';
import type { TestBroker } from '../scripts/local-broker.js';

export { freePort, mosquittoPath, startAedes, startBroker, startMosquitto, type TestBroker } from '../scripts/local-broker.js';

/** Skips a v5-only case on aedes, with the reason; in CI (LLMOS_CI=1) that is a failure. */
export function needsV5(t: TestContext, broker: TestBroker): boolean {
  if (broker.v5) return true;
  const reason = 'aedes speaks MQTT 3.1.1 only (install mosquitto for the v5 cases)';
  if (process.env['LLMOS_CI'] === '1') throw new Error(`v5 case skipped in CI: ${reason}`);
  t.skip(reason);
  return false;
}
