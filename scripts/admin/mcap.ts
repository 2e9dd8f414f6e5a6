/**
 * A run as an MCAP file that Foxglove opens: one JSON-schema channel per actuator (and per channel
 * of a multi-channel actuator, e.g. /actuators/base/left), one message per sim-log write at its
 * time, and the sim log's other lines (collisions, events) on /events.
 */
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { McapWriter, type IWritable } from '@mcap/core';
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

class FileWritable implements IWritable {
  private pos = 0n;
  private readonly handle: FileHandle;
  constructor(handle: FileHandle) { this.handle = handle; }
  async write(buffer: Uint8Array): Promise<void> {
    await this.handle.write(buffer);
    this.pos += BigInt(buffer.byteLength);
  }
  position(): bigint { return this.pos; }
}

const ns = (ms: number): bigint => BigInt(Math.round(ms * 1e6));

/** Writes `log` to `out` (whole or not at all: temp file + rename); returns what it holds. */
export async function writeMcap(log: SimLogContents, out: string): Promise<{ messages: number; channels: string[] }> {
  const tmp = `${out}.${process.pid}.tmp`;
  const handle = await open(tmp, 'wx');
  let done = false;
  try {
    const writer = new McapWriter({ writable: new FileWritable(handle) });
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
    await handle.sync();
    done = true;
    return { messages: items.length, channels: [...channels.keys()] };
  } finally {
    await handle.close();
    if (done) await rename(tmp, out);
    else await rm(tmp, { force: true });
  }
}
