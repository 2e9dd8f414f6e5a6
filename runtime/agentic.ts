/**
 * The agentic follower (run-agentic-follower): MIXED and LEARNER through a local Ollama model,
 * the model's split of multi-step goals, and learning: a clean successful run is saved as a new
 * trace, so the same goal is served next time by the follower with no LLM call.
 */
import type { Clock } from '../lib/clock.js';
import { LlmosError } from '../lib/errors.js';
import { packagePath } from '../lib/paths.js';
import { join } from 'node:path';
import type { SafetyGate, ToolCall } from '../safety/gate.js';
import type { RuntimeConfig } from './config.js';
import type { Decision } from './dispatcher.js';
import { runLearner, runMixed, splitWithModel, type AgenticContext, type AgenticOutcome } from './executors/agentic.js';
import { traceFromRun } from './learn.js';
import { checkLearnedRun, isProvisional, withPromotion } from './learn-checks.js';
import type { Logger } from './logger.js';
import type { Matcher } from './matcher/matcher.js';
import { instantiate, type UnitLookup } from './matcher/params.js';
import { AgentLibrary, agentPrompt } from './ollama/agents.js';
import { GoalBudget, HourlyLedger } from './ollama/budget.js';
import { OllamaAdapter } from './ollama/client.js';
import type { LlmAdapter } from './ollama/types.js';
import { EmbeddingRecall, type RecallHit } from './ollama/recall.js';
import type { StepResult } from './result.js';
import type { TraceStore } from './trace-store.js';

export interface AgenticDeps {
  config: RuntimeConfig;
  clock: Clock;
  gate: SafetyGate;
  store: TraceStore;
  matcher: Matcher;
  unitsFor: UnitLookup;
  log: Logger;
  /** The sentience internal-state block, when that layer is on. */
  internalState: () => string | undefined;
  allowsSuggestions: () => boolean;
  onSuggestion: (goal: string, text: string) => void;
  /** A successful run failed a learning check and was not saved (learn-checks.ts). */
  onLearnRejected?: (goal: string, reason: string) => void;
  llm?: LlmAdapter;
}

export interface AgenticRun {
  runId: string;
  signal: AbortSignal;
  budget: GoalBudget;
  onStep: (step: StepResult) => void;
}

export interface AgenticResult {
  ok: boolean;
  steps: StepResult[];
  learned?: string;
  /** Why a successful run was not saved as a trace. */
  learn_rejected?: string;
  error?: LlmosError;
}

export class AgenticFollower {
  private readonly deps: AgenticDeps;
  private readonly ledger: HourlyLedger;
  private readonly agents: AgentLibrary;
  private adapter: LlmAdapter | undefined;

  constructor(deps: AgenticDeps) {
    this.deps = deps;
    this.ledger = new HourlyLedger(deps.clock, join(deps.config.paths.state, 'llm-ledger.json'));
    this.agents = new AgentLibrary([deps.config.paths.agents, packagePath('agents')], (m) => deps.log.warn(m));
    this.agents.load();
    this.agents.watch();
    if (deps.llm) this.adapter = deps.llm;
  }

  newBudget(): GoalBudget {
    return new GoalBudget(this.deps.config.budget, this.deps.clock, this.ledger);
  }

  private llm(): LlmAdapter {
    const o = this.deps.config.ollama;
    this.adapter ??= new OllamaAdapter({ host: o.host, model: this.agents.get()?.model ?? o.model, embedModel: o.embed_model, timeoutMs: o.timeout_ms, ...(o.max_response_bytes !== undefined ? { maxResponseBytes: o.max_response_bytes } : {}) });
    return this.adapter;
  }

  private context(run: AgenticRun): AgenticContext {
    const agent = this.agents.get();
    const internalState = this.deps.internalState();
    return {
      llm: this.llm(), gate: this.deps.gate, clock: this.deps.clock, workspace: this.deps.config.paths.workspace,
      budget: run.budget, runId: run.runId, signal: run.signal, maxIterations: this.deps.config.ollama.max_iterations, onStep: run.onStep,
      prompt: {
        agentPrompt: agent ? agentPrompt(agent) : 'You control a robot through tools.',
        ...(internalState ? { internalState } : {}),
        suggestions: this.deps.allowsSuggestions(),
      },
    };
  }

  async mixed(decision: Decision, run: AgenticRun): Promise<AgenticResult> {
    const cand = decision.candidate;
    if (!cand) throw new LlmosError('ERR_INTERNAL', 'MIXED decision without a nearest trace');
    const plan = instantiate(cand.trace, cand.model.slots, cand.params);
    const out = await runMixed(this.context(run), decision.goal, { goal: cand.trace.goal_text, plan });
    // A provisional trace (learning.promote_after) counts the uses the model confirmed.
    if (isProvisional(cand.trace) && out.ok && !run.signal.aborted) {
      await this.deps.store.recordRun(cand.trace.goal_signature, true, this.deps.clock.wallNow()).catch((e: unknown) => this.deps.log.warn(`could not count the run of "${cand.trace.goal_text}": ${(e as Error).message}`));
    }
    return this.finish(decision.goal, out, 'MIXED', run, cand.trace.goal_signature);
  }

  async learner(goal: string, run: AgenticRun): Promise<AgenticResult> {
    const out = await runLearner(this.context(run), goal);
    if (out.ok && out.finalText && this.deps.allowsSuggestions()) {
      const s = /SUGGESTION:\s*(.+)/i.exec(out.finalText)?.[1]?.trim();
      if (s) this.deps.onSuggestion(goal, s);
    }
    return this.finish(goal, out, 'LEARNER', run);
  }

  /**
   * modes.embeddings: the learned trace nearest in meaning to a goal the matcher missed, or
   * undefined (also when the server has no embedding model: recall is a help, never a need).
   */
  async recall(goal: string, run: AgenticRun): Promise<RecallHit | undefined> {
    const { config, store, log } = this.deps;
    if (!config.modes.embeddings) return undefined;
    const llm = this.llm();
    const embed = llm.embed?.bind(llm);
    if (!embed) return undefined;
    this.recaller ??= new EmbeddingRecall(join(config.paths.state, 'embeddings.json'), config.ollama.embed_model);
    try {
      run.budget.check();
      return await this.recaller.nearest(goal, store.all(), config.modes.embedding_threshold, (texts) => embed(texts, run.signal));
    } catch (e) {
      log.debug(`embedding recall unavailable: ${(e as Error).message}`);
      return undefined;
    }
  }

  private recaller: EmbeddingRecall | undefined;

  /** MIXED from a trace recalled by embeddings: its calls are the plan the model adapts. */
  async mixedFrom(goal: string, hit: RecallHit, run: AgenticRun): Promise<AgenticResult> {
    const trace = hit.record.trace;
    const plan = instantiate(trace, new Map(), {});
    const out = await runMixed(this.context(run), goal, { goal: trace.goal_text, plan });
    return this.finish(goal, out, 'MIXED', run, trace.goal_signature);
  }

  /** Sub-goals of a goal the wording does not split; one element when it is a single step. */
  async split(goal: string, run: AgenticRun): Promise<string[]> {
    return splitWithModel(this.context(run), goal);
  }

  private async finish(goal: string, out: AgenticOutcome, mode: 'MIXED' | 'LEARNER', run: AgenticRun, from?: string): Promise<AgenticResult> {
    const result: AgenticResult = { ok: out.ok, steps: out.steps, ...(out.error ? { error: out.error } : {}) };
    // Aborted (an e-stop, a signal) at any point, even after the model's last call: never learned.
    if (!out.ok || !out.clean || out.performed.length === 0 || run.signal.aborted) return result;
    // The learning checks come first: an operator is never asked to confirm a run that will not be saved.
    let verdict: ReturnType<typeof checkLearnedRun>;
    try {
      const draft = traceFromRun(goal, out.performed, this.deps.unitsFor, {
        model: this.llm().model, mode, llmCalls: run.budget.calls, at: this.deps.clock.wallNow(), ...(from ? { from } : {}),
      });
      verdict = checkLearnedRun(goal, out.performed, out.steps, draft, { profile: this.deps.gate.profile, catalog: this.deps.gate.catalog, config: this.deps.config.learning });
    } catch (e) {
      this.deps.log.warn(`could not make a trace of "${goal}": ${(e as Error).message}`);
      return result;
    }
    if (!verdict.ok) {
      this.deps.log.warn(`ERR_LEARN_REJECTED: not learning "${goal}": ${verdict.reason}`, { code: 'ERR_LEARN_REJECTED' });
      this.deps.onLearnRejected?.(goal, verdict.reason);
      result.learn_rejected = verdict.reason;
      return result;
    }
    if (!(await this.learningAllowed(goal, out.performed, run))) return result;
    try {
      for (const note of verdict.notes) this.deps.log.info(`learning "${goal}": ${note}`);
      const trace = withPromotion(verdict.trace, this.deps.config.learning.promote_after);
      const rec = await this.deps.store.save(trace, `Learned by ${mode} from goal "${goal}" (${this.llm().model}).`);
      this.deps.matcher.upsert(rec);
      result.learned = rec.trace.goal_signature;
    } catch (e) {
      this.deps.log.warn(`could not save the learned trace for "${goal}": ${(e as Error).message}`);
    }
    return result;
  }

  /** The configured proof that a run worked before it becomes a trace. */
  private async learningAllowed(goal: string, performed: readonly ToolCall[], run: AgenticRun): Promise<boolean> {
    switch (this.deps.config.ollama.learn_requires) {
      case 'tool_success':
        return true;
      case 'sensor_check': {
        // The proof must come after the work: a sensor read after the last actuation.
        const actuation = (c: ToolCall): boolean => this.deps.gate.catalog.get(c.name)?.kind === 'actuation';
        let lastActuation = -1;
        performed.forEach((c, i) => { if (actuation(c)) lastActuation = i; });
        return performed.some((c, i) => c.name === 'sensor_read' && i > lastActuation);
      }
      case 'operator_confirm':
        return this.deps.gate.confirmations.request({
          tool: 'learn', args: { goal, tool_calls: performed.length }, source: 'llm', run: run.runId,
          reason: `save "${goal}" as a new trace (${performed.length} tool calls)?`,
        }, run.signal);
    }
  }

  close(): void {
    this.agents.close();
  }
}
