/**
 * A run as an MCAP file that Foxglove opens: one JSON-schema channel per actuator (and per channel
 * of a multi-channel actuator, e.g. /actuators/base/left), one message per sim-log write at its
 * time, and the sim log's other lines (collisions, events) on /events.
 */
import { McapWriter, type IWritable } from '@mcap/core';
import { writeFileAtomic } from '../../lib/atomic-file.js';
import { LlmosError } from '../../lib/errors.js';
import { seriesOf, type SimLogContents } from './sim-log.js';

const enc = new TextEncoder();

const WRITE_SCHEMA = {
  title: 'llmos.ActuatorWrite',
  type: 'object',
  properties: {
    t: { type: 'number', description: 'ms since the run started' },
    actuator: { type: 'string' },
    channel: { type: 'string' },
    value: { type: ['number', 'boolean', 'string'] },
  },
  required: ['t', 'actuator', 'value'],
};

const EVENT_SCHEMA = {
  title: 'llmos.Event',
  type: 'object',
  properties: { t: { type: 'number' }, kind: { type: 'string' } },
  required: ['t', 'kind'],
};

/** The MCAP bytes in memory (a run's log is small), written in one atomic step afterwards. */
class MemoryWritable implements IWritable {
  private readonly chunks: Uint8Array[] = [];
  private pos = 0n;
  async write(buffer: Uint8Array): Promise<void> {
    this.chunks.push(buffer.slice());
    this.pos += BigInt(buffer.byteLength);
  }
  position(): bigint { return this.pos; }
  bytes(): Uint8Array { return Buffer.concat(this.chunks); }
}

const ns = (ms: number): bigint => BigInt(Math.round(ms * 1e6));

/** Writes `log` to `out` (whole or not at all); returns what it holds. */
export async function writeMcap(log: SimLogContents, out: string): Promise<{ messages: number; channels: string[] }> {
  const sink = new MemoryWritable();
  const writer = new McapWriter({ writable: sink });
  await writer.start({ profile: '', library: 'llmos-edge-runtime' });
  const writeSchema = await writer.registerSchema({ name: WRITE_SCHEMA.title, encoding: 'jsonschema', data: enc.encode(JSON.stringify(WRITE_SCHEMA)) });
  const channels = new Map<string, number>();
  const channelFor = async (topic: string, schemaId: number): Promise<number> => {
    let id = channels.get(topic);
    if (id === undefined) {
      id = await writer.registerChannel({ topic, schemaId, messageEncoding: 'json', metadata: new Map() });
      channels.set(topic, id);
    }
    return id;
  };
  // One time-ordered stream: writes and events interleaved by time.
  type Item = { t: number; topic: string; schema: 'write' | 'event'; body: Record<string, unknown> };
  const items: Item[] = [
    ...log.writes.map((w): Item => ({ t: w.t, topic: `/actuators/${seriesOf(w)}`, schema: 'write', body: w })),
    ...log.other.map((o): Item => ({ t: o.t, topic: '/events', schema: 'event', body: o })),
  ].sort((a, b) => a.t - b.t);
  let eventSchema: number | undefined;
  let sequence = 0;
  for (const item of items) {
    let schemaId = writeSchema;
    if (item.schema === 'event') {
      eventSchema ??= await writer.registerSchema({ name: EVENT_SCHEMA.title, encoding: 'jsonschema', data: enc.encode(JSON.stringify(EVENT_SCHEMA)) });
      schemaId = eventSchema;
    }
    const channelId = await channelFor(item.topic, schemaId);
    await writer.addMessage({ channelId, sequence: sequence++, logTime: ns(item.t), publishTime: ns(item.t), data: enc.encode(JSON.stringify(item.body)) });
  }
  await writer.end();
  await writeOut(out, sink.bytes());
  return { messages: items.length, channels: [...channels.keys()] };
}

/** Writes a viewer's output file atomically; a path that cannot be written is the user's to fix (exit 2). */
export async function writeOut(out: string, data: string | Uint8Array): Promise<void> {
  try {
    await writeFileAtomic(out, data);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'EISDIR' ? 'is a directory' : code === 'ENOENT' ? 'its directory does not exist' : code === 'ENOTDIR' || code === 'EEXIST' ? 'a part of its path is not a directory' : code === 'EACCES' || code === 'EPERM' ? 'is not writable' : (e as Error).message;
    throw new LlmosError('ERR_USAGE', `--out ${out}: ${why}`);
  }
}
