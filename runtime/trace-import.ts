/**
 * Reading trace files from outside the traces directory (`llmos traces import`, bundles): core
 * YAML, the upstream edge format, JSON, and markdown traces. Every input is checked with the
 * trace schema before anything is written; errors name the file and the failing field.
 *
 * Markdown trace: YAML front matter between `---` lines holding a core trace (goal_text, ...) or
 * an edge trace (trace_id, ...), then free prose. The tool calls may sit in the front matter or
 * in one fenced ```yaml block in the body: either a list (core `tool_calls`, or edge `steps` when
 * the front matter has a `trace_id`) or a mapping with `tool_calls:` / `steps:`.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { LlmosError } from '../lib/errors.js';
import { parseYaml } from '../lib/yaml-file.js';
import { traceHash } from './crystallize/codegen.js';
import { parseTraceDocument } from './trace-store.js';
import type { Trace, TraceRecord } from './trace-types.js';

export type ImportFormat = 'core' | 'edge' | 'markdown';

export interface ParsedImport {
  /** The input file as given. */
  source: string;
  format: ImportFormat;
  /** The core trace to write (validated). */
  trace: Trace;
}

const FRONT_RE = /^\uFEFF?---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)([\s\S]*)$/;
const FENCE_RE = /^```[ \t]*ya?ml[^\n]*\n([\s\S]*?)^```[ \t]*$/gim;

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The trace document of a markdown file: front matter plus the optional ```yaml block. */
export function parseMarkdownTrace(text: string, file: string): Record<string, unknown> {
  const m = FRONT_RE.exec(text);
  if (!m) throw new LlmosError('ERR_TRACE_INVALID', `${file}: a markdown trace starts with YAML front matter between --- lines`);
  const front = parseYaml(m[1] as string, `${file} (front matter)`, 'ERR_TRACE_INVALID');
  if (!isMap(front)) throw new LlmosError('ERR_TRACE_INVALID', `${file}: the front matter must be a YAML mapping`);
  const blocks = [...(m[2] as string).matchAll(FENCE_RE)];
  if (blocks.length > 1) throw new LlmosError('ERR_TRACE_INVALID', `${file}: found ${blocks.length} \`\`\`yaml blocks; a markdown trace has at most one (its tool calls)`);
  const doc: Record<string, unknown> = { ...front };
  if (blocks.length === 1) {
    const block = parseYaml((blocks[0] as RegExpMatchArray)[1] as string, `${file} (yaml block)`, 'ERR_TRACE_INVALID');
    const key = 'trace_id' in front ? 'steps' : 'tool_calls';
    const fields = Array.isArray(block) ? { [key]: block } : block;
    if (!isMap(fields)) throw new LlmosError('ERR_TRACE_INVALID', `${file}: the yaml block must be a list of tool calls or a mapping with ${key}`);
    for (const [k, v] of Object.entries(fields)) {
      if (Object.hasOwn(doc, k)) throw new LlmosError('ERR_TRACE_INVALID', `${file}: /${k} is given both in the front matter and in the yaml block`);
      doc[k] = v;
    }
  }
  return doc;
}

/** Reads and validates one file to import; throws ERR_TRACE_INVALID naming the file and field. */
export function readImportFile(file: string, text: string = readRaw(file)): ParsedImport {
  const markdown = /^\.(md|markdown)$/i.test(extname(file));
  const doc = markdown ? parseMarkdownTrace(text, file) : parseYaml(text, file, 'ERR_TRACE_INVALID');
  if (!isMap(doc)) throw new LlmosError('ERR_TRACE_INVALID', `${file}: a trace must be a YAML mapping`);
  const { record } = parseTraceDocument(doc, file);
  const trace: Trace = { ...record.trace, origin: record.trace.origin ?? 'imported' };
  return { source: file, format: markdown ? 'markdown' : record.format, trace };
}

function readRaw(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new LlmosError(code === 'ENOENT' ? 'ERR_CONFIG_NOT_FOUND' : 'ERR_TRACE_INVALID', `${file}: cannot read (${code ?? (e as Error).message})`);
  }
}

/** Same behaviour (goal, calls, parameters, preconditions); run statistics do not count. */
export function sameTrace(a: Trace, b: Trace): boolean {
  return traceHash(a) === traceHash(b);
}

/** Finds a trace by file name (with or without extension), signature (or a unique prefix of 6+) or goal text. */
export function findTrace(records: readonly TraceRecord[], key: string): TraceRecord | undefined {
  const base = (f: string): string => f.split('/').pop() as string;
  const exact = records.find((r) => base(r.file) === key || r.file === key || base(r.file).replace(/\.ya?ml$/i, '') === key
    || r.trace.goal_signature === key || r.trace.goal_text === key);
  if (exact) return exact;
  if (/^[0-9a-f]{6,15}$/.test(key)) {
    const hits = records.filter((r) => r.trace.goal_signature.startsWith(key));
    if (hits.length === 1) return hits[0];
  }
  return undefined;
}
