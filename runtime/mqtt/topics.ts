/** The MQTT topic tree of one device (DESIGN.md "MQTT contract"): base/<device_id>/... */
export interface Topics {
  base: string;
  status: string;
  state: string;
  events: string;
  /** Subscription for every command: cmd/+ */
  commands: string;
  command(name: string): string;
  /** 3.1.1 replies: reply/<command id> */
  reply(id: string): string;
}

export function topicsFor(baseTopic: string, deviceId: string): Topics {
  const base = `${baseTopic.replace(/\/+$/, '')}/${deviceId}`;
  return {
    base,
    status: `${base}/status`,
    state: `${base}/state`,
    events: `${base}/events`,
    commands: `${base}/cmd/+`,
    command: (name) => `${base}/cmd/${name}`,
    reply: (id) => `${base}/reply/${id.replace(/[#+/]/g, '_')}`,
  };
}
