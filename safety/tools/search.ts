/** search_tools' ranking: the few tools whose name, keywords and description best fit a query. */
import type { ToolDefinition } from './types.js';

function words(text: string): string[] {
  return text.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length > 1).map((w) => (w.length > 3 && w.endsWith('s') ? w.slice(0, -1) : w));
}

/** search_tools: the few tools whose name, keywords and description best fit a query. */
export function searchTools(catalog: ReadonlyMap<string, ToolDefinition>, query: string, limit = 3): ToolDefinition[] {
  const q = new Set(words(query));
  if (q.size === 0) return [];
  const scored: Array<{ tool: ToolDefinition; score: number }> = [];
  for (const tool of catalog.values()) {
    if (tool.name === 'search_tools') continue;
    const strong = new Set([...words(tool.name.replace(/_/g, ' ')), ...tool.keywords.flatMap(words)]);
    const weak = new Set(words(tool.description));
    let score = 0;
    for (const w of q) {
      if (strong.has(w)) score += 2;
      else if (weak.has(w)) score += 0.5;
    }
    if (score > 0) scored.push({ tool, score });
  }
  scored.sort((a, b) => b.score - a.score || a.tool.name.localeCompare(b.tool.name));
  return scored.slice(0, limit).map((s) => s.tool);
}
