/**
 * Remembers the answers to commands, so a repeated command is answered without running again.
 *
 * A command is the same only when its name, its id and its payload are: an id sent ahead of time
 * with another payload cannot swallow a later, different command. A repeat that arrives while
 * the original is still queued or running waits for it and gets its final answer. Answers are
 * kept for a bounded time (and number), after which an id may be used again.
 */
import { sha256 } from '../../lib/hash.js';

export interface Waiter {
  (reply: Record<string, unknown>): void;
}

interface Entry {
  expiresAt: number;
  reply?: Record<string, unknown>;
  waiters: Waiter[];
}

export function commandKey(name: string, id: string, payload: Buffer | string): string {
  return `${name}\u0000${id}\u0000${sha256(payload, 'base64')}`;
}

export class ReplyMemory {
  private readonly map = new Map<string, Entry>();
  private readonly capacity: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(capacity: number, ttlMs: number, now: () => number = Date.now) {
    this.capacity = capacity;
    this.ttlMs = ttlMs;
    this.now = now;
  }

  private live(key: string): Entry | undefined {
    const e = this.map.get(key);
    if (e && e.reply && e.expiresAt <= this.now()) {
      this.map.delete(key);
      return undefined;
    }
    return e;
  }

  /**
   * 'new': not seen (now pending); 'pending': the original is still running, `waiter` gets its
   * answer; 'done': answered before, `waiter` was called at once.
   */
  claim(key: string, waiter: Waiter): 'new' | 'pending' | 'done' {
    const e = this.live(key);
    if (e?.reply) { waiter(e.reply); return 'done'; }
    if (e) { e.waiters.push(waiter); return 'pending'; }
    this.map.set(key, { expiresAt: Infinity, waiters: [] });
    this.trim();
    return 'new';
  }

  /** The final answer: remembered for the lifetime, and handed to every repeat that waited. */
  settle(key: string, reply: Record<string, unknown>): void {
    const e = this.map.get(key);
    this.map.delete(key);
    this.map.set(key, { expiresAt: this.now() + this.ttlMs, reply, waiters: [] });
    this.trim();
    for (const w of e?.waiters ?? []) w(reply);
  }

  /** The command was refused before it ran: forgotten (it may be sent again, fixed); waiters get the refusal. */
  forget(key: string, reply: Record<string, unknown>): void {
    const e = this.map.get(key);
    this.map.delete(key);
    for (const w of e?.waiters ?? []) w(reply);
  }

  private trim(): void {
    // Oldest first; a pending entry is never dropped (its waiters would never hear back).
    for (const [k, e] of this.map) {
      if (this.map.size <= this.capacity) break;
      if (e.reply) this.map.delete(k);
    }
  }
}
