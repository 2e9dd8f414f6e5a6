/**
 * Agents as markdown: agents/<id>.md with YAML front matter (id, capabilities, constraints,
 * guidelines; schemas/agent.schema.json) and a markdown body. They become system prompts and
 * are reloaded when a file changes. A malformed agent file is reported and skipped.
 */
import { existsSync, readdirSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { LlmosError, toLlmosError } from '../../lib/errors.js';
import { assertValid } from '../../lib/validate.js';
import { parseYaml } from '../../lib/yaml-file.js';

export interface Agent {
  id: string;
  description?: string;
  capabilities: string[];
  constraints: string[];
  guidelines: string[];
  model?: string;
  body: string;
  file: string;
}

export function parseAgent(text: string, file: string): Agent {
  const m = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?([\s\S]*)$/.exec(text);
  if (!m) throw new LlmosError('ERR_CONFIG_INVALID', `${file}: an agent file starts with YAML front matter between --- lines`);
  const front = parseYaml(m[1] as string, file, 'ERR_CONFIG_INVALID') ?? {};
  assertValid('agent', front, file, 'ERR_CONFIG_INVALID');
  const f = front as Omit<Agent, 'body' | 'file'>;
  return {
    id: f.id, capabilities: f.capabilities ?? [], constraints: f.constraints ?? [], guidelines: f.guidelines ?? [],
    ...(f.description ? { description: f.description } : {}), ...(f.model ? { model: f.model } : {}),
    body: (m[2] ?? '').trim(), file,
  };
}

/** The system prompt an agent gives the model. */
export function agentPrompt(agent: Agent): string {
  const parts = [agent.body];
  if (agent.capabilities.length) parts.push(`Capabilities: ${agent.capabilities.join(', ')}.`);
  if (agent.constraints.length) parts.push(`Constraints:\n${agent.constraints.map((c) => `- ${c}`).join('\n')}`);
  if (agent.guidelines.length) parts.push(`Guidelines:\n${agent.guidelines.map((g) => `- ${g}`).join('\n')}`);
  return parts.filter(Boolean).join('\n\n');
}

export class AgentLibrary {
  private readonly dirs: string[];
  private agents = new Map<string, Agent>();
  private watchers: FSWatcher[] = [];
  private readonly log: (m: string) => void;

  /** `dirs` in order of precedence: the configured folder first, the shipped one last. */
  constructor(dirs: string[], log: (m: string) => void = () => undefined) {
    this.dirs = dirs;
    this.log = log;
  }

  load(): void {
    const agents = new Map<string, Agent>();
    for (const dir of [...this.dirs].reverse()) {
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir).filter((n) => n.endsWith('.md')).sort()) {
        const file = join(dir, name);
        try {
          const a = parseAgent(readFileSync(file, 'utf8'), file);
          agents.set(a.id, a);
        } catch (e) {
          this.log(`skipped agent: ${toLlmosError(e).message}`);
        }
      }
    }
    this.agents = agents;
  }

  get(id?: string): Agent | undefined {
    return id ? this.agents.get(id) : this.agents.get('robot-operator') ?? this.agents.values().next().value;
  }

  list(): Agent[] {
    return [...this.agents.values()];
  }

  /** Reload on change (debounced); the next prompt uses the new text. */
  watch(): void {
    for (const dir of this.dirs) {
      if (!existsSync(dir)) continue;
      let timer: NodeJS.Timeout | undefined;
      try {
        const w = watch(dir, () => {
          clearTimeout(timer);
          timer = setTimeout(() => this.load(), 100);
        });
        w.unref();
        this.watchers.push(w);
      } catch { /* no watching here: agents load at start */ }
    }
  }

  close(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }
}
