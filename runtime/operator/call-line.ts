/**
 * The operator's direct tool call as text: `servo_move actuator=arm angle=45` or
 * `servo_move {"actuator":"arm","angle":45}` (after the `:call` of standard input, or in jog and
 * teach). Values read as numbers and booleans where they look like them; double quotes keep
 * spaces (`line="GRIP 40"`). The gate still checks everything: this only turns text into a call.
 */
import { LlmosError } from '../../lib/errors.js';
import type { ToolCall } from '../../safety/gate.js';

const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?$/i;
const NAME = /^[a-z_][a-z0-9_]*$/i;

/** Words split at unquoted white space; a word with a quoted part keeps its value a string. */
function words(text: string): Array<{ text: string; quoted: boolean }> {
  const out: Array<{ text: string; quoted: boolean }> = [];
  let cur = '';
  let inQuotes = false;
  let quoted = false;
  let any = false;
  for (const ch of text) {
    if (ch === '"') { inQuotes = !inQuotes; quoted = true; any = true; continue; }
    if (!inQuotes && /\s/.test(ch)) {
      if (any) out.push({ text: cur, quoted });
      cur = ''; any = false; quoted = false;
      continue;
    }
    cur += ch; any = true;
  }
  if (inQuotes) throw new LlmosError('ERR_USAGE', `unbalanced double quote in "${text}"`);
  if (any) out.push({ text: cur, quoted });
  return out;
}

function valueOf(raw: string): unknown {
  if (NUMBER.test(raw)) return Number(raw);
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  return raw;
}

/** Parses `tool k=v ...` or `tool {json}` into a plain call; ERR_USAGE names what is wrong. */
export function parseCallLine(text: string): ToolCall {
  const trimmed = text.trim();
  const m = /^(\S+)\s*(.*)$/s.exec(trimmed);
  const name = m?.[1];
  if (!m || name === undefined || !NAME.test(name)) {
    throw new LlmosError('ERR_USAGE', `expected "<tool> name=value ..." (e.g. servo_move actuator=arm angle=45), got "${trimmed}"`);
  }
  const rest = (m[2] ?? '').trim();
  // Null prototype: argument names come from the operator and must never reach Object.prototype.
  const args: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (rest.startsWith('{')) {
    let parsed: unknown;
    try { parsed = JSON.parse(rest); } catch (e) {
      throw new LlmosError('ERR_USAGE', `${name}: the arguments are not valid JSON (${(e as Error).message})`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new LlmosError('ERR_USAGE', `${name}: the JSON arguments must be an object`);
    for (const [k, v] of Object.entries(parsed)) args[k] = v;
    return { name, args: { ...args } };
  }
  for (const { text: w, quoted } of words(rest)) {
    const eq = w.indexOf('=');
    const key = eq > 0 ? w.slice(0, eq) : '';
    if (!NAME.test(key)) throw new LlmosError('ERR_USAGE', `${name}: expected name=value, got "${w}"`);
    if (Object.hasOwn(args, key)) throw new LlmosError('ERR_USAGE', `${name}: "${key}" given twice`);
    args[key] = quoted ? w.slice(eq + 1) : valueOf(w.slice(eq + 1));
  }
  return { name, args: { ...args } };
}

/** The call as a line parseCallLine reads back (for echoing and teach's summary). */
export function formatCallLine(call: ToolCall): string {
  const parts = Object.entries(call.args).map(([k, v]) => {
    const s = typeof v === 'string' ? v : JSON.stringify(v);
    return `${k}=${typeof v === 'string' && (/\s|"/.test(s) || s === '' || NUMBER.test(s) || s === 'true' || s === 'false') ? JSON.stringify(s) : s}`;
  });
  return [call.name, ...parts].join(' ');
}
