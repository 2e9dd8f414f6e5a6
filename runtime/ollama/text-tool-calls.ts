/**
 * Small models sometimes write tool calls as text instead of using native tool calling. This
 * reads the common shapes: JSON objects or arrays (bare or in ``` fences) such as
 * {"name": "drive", "arguments": {...}}, {"tool": "drive", "args": {...}} or {"function": {...}},
 * and the upstream `TOOL_CALL: drive(distance_m=1, speed=0.5)` line format. Anything else yields
 * nothing: no guessing.
 */
import type { LlmToolCall } from './types.js';

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function fromObject(v: unknown): LlmToolCall[] {
  if (Array.isArray(v)) return v.flatMap(fromObject);
  const o = asRecord(v);
  if (!o) return [];
  if (Array.isArray(o['tool_calls'])) return (o['tool_calls'] as unknown[]).flatMap(fromObject);
  const fn = asRecord(o['function']);
  if (fn && typeof fn['name'] === 'string') return fromObject(fn);
  const name = o['name'] ?? o['tool'] ?? o['tool_name'];
  if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) return [];
  let args: unknown = o['arguments'] ?? o['args'] ?? o['parameters'] ?? o['input'] ?? {};
  if (typeof args === 'string') { try { args = JSON.parse(args); } catch { return []; } }
  const record = asRecord(args);
  return record ? [{ name, arguments: record }] : [];
}

/** Balanced {...} / [...] segments of the text, outside of string literals. */
function jsonSegments(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i++) {
    const open = text[i];
    if (open !== '{' && open !== '[') continue;
    let depth = 0;
    let inString = false;
    for (let j = i; j < text.length; j++) {
      const c = text[j];
      if (inString) {
        if (c === '\\') j++;
        else if (c === '"') inString = false;
        continue;
      }
      if (c === '"') inString = true;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) { out.push(text.slice(i, j + 1)); i = j; break; }
      }
    }
  }
  return out;
}

function parseValue(raw: string): unknown {
  const v = raw.trim();
  if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  if (v === 'true' || v === 'false') return v === 'true';
  if (/^(['"]).*\1$/.test(v)) return v.slice(1, -1);
  try { return JSON.parse(v); } catch { return v; }
}

/** `TOOL_CALL: name(a=1, b="x")` or `name({"a": 1})`. */
function fromCallSyntax(text: string): LlmToolCall[] {
  const out: LlmToolCall[] = [];
  const re = /TOOL_CALL:\s*([A-Za-z][A-Za-z0-9_]*)\s*\(([\s\S]*?)\)\s*$/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const name = m[1] as string;
    const body = (m[2] ?? '').trim();
    if (body.startsWith('{')) {
      try { out.push({ name, arguments: JSON.parse(body) as Record<string, unknown> }); } catch { /* not a call */ }
      continue;
    }
    const args: Record<string, unknown> = {};
    for (const part of body.split(/,(?=(?:[^"']|"[^"]*"|'[^']*')*$)/)) {
      const kv = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*[=:]\s*([\s\S]*?)\s*$/.exec(part);
      if (kv) args[kv[1] as string] = parseValue(kv[2] as string);
    }
    out.push({ name, arguments: args });
  }
  return out;
}

export function parseTextToolCalls(text: string): LlmToolCall[] {
  if (!text) return [];
  const viaSyntax = fromCallSyntax(text);
  if (viaSyntax.length > 0) return viaSyntax;
  for (const segment of jsonSegments(text)) {
    try {
      const calls = fromObject(JSON.parse(segment));
      if (calls.length > 0) return calls;
    } catch { /* not JSON: keep looking */ }
  }
  return [];
}
