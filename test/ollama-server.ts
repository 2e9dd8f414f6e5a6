/**
 * A local HTTP server that speaks Ollama's /api/chat and /api/embed wire format with scripted
 * replies, so the agentic follower is tested through the real ollama-js client. Each chat
 * request takes the next scripted reply; `fallback` answers when the script runs out.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatBody {
  model: string;
  messages: Array<{ role: string; content: string; tool_calls?: unknown[]; tool_name?: string }>;
  tools?: Array<{ type: string; function: { name: string; description?: string; parameters?: unknown } }>;
  format?: unknown;
  stream?: boolean;
}

export type Reply =
  | { content?: string; tool_calls?: Array<{ name: string; arguments: Record<string, unknown> }>; tokens?: number }
  | { hang: true }
  | { status: number; error: string }
  | { raw: string };

export type Script = Reply | ((body: ChatBody) => Reply);

export class FakeOllama {
  readonly requests: Array<{ path: string; body: ChatBody }> = [];
  private readonly queue: Script[] = [];
  fallback: Script | undefined;
  /** Embedding of one input (default: a meaningless fixed-size vector); throw for a missing model. */
  embedder: ((text: string) => number[]) | undefined;
  private server: Server | undefined;
  private readonly hanging = new Set<ServerResponse>();

  async start(): Promise<string> {
    this.server = createServer((req, res) => { void this.handle(req, res); });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  script(...replies: Script[]): this {
    this.queue.push(...replies);
    return this;
  }

  /** Chat requests only (not embeddings). */
  chats(): ChatBody[] {
    return this.requests.filter((r) => r.path === '/api/chat').map((r) => r.body);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    const body = (text ? JSON.parse(text) : {}) as ChatBody & { input?: string | string[] };
    this.requests.push({ path: req.url ?? '', body });
    if (req.url === '/api/embed') {
      const inputs = Array.isArray(body.input) ? body.input : [body.input ?? ''];
      try {
        return this.json(res, 200, { model: body.model, embeddings: inputs.map((s) => (this.embedder ? this.embedder(s) : [s.length % 7, 1, 0])) });
      } catch (e) {
        return this.json(res, 404, { error: (e as Error).message });
      }
    }
    if (req.url !== '/api/chat') return this.json(res, 404, { error: `no route ${req.url}` });
    const next = this.queue.shift() ?? this.fallback;
    if (!next) return this.json(res, 500, { error: 'the test script ran out of replies' });
    const reply = typeof next === 'function' ? next(body) : next;
    if ('hang' in reply) { this.hanging.add(res); return; }
    if ('status' in reply) return this.json(res, reply.status, { error: reply.error });
    if ('raw' in reply) { res.writeHead(200, { 'content-type': 'application/json' }); res.end(reply.raw); return; }
    this.json(res, 200, {
      model: body.model, created_at: new Date().toISOString(),
      message: { role: 'assistant', content: reply.content ?? '', ...(reply.tool_calls ? { tool_calls: reply.tool_calls.map((c) => ({ function: c })) } : {}) },
      done: true, done_reason: 'stop', total_duration: 1000, load_duration: 10,
      prompt_eval_count: Math.round((reply.tokens ?? 100) * 0.8), prompt_eval_duration: 100, eval_count: Math.round((reply.tokens ?? 100) * 0.2), eval_duration: 100,
    });
  }

  private json(res: ServerResponse, status: number, value: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  }

  async close(): Promise<void> {
    for (const r of this.hanging) r.destroy();
    this.hanging.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections?.();
  }
}

export const call = (name: string, args: Record<string, unknown>): { name: string; arguments: Record<string, unknown> } => ({ name, arguments: args });
