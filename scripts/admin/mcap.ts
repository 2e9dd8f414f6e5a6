/**
 * A run as an MCAP file that Foxglove opens, on JSON-schema channels: one per actuator (and per
 * channel of a multi-channel actuator, e.g. /actuators/base/left) with one message per sim-log
 * write, one per sensor (/sensors/<name>, every reading), and /steps, /events and /sentience.
 * Messages are written in time order; the file is written whole or not at all.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { McapWriter, type IWritable } from '@mcap/core';
import { writeFileAtomic } from '../../lib/atomic-file.js';
import { LlmosError } from '../../lib/errors.js';
import { seriesOf, type SimLogContents } from './sim-log.js';

const enc = new TextEncoder();

const T = { type: 'number', description: 'ms since the run (or the sim log) started' };
export const SCHEMAS = {
  write: {
    title: 'llmos.ActuatorWrite', type: 'object',
    properties: { t: T, actuator: { type: 'string' }, channel: { type: 'string' }, value: { type: ['number', 'boolean', 'string'] }, sim_t: { type: 'number', description: 'ms since the sim log started' } },
    required: ['t', 'actuator', 'value'],
  },
  event: { title: 'llmos.Event', type: 'object', properties: { t: T, kind: { type: 'string' } }, required: ['t', 'kind'] },
  step: {
    title: 'llmos.Step', type: 'object',
    properties: { t: T, t_end: T, index: { type: 'integer' }, tool: { type: 'string' }, args: { type: 'object' }, ok: { type: 'boolean' }, code: { type: 'string', description: 'the error code when the step failed' } },
    required: ['t', 't_end', 'index', 'tool', 'ok'],
  },
  sentience: {
    title: 'llmos.Sentience', type: 'object',
    properties: { t: T, mode: { type: 'string' }, values: { type: 'object', additionalProperties: { type: 'number' } }, event: { type: 'string' } },
    required: ['t', 'mode', 'values'],
  },
  reading: {
    title: 'llmos.SensorReading', type: 'object',
    properties: { t: T, sensor: { type: 'string' }, value: { type: ['number', 'boolean', 'string'] }, unit: { type: 'string' } },
    required: ['t', 'sensor', 'value'],
  },
} as const;

export type SchemaKey = keyof typeof SCHEMAS;

export interface McapItem {
  /** Nanoseconds (the message's log time). */
  time: bigint;
  topic: string;
  schema: SchemaKey;
  body: Record<string, unknown>;
}

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

export const ns = (ms: number): bigint => BigInt(Math.round(ms * 1e6));

/** A sim log's writes and events, at their sim-log time. */
export function simLogItems(log: SimLogContents): McapItem[] {
  return [
    ...log.writes.map((w): McapItem => ({ time: ns(w.t), topic: `/actuators/${seriesOf(w)}`, schema: 'write', body: w })),
    ...log.other.map((o): McapItem => ({ time: ns(o.t), topic: '/events', schema: 'event', body: o })),
  ];
}

/** Writes the items (sorted by time, stable) to `out`, whole or not at all; returns what it holds. */
export async function writeMcap(input: McapItem[], out: string, metadata?: Record<string, string>): Promise<{ messages: number; channels: string[]; counts: Record<string, number> }> {
  const items = [...input].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  const sink = new MemoryWritable();
  const writer = new McapWriter({ writable: sink });
  await writer.start({ profile: '', library: 'llmos-edge-runtime' });
  if (metadata) await writer.addMetadata({ name: 'llmos.run', metadata: new Map(Object.entries(metadata)) });
  const schemas = new Map<SchemaKey, number>();
  const channels = new Map<string, number>();
  const counts: Record<string, number> = {};
  let sequence = 0;
  for (const item of items) {
    let schemaId = schemas.get(item.schema);
    if (schemaId === undefined) {
      const s = SCHEMAS[item.schema];
      schemaId = await writer.registerSchema({ name: s.title, encoding: 'jsonschema', data: enc.encode(JSON.stringify(s)) });
      schemas.set(item.schema, schemaId);
    }
    let channelId = channels.get(item.topic);
    if (channelId === undefined) {
      channelId = await writer.registerChannel({ topic: item.topic, schemaId, messageEncoding: 'json', metadata: new Map() });
      channels.set(item.topic, channelId);
    }
    counts[item.topic] = (counts[item.topic] ?? 0) + 1;
    await writer.addMessage({ channelId, sequence: sequence++, logTime: item.time, publishTime: item.time, data: enc.encode(JSON.stringify(item.body)) });
  }
  await writer.end();
  await writeOut(out, sink.bytes());
  return { messages: items.length, channels: [...channels.keys()], counts };
}

/** Writes a viewer's output file atomically; a path that cannot be written is the user's to fix (exit 2). */
export async function writeOut(out: string, data: string | Uint8Array): Promise<void> {
  // The atomic writer would create missing directories; an --out with a mistyped directory is the user's to fix.
  const dir = dirname(resolve(out));
  if (!existsSync(dir)) throw new LlmosError('ERR_USAGE', `--out ${out}: its directory does not exist (${dir})`);
  try {
    await writeFileAtomic(out, data);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'EISDIR' ? 'is a directory' : code === 'ENOENT' ? 'its directory does not exist' : code === 'ENOTDIR' || code === 'EEXIST' ? 'a part of its path is not a directory' : code === 'EACCES' || code === 'EPERM' ? 'is not writable' : (e as Error).message;
    throw new LlmosError('ERR_USAGE', `--out ${out}: ${why}`);
  }
}
