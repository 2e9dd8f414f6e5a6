/**
 * Home Assistant MQTT discovery: the sentience values and mode as sensors, the e-stop as a
 * button, availability from the status topic. Published retained at connect, and again whenever
 * Home Assistant announces itself (`<prefix>/status` = online).
 */
import type { Topics } from './topics.js';

export interface DiscoveryMessage {
  topic: string;
  payload: Record<string, unknown>;
}

export function discoveryMessages(prefix: string, deviceId: string, topics: Topics, version: string): DiscoveryMessage[] {
  const device = { identifiers: [`llmos-${deviceId}`], name: `LLM OS ${deviceId}`, manufacturer: 'LLM OS', model: 'Edge Runtime', sw_version: version };
  const common = { availability_topic: topics.status, payload_available: 'online', payload_not_available: 'offline', device };
  const id = deviceId.replace(/[^A-Za-z0-9_-]/g, '_');
  const sensors = ['safety', 'curiosity', 'energy', 'confidence'].map((v) => ({
    topic: `${prefix}/sensor/${id}/${v}/config`,
    payload: {
      ...common, name: `${v.charAt(0).toUpperCase()}${v.slice(1)}`, unique_id: `llmos_${id}_${v}`, state_topic: topics.state,
      value_template: `{{ value_json.sentience.values.${v} if value_json.sentience else none }}`, state_class: 'measurement',
    },
  }));
  return [
    ...sensors,
    {
      topic: `${prefix}/sensor/${id}/mode/config`,
      payload: { ...common, name: 'Mode', unique_id: `llmos_${id}_mode`, state_topic: topics.state, value_template: '{{ value_json.mode }}' },
    },
    {
      topic: `${prefix}/binary_sensor/${id}/estop/config`,
      payload: { ...common, name: 'E-stop engaged', unique_id: `llmos_${id}_estop_state`, state_topic: topics.state, value_template: "{{ 'ON' if value_json.estop.engaged else 'OFF' }}", device_class: 'safety' },
    },
    {
      topic: `${prefix}/button/${id}/estop/config`,
      payload: { ...common, name: 'Emergency stop', unique_id: `llmos_${id}_estop`, command_topic: topics.command('estop'), payload_press: JSON.stringify({ action: 'engage', reason: 'Home Assistant' }), icon: 'mdi:stop-circle' },
    },
  ];
}
