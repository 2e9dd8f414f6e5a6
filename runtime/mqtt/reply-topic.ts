/**
 * Where a v5 response topic may point. The device publishes its reply there with its own
 * credentials, so a command must not aim it at something that acts on messages: any device's
 * command topics, this device's own topics (but its reply/...), the Home Assistant discovery
 * prefix, or the broker's $ topics. With mqtt.reply_prefix set, only topics under it are used.
 */
import type { MqttConfig } from '../config.js';
import { topicProblem, under, type Topics } from './topics.js';

export function responseTopicProblem(topic: string, cfg: Pick<MqttConfig, 'base_topic' | 'home_assistant' | 'reply_prefix'>, topics: Topics): string | undefined {
  const basic = topicProblem(topic);
  if (basic) return basic;
  if (cfg.reply_prefix !== undefined) {
    return under(topic, cfg.reply_prefix) ? undefined : `is not under mqtt.reply_prefix "${cfg.reply_prefix}"`;
  }
  if (under(topic, cfg.base_topic) && !under(topic, `${topics.base}/reply`)) {
    return `is under ${cfg.base_topic}/ (devices' own topics; replies may only go to ${topics.base}/reply/...)`;
  }
  if (topic.split('/').includes('cmd')) return 'looks like a command topic (a "cmd" level)';
  for (const prefix of new Set([cfg.home_assistant.prefix, 'homeassistant'])) {
    if (under(topic, prefix)) return `is under the discovery prefix "${prefix}"`;
  }
  return undefined;
}
