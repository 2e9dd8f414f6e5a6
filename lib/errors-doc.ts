/**
 * Renders docs/errors.md from the error table, so the reference cannot drift from the codes
 * (`npm run docs:errors` writes it; test/errors-doc.test.ts fails when it is stale).
 */
import { ERROR_CODES, ERROR_LAYERS, type ErrorCode, type ErrorLayer } from './errors.js';

const yes = (b: boolean): string => (b ? 'yes' : '');

export function renderErrorReference(): string {
  const lines: string[] = [
    '# Error codes',
    '',
    '<!-- Generated from lib/errors.ts by `npm run docs:errors`; edit the table there, not this file. -->',
    '',
    'Every error carries a stable code and a message naming what is wrong and where. `llmos` exits',
    'with status 2 for the codes marked *usage* (bad usage or configuration), 1 for every other',
    'failure. A *refusal* is the safety layer saying no to a tool call (reported as a',
    '`safety_rejection` event); *retryable* codes may be retried by a trace step\'s `on_error: retry`;',
    'codes that *end the run* stop an LLM tool loop at once.',
    '',
  ];
  const codes = Object.keys(ERROR_CODES) as ErrorCode[];
  for (const layer of Object.keys(ERROR_LAYERS) as ErrorLayer[]) {
    const inLayer = codes.filter((c) => ERROR_CODES[c].layer === layer);
    if (inLayer.length === 0) continue;
    lines.push(`## ${layer}: ${ERROR_LAYERS[layer]}`, '', '| code | meaning | refusal | retryable | ends run | usage |', '|---|---|---|---|---|---|');
    for (const code of inLayer) {
      const f = ERROR_CODES[code];
      lines.push(`| \`${code}\` | ${f.description.replaceAll('|', '\\|')} | ${yes(f.refusal)} | ${yes(f.retryable)} | ${yes(f.endsRun)} | ${yes(f.usage)} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}
