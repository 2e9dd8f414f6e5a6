/**
 * Home Assistant MQTT discovery, device-based: one retained config on
 * `<prefix>/device/<id>/config` carries the device, the origin, availability, the shared state
 * topic and every entity under `cmps` (the sentience values and mode as sensors, the e-stop
 * state and button, the board's battery and distance sensors). One message instead of one per
 * entity is what Home Assistant's documentation recommends for a device with several entities,
 * and it is one topic to clear. The single-component topics of earlier versions are cleared
 * first, so an upgraded device does not show every entity twice (same unique_ids).
 *
 * Published at connect and, after a random delay (Home Assistant's documentation asks for one,
 * so a restart of Home Assistant is not met by every device at once), when Home Assistant
 * announces itself (`<prefix>/status` = online). With discovery turned off, retained configs
 * found on this device's discovery topics are cleared (an empty retained payload removes the device).
 */
import type { SensorSpec } from '../../drivers/types.js';
import type { SentienceMode } from '../sentience/sentience.js';
import type { Topics } from './topics.js';

export interface DiscoveryMessage {
  topic: string;
  /** A config, or '' to clear a retained one. */
  payload: string;
}

/** Every value `state.mode` takes: the sentience modes, DISABLED without sentience. */
export const MODE_OPTIONS = ['BALANCED', 'CAUTIOUS', 'RECOVERY', 'AUTO_CREATIVE', 'AUTO_CONTAINED', 'DISABLED'] as const satisfies ReadonlyArray<SentienceMode | 'DISABLED'>;

/** The longest random delay before answering Home Assistant's birth message. */
export const ANNOUNCE_JITTER_MS = 2000;

export function announceDelay(random: () => number = Math.random): number {
  return Math.floor(random() * ANNOUNCE_JITTER_MS);
}

const SENTIENCE = ['safety', 'curiosity', 'energy', 'confidence'] as const;
/** Units Home Assistant accepts for a distance sensor. */
const DISTANCE_UNITS = new Set(['km', 'm', 'cm', 'mm', 'mi', 'yd', 'ft', 'in']);

function objectId(deviceId: string): string {
  return deviceId.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** The single-component topics earlier versions published (cleared on every announce). */
export function legacyTopics(prefix: string, deviceId: string): string[] {
  const id = objectId(deviceId);
  return [...SENTIENCE, 'mode'].map((v) => `${prefix}/sensor/${id}/${v}/config`)
    .concat(`${prefix}/binary_sensor/${id}/estop/config`, `${prefix}/button/${id}/estop/config`);
}

export function deviceTopic(prefix: string, deviceId: string): string {
  return `${prefix}/device/${objectId(deviceId)}/config`;
}

/** A board sensor as a Home Assistant sensor, when its role has a device class (battery, distance). */
function boardSensor(id: string, s: SensorSpec): Record<string, unknown> | undefined {
  const path = `value_json.sensors.${s.name}`;
  const value = (expr: string): string => `{{ ${expr} if value_json.sensors is defined and value_json.sensors.${s.name} is defined else none }}`;
  const base = { p: 'sensor', unique_id: `llmos_${id}_${s.name}`, state_class: 'measurement' };
  if (s.role === 'battery') {
    const name = 'Battery';
    // A charge given as 0..1 is shown as a percentage; a voltage stays a voltage.
    if (s.unit === 'fraction' || s.unit === undefined) return { ...base, name, device_class: 'battery', unit_of_measurement: '%', value_template: value(`(${path}.value * 100) | round(0)`) };
    if (s.unit === '%') return { ...base, name, device_class: 'battery', unit_of_measurement: '%', value_template: value(`${path}.value`) };
    if (s.unit === 'V') return { ...base, name: 'Battery voltage', device_class: 'voltage', unit_of_measurement: 'V', value_template: value(`${path}.value`) };
    return undefined;
  }
  if (s.role === 'distance' && DISTANCE_UNITS.has(s.unit ?? 'm')) {
    return { ...base, name: 'Distance', device_class: 'distance', unit_of_measurement: s.unit ?? 'm', value_template: value(`${path}.value`) };
  }
  return undefined;
}

export interface DiscoveryOptions {
  enabled: boolean;
  prefix: string;
  deviceId: string;
  topics: Topics;
  version: string;
  sensors: Iterable<SensorSpec>;
}

/** The device config (components keyed by a stable component id). */
export function deviceConfig(o: Omit<DiscoveryOptions, 'enabled'>): Record<string, unknown> {
  const id = objectId(o.deviceId);
  const cmps: Record<string, Record<string, unknown>> = {};
  for (const v of SENTIENCE) {
    cmps[v] = {
      p: 'sensor', name: `${v.charAt(0).toUpperCase()}${v.slice(1)}`, unique_id: `llmos_${id}_${v}`,
      value_template: `{{ value_json.sentience.values.${v} if value_json.sentience else none }}`, state_class: 'measurement', entity_category: 'diagnostic',
    };
  }
  cmps['mode'] = { p: 'sensor', name: 'Mode', unique_id: `llmos_${id}_mode`, value_template: '{{ value_json.mode }}', device_class: 'enum', options: [...MODE_OPTIONS] };
  cmps['estop_state'] = { p: 'binary_sensor', name: 'E-stop engaged', unique_id: `llmos_${id}_estop_state`, value_template: "{{ 'ON' if value_json.estop.engaged else 'OFF' }}", device_class: 'safety' };
  // QoS 1: a press must arrive (at least once is harmless: engaging is idempotent).
  cmps['estop'] = {
    p: 'button', name: 'Emergency stop', unique_id: `llmos_${id}_estop`, command_topic: o.topics.command('estop'),
    payload_press: JSON.stringify({ action: 'engage', reason: 'Home Assistant' }), qos: 1, icon: 'mdi:stop-circle',
  };
  for (const s of o.sensors) {
    const c = boardSensor(id, s);
    if (c && !Object.hasOwn(cmps, s.name)) cmps[s.name] = c;
  }
  return {
    device: { identifiers: [`llmos-${o.deviceId}`], name: `LLM OS ${o.deviceId}`, manufacturer: 'LLM OS', model: 'Edge Runtime', sw_version: o.version },
    origin: { name: 'llmos-edge-runtime', sw_version: o.version },
    availability_topic: o.topics.status, payload_available: 'online', payload_not_available: 'offline',
    state_topic: o.topics.state,
    cmps,
  };
}

/** What to publish (retained, QoS 1), in order: old topics cleared, then the config. */
export function discoveryMessages(o: Omit<DiscoveryOptions, 'enabled'>): DiscoveryMessage[] {
  const clear = legacyTopics(o.prefix, o.deviceId).map((topic) => ({ topic, payload: '' }));
  return [...clear, { topic: deviceTopic(o.prefix, o.deviceId), payload: JSON.stringify(deviceConfig(o)) }];
}

/**
 * With discovery off, every topic a config of this device may still be retained on: the device
 * subscribes to them and clears what it finds, so a device without Home Assistant publishes
 * nothing outside its own topics (a broker's ACL may not allow it to).
 */
export function discoveryTopics(prefix: string, deviceId: string): string[] {
  return [deviceTopic(prefix, deviceId), ...legacyTopics(prefix, deviceId)];
}
