/**
 * The LLM adapter around the real ollama-js client (imported on first use). Ollama's wire format
 * stays in this file. Every request has a timeout: a server that is missing, slow or hung gives a
 * clear ERR_LLM_UNAVAILABLE within it; an answer that is not usable gives ERR_LLM_BAD_OUTPUT.
 */
import { LlmosError } from '../../lib/errors.js';
import type { ChatReply, ChatRequest, LlmAdapter, LlmToolCall } from './types.js';

type OllamaClient = import('ollama').Ollama;

export interface OllamaOptions {
  host: string;
  model: string;
  embedModel?: string;
  timeoutMs: number;
  /** Default DEFAULT_MAX_RESPONSE_BYTES. */
  maxResponseBytes?: number;
}

/** Answers are a few KiB; a model that rambles (or a hostile server) must not fill the memory. */
export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

export class OllamaAdapter implements LlmAdapter {
  readonly model: string;
  private readonly options: OllamaOptions;
  private client: Promise<OllamaClient> | undefined;

  constructor(options: OllamaOptions) {
    this.options = options;
    this.model = options.model;
  }

  private async ollama(): Promise<OllamaClient> {
    this.client ??= import('ollama').then(({ Ollama }) => new Ollama({
      host: this.options.host,
      // ollama-js sends no abort signal for non-streamed requests: the timeout is added here.
      fetch: (input: Parameters<typeof fetch>[0], init?: RequestInit) => cappedFetch(input, init, this.options.timeoutMs, this.options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES, this.options.host),
    }));
    return this.client;
  }

  async chat(request: ChatRequest): Promise<ChatReply> {
    const client = await this.ollama();
    const started = Date.now();
    try {
      const response = await abortable(client.chat({
        model: this.model,
        stream: false,
        messages: request.messages.map((m) => ({
          role: m.role, content: m.content,
          ...(m.tool_calls ? { tool_calls: m.tool_calls.map((c) => ({ function: { name: c.name, arguments: c.arguments } })) } : {}),
          ...(m.tool_name ? { tool_name: m.tool_name } : {}),
        })),
        ...(request.tools ? { tools: request.tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters as never } })) } : {}),
        ...(request.format ? { format: request.format } : {}),
        options: { temperature: 0 },
      }), request.signal);
      const message = (response as { message?: { content?: unknown; tool_calls?: unknown } }).message;
      if (!message || typeof message !== 'object') throw new LlmosError('ERR_LLM_BAD_OUTPUT', `model ${this.model} answered without a message`);
      return {
        content: typeof message.content === 'string' ? message.content : '',
        toolCalls: toolCallsOf(message.tool_calls),
        promptTokens: numberOr0((response as { prompt_eval_count?: unknown }).prompt_eval_count),
        outputTokens: numberOr0((response as { eval_count?: unknown }).eval_count),
      };
    } catch (e) {
      throw this.explain(e, started);
    }
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    const client = await this.ollama();
    const started = Date.now();
    try {
      const r = await abortable(client.embed({ model: this.options.embedModel ?? this.model, input: texts }), signal);
      if (!Array.isArray(r.embeddings) || r.embeddings.length !== texts.length) throw new LlmosError('ERR_LLM_BAD_OUTPUT', 'embedding answer does not match the request');
      return r.embeddings;
    } catch (e) {
      throw this.explain(e, started);
    }
  }

  /** Turns transport failures into errors a person can act on. */
  private explain(e: unknown, started: number): LlmosError {
    if (e instanceof LlmosError) return e;
    const capped = causeOf(e);
    if (capped) return capped;
    const err = e as { name?: string; message?: string; cause?: { code?: string }; status_code?: number };
    const host = this.options.host;
    if (err.name === 'TimeoutError' || err.name === 'AbortError') {
      const ms = Date.now() - started;
      return new LlmosError('ERR_LLM_UNAVAILABLE', ms >= this.options.timeoutMs - 50
        ? `Ollama at ${host} did not answer within ${this.options.timeoutMs} ms (model ${this.model})`
        : `the request to Ollama was aborted after ${ms} ms`, undefined, { cause: e });
    }
    if (err.status_code !== undefined) {
      return new LlmosError('ERR_LLM_UNAVAILABLE', `Ollama at ${host} refused the request (${err.status_code}): ${err.message ?? ''}${err.status_code === 404 ? ` (is the model pulled? ollama pull ${this.model})` : ''}`, undefined, { cause: e });
    }
    if (err.cause?.code === 'ECONNREFUSED' || /fetch failed/i.test(err.message ?? '')) {
      return new LlmosError('ERR_LLM_UNAVAILABLE', `cannot reach Ollama at ${host} (${err.cause?.code ?? err.message}); is it running? (ollama serve)`, undefined, { cause: e });
    }
    if (e instanceof SyntaxError) return new LlmosError('ERR_LLM_BAD_OUTPUT', `Ollama at ${host} answered with something that is not JSON`, undefined, { cause: e });
    return new LlmosError('ERR_LLM_UNAVAILABLE', `Ollama request failed: ${err.message ?? String(e)}`, undefined, { cause: e });
  }
}

/**
 * fetch with the request timeout and a cap on the answer's size: the body is counted as it
 * arrives, and past the cap the connection is aborted and reading fails with ERR_LLM_BAD_OUTPUT,
 * so no more than the cap (plus one chunk) is ever held.
 */
async function cappedFetch(input: Parameters<typeof fetch>[0], init: RequestInit | undefined, timeoutMs: number, cap: number, host: string): Promise<Response> {
  const cut = new AbortController();
  const signals = [cut.signal, AbortSignal.timeout(timeoutMs), ...(init?.signal ? [init.signal] : [])];
  const res = await fetch(input, { ...init, signal: AbortSignal.any(signals) });
  const tooBig = (): LlmosError => new LlmosError('ERR_LLM_BAD_OUTPUT', `Ollama at ${host} sent an answer larger than ${cap} bytes (ollama.max_response_bytes); refused without reading the rest`);
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > cap) {
    cut.abort(tooBig());
    throw tooBig();
  }
  if (!res.body) return res;
  let seen = 0;
  const counted = res.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, out) {
      seen += chunk.byteLength;
      if (seen > cap) {
        const e = tooBig();
        out.error(e);
        cut.abort(e);
        return;
      }
      out.enqueue(chunk);
    },
  }));
  return new Response(counted, { status: res.status, statusText: res.statusText, headers: res.headers });
}

function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  // The abort's own reason (an e-stop, a budget) says more than "aborted".
  const why = (fallback: string): LlmosError => (signal.reason instanceof LlmosError ? signal.reason : new LlmosError('ERR_ABORTED', fallback));
  if (signal.aborted) return Promise.reject(why('aborted before the model answered'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(why('aborted while waiting for the model'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then((v) => { signal.removeEventListener('abort', onAbort); resolve(v); }, (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e); });
  });
}

function toolCallsOf(raw: unknown): LlmToolCall[] {
  if (!Array.isArray(raw)) return [];
  const out: LlmToolCall[] = [];
  for (const c of raw) {
    const fn = (c as { function?: { name?: unknown; arguments?: unknown } })?.function;
    if (!fn || typeof fn.name !== 'string') continue;
    let args: unknown = fn.arguments ?? {};
    if (typeof args === 'string') { try { args = JSON.parse(args); } catch { args = { _unparsed: args }; } }
    out.push({ name: fn.name, arguments: (args && typeof args === 'object' && !Array.isArray(args) ? args : {}) as Record<string, unknown> });
  }
  return out;
}

/** An LlmosError in the cause chain (a stream error wrapped by fetch or ollama-js). */
function causeOf(e: unknown): LlmosError | undefined {
  for (let c: unknown = e, i = 0; c && i < 5; c = (c as { cause?: unknown }).cause, i++) {
    if (c instanceof LlmosError) return c;
  }
  return undefined;
}

function numberOr0(x: unknown): number {
  return typeof x === 'number' && Number.isFinite(x) ? x : 0;
}
