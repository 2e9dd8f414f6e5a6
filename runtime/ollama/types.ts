/**
 * The runtime's view of a chat model: what the agentic executors need, independent of the wire
 * format (which lives only in ./client.ts and in the test server that imitates Ollama).
 */

export interface LlmToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

export interface ChatTurn {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  tool_calls?: LlmToolCall[];
  /** For role 'tool': which tool answered. */
  tool_name?: string;
}

/** A tool as the model sees it: name, description and a JSON Schema for its arguments. */
export interface LlmTool {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export interface ChatRequest {
  messages: ChatTurn[];
  tools?: LlmTool[];
  /** A JSON Schema the answer must follow (structured output). */
  format?: Record<string, unknown>;
  signal?: AbortSignal;
}

export interface ChatReply {
  content: string;
  toolCalls: LlmToolCall[];
  promptTokens: number;
  outputTokens: number;
}

export interface LlmAdapter {
  readonly model: string;
  chat(request: ChatRequest): Promise<ChatReply>;
  /** Embeddings, when the server offers them (optional recall help). */
  embed?(texts: string[], signal?: AbortSignal): Promise<number[][]>;
}
