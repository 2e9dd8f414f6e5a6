/**
 * Regular expressions for trace checks (`check.matches`), matched in linear time. A trace is data
 * that may come from a model or another board, and V8's backtracking engine can spend minutes on
 * `^(a+)+$` against a short string, blocking the event loop (and with it every stop). Here a
 * pattern compiles to an NFA that is simulated breadth-first (a Pike VM without captures): time
 * is O(input x pattern), and both are bounded. The syntax is the JavaScript one without the
 * features that need backtracking: backreferences and lookaround are refused when the trace
 * loads. Matching is on UTF-16 code units, no flags, like `new RegExp(p).test(s)`.
 */
import { LlmosError } from '../lib/errors.js';

/** Longest value a check matches against; longer values fail the check. */
export const MAX_MATCH_INPUT = 4096;
const MAX_PATTERN = 1000;
const MAX_PROGRAM = 4000;

type CharTest = (c: number) => boolean;
type Node =
  | { t: 'char'; test: CharTest }
  | { t: 'seq'; items: Node[] }
  | { t: 'alt'; alts: Node[] }
  | { t: 'rep'; node: Node; min: number; max: number }
  | { t: 'assert'; kind: 'bol' | 'eol' | 'wordb' | 'nwordb' };

type Inst =
  | { op: 'char'; test: CharTest }
  | { op: 'split'; x: number; y: number }
  | { op: 'jmp'; x: number }
  | { op: 'assert'; kind: 'bol' | 'eol' | 'wordb' | 'nwordb' }
  | { op: 'match' };

const isDigit: CharTest = (c) => c >= 48 && c <= 57;
const isWord: CharTest = (c) => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const SPACES = new Set([9, 10, 11, 12, 13, 32, 160, 5760, 8232, 8233, 8239, 8287, 12288, 65279, ...Array.from({ length: 11 }, (_, i) => 8192 + i)]);
const isSpace: CharTest = (c) => SPACES.has(c);
const isLineEnd: CharTest = (c) => c === 10 || c === 13 || c === 8232 || c === 8233;

class Parser {
  private i = 0;
  private readonly p: string;
  constructor(p: string) { this.p = p; }

  fail(why: string): never {
    throw new LlmosError('ERR_TRACE_INVALID', `pattern /${this.p}/ at ${this.i}: ${why}`);
  }

  parse(): Node {
    const n = this.alt();
    if (this.i < this.p.length) this.fail(this.p[this.i] === ')' ? 'unmatched )' : 'unexpected character');
    return n;
  }

  private alt(): Node {
    const alts = [this.seq()];
    while (this.p[this.i] === '|') { this.i++; alts.push(this.seq()); }
    return alts.length === 1 ? alts[0] as Node : { t: 'alt', alts };
  }

  private seq(): Node {
    const items: Node[] = [];
    while (this.i < this.p.length && this.p[this.i] !== '|' && this.p[this.i] !== ')') {
      const atom = this.atom();
      items.push(this.quantified(atom));
    }
    return { t: 'seq', items };
  }

  private quantified(atom: Node): Node {
    const q = this.quantifier();
    if (!q) return atom;
    if (atom.t === 'assert') this.fail('nothing to repeat');
    if (this.p[this.i] === '?') this.i++; // lazy: the same yes/no answer
    if (this.quantifier(true)) this.fail('nothing to repeat');
    return { t: 'rep', node: atom, min: q.min, max: q.max };
  }

  /** A quantifier at the cursor (consumed unless peeking), or undefined. */
  private quantifier(peek = false): { min: number; max: number } | undefined {
    const c = this.p[this.i];
    let q: { min: number; max: number; len: number } | undefined;
    if (c === '*') q = { min: 0, max: Infinity, len: 1 };
    else if (c === '+') q = { min: 1, max: Infinity, len: 1 };
    else if (c === '?') q = { min: 0, max: 1, len: 1 };
    else if (c === '{') {
      const m = /^\{(\d{1,4})(,(\d{0,4}))?\}/.exec(this.p.slice(this.i));
      // Not a quantifier: a literal "{", as JavaScript reads it.
      if (m) q = { min: Number(m[1]), max: m[2] === undefined ? Number(m[1]) : m[3] === '' ? Infinity : Number(m[3]), len: m[0].length };
    }
    if (!q) return undefined;
    if (q.max < q.min) this.fail('numbers out of order in {} quantifier');
    if (!peek) this.i += q.len;
    return q;
  }

  private atom(): Node {
    const c = this.p[this.i] as string;
    if (c === '(') {
      this.i++;
      if (this.p.startsWith('?:', this.i)) this.i += 2;
      else if (/^\?<[A-Za-z_$][\w$]*>/.test(this.p.slice(this.i))) this.i = this.p.indexOf('>', this.i) + 1;
      else if (this.p[this.i] === '?') this.fail('lookaround and inline flags are not supported (they need backtracking)');
      const inner = this.alt();
      if (this.p[this.i] !== ')') this.fail('missing )');
      this.i++;
      return inner;
    }
    if (c === '*' || c === '+' || c === '?') this.fail('nothing to repeat');
    if (c === '^') { this.i++; return { t: 'assert', kind: 'bol' }; }
    if (c === '$') { this.i++; return { t: 'assert', kind: 'eol' }; }
    if (c === '.') { this.i++; return { t: 'char', test: (x) => !isLineEnd(x) }; }
    if (c === '[') return this.klass();
    if (c === '\\') {
      this.i++;
      const e = this.p[this.i];
      if (e === 'b' || e === 'B') { this.i++; return { t: 'assert', kind: e === 'b' ? 'wordb' : 'nwordb' }; }
      if (e !== undefined && /[1-9]/.test(e)) this.fail('backreferences are not supported (they need backtracking)');
      if (e === 'k' && this.p[this.i + 1] === '<') this.fail('backreferences are not supported (they need backtracking)');
      return { t: 'char', test: this.escape(false) };
    }
    this.i++;
    const code = c.charCodeAt(0);
    return { t: 'char', test: (x) => x === code };
  }

  /** After a backslash: a class (\d \w \s ...) or one code unit. */
  private escape(inClass: boolean): CharTest {
    const e = this.p[this.i];
    if (e === undefined) this.fail('\\ at end of pattern');
    this.i++;
    switch (e) {
      case 'd': return isDigit;
      case 'D': return (x) => !isDigit(x);
      case 'w': return isWord;
      case 'W': return (x) => !isWord(x);
      case 's': return isSpace;
      case 'S': return (x) => !isSpace(x);
      default: break;
    }
    const code = this.escapeCode(e, inClass);
    return (x) => x === code;
  }

  private escapeCode(e: string, inClass: boolean): number {
    switch (e) {
      case 't': return 9;
      case 'n': return 10;
      case 'v': return 11;
      case 'f': return 12;
      case 'r': return 13;
      case '0': return 0;
      case 'b': if (inClass) return 8; break;
      case 'x': case 'u': {
        const len = e === 'x' ? 2 : 4;
        const hex = this.p.slice(this.i, this.i + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) this.fail(`bad \\${e} escape`);
        this.i += len;
        return parseInt(hex, 16);
      }
      case 'c': this.fail('\\c escapes are not supported'); break;
      default: break;
    }
    if (/[A-Za-z0-9]/.test(e)) this.fail(`unsupported escape \\${e}`);
    return e.charCodeAt(0);
  }

  private klass(): Node {
    this.i++;
    const negate = this.p[this.i] === '^';
    if (negate) this.i++;
    const tests: CharTest[] = [];
    while (this.p[this.i] !== ']') {
      if (this.i >= this.p.length) this.fail('missing ]');
      const lo = this.classAtom();
      if (this.p[this.i] === '-' && this.p[this.i + 1] !== ']' && this.i + 1 < this.p.length) {
        this.i++;
        const hi = this.classAtom();
        if (typeof lo !== 'number' || typeof hi !== 'number') this.fail('a class like \\d cannot bound a range');
        if (hi < lo) this.fail('range out of order in character class');
        tests.push((x) => x >= lo && x <= hi);
      } else {
        tests.push(typeof lo === 'number' ? (x) => x === lo : lo);
      }
    }
    this.i++;
    const any: CharTest = (x) => tests.some((t) => t(x));
    return { t: 'char', test: negate ? (x) => !any(x) : any };
  }

  /** One member of a class: a code unit, or a class escape (\d ...). */
  private classAtom(): number | CharTest {
    const c = this.p[this.i] as string;
    if (c !== '\\') { this.i++; return c.charCodeAt(0); }
    this.i++;
    const e = this.p[this.i];
    if (e !== undefined && 'dDwWsS'.includes(e)) return this.escape(true);
    if (e === undefined) this.fail('\\ at end of pattern');
    this.i++;
    return this.escapeCode(e, true);
  }
}

function compile(node: Node): Inst[] {
  const prog: Inst[] = [];
  const emit = (inst: Inst): number => {
    if (prog.length >= MAX_PROGRAM) throw new LlmosError('ERR_TRACE_INVALID', `pattern too large (over ${MAX_PROGRAM} states once its repetitions are counted)`);
    prog.push(inst);
    return prog.length - 1;
  };
  const gen = (n: Node): void => {
    switch (n.t) {
      case 'char': emit({ op: 'char', test: n.test }); return;
      case 'assert': emit({ op: 'assert', kind: n.kind }); return;
      case 'seq': for (const x of n.items) gen(x); return;
      case 'alt': {
        const jumps: number[] = [];
        n.alts.forEach((a, k) => {
          if (k < n.alts.length - 1) {
            const split = emit({ op: 'split', x: prog.length + 1, y: -1 });
            gen(a);
            jumps.push(emit({ op: 'jmp', x: -1 }));
            (prog[split] as { y: number }).y = prog.length;
          } else gen(a);
        });
        for (const j of jumps) (prog[j] as { x: number }).x = prog.length;
        return;
      }
      case 'rep': {
        for (let k = 0; k < n.min; k++) gen(n.node);
        if (n.max === Infinity) {
          const split = emit({ op: 'split', x: prog.length + 1, y: -1 });
          gen(n.node);
          emit({ op: 'jmp', x: split });
          (prog[split] as { y: number }).y = prog.length;
        } else {
          const splits: number[] = [];
          for (let k = n.min; k < n.max; k++) {
            splits.push(emit({ op: 'split', x: prog.length + 1, y: -1 }));
            gen(n.node);
          }
          for (const s of splits) (prog[s] as { y: number }).y = prog.length;
        }
        return;
      }
    }
  };
  gen(node);
  emit({ op: 'match' });
  return prog;
}

export interface SafeRegex {
  readonly source: string;
  /** Like RegExp.prototype.test, in time linear in the input; throws ERR_CHECK_FAILED over MAX_MATCH_INPUT. */
  test(input: string): boolean;
}

/** Compiles a pattern; throws ERR_TRACE_INVALID naming what is not allowed. */
export function compileSafeRegex(pattern: string): SafeRegex {
  if (pattern.length > MAX_PATTERN) throw new LlmosError('ERR_TRACE_INVALID', `pattern longer than ${MAX_PATTERN} characters`);
  const prog = compile(new Parser(pattern).parse());
  const test = (s: string): boolean => {
    if (s.length > MAX_MATCH_INPUT) throw new LlmosError('ERR_CHECK_FAILED', `value of ${s.length} characters is longer than a check matches (${MAX_MATCH_INPUT})`);
    const n = s.length;
    let clist: number[] = [];
    let nlist: number[] = [];
    const mark = new Int32Array(prog.length).fill(-1);
    let generation = 0;
    const wordAt = (i: number): boolean => i >= 0 && i < n && isWord(s.charCodeAt(i));
    // Follows the epsilon moves from pc at position pos; true when a match state is reached.
    const add = (list: number[], start: number, pos: number): boolean => {
      const stack = [start];
      while (stack.length > 0) {
        const pc = stack.pop() as number;
        if (mark[pc] === generation) continue;
        mark[pc] = generation;
        const inst = prog[pc] as Inst;
        switch (inst.op) {
          case 'match': return true;
          case 'jmp': stack.push(inst.x); break;
          case 'split': stack.push(inst.y, inst.x); break;
          case 'assert': {
            const ok = inst.kind === 'bol' ? pos === 0 : inst.kind === 'eol' ? pos === n
              : (wordAt(pos - 1) !== wordAt(pos)) === (inst.kind === 'wordb');
            if (ok) stack.push(pc + 1);
            break;
          }
          case 'char': list.push(pc); break;
        }
      }
      return false;
    };
    for (let pos = 0; pos <= n; pos++) {
      // Unanchored search: a new thread starts at every position.
      if (add(clist, 0, pos)) return true;
      if (pos === n) break;
      const c = s.charCodeAt(pos);
      generation++;
      nlist = [];
      for (const pc of clist) {
        const inst = prog[pc] as Extract<Inst, { op: 'char' }>;
        if (inst.test(c) && add(nlist, pc + 1, pos + 1)) return true;
      }
      clist = nlist;
    }
    return false;
  };
  return { source: pattern, test };
}

const cache = new Map<string, SafeRegex>();

/** Compiled once per pattern (a small cache: traces reuse a handful of patterns). */
export function safeRegex(pattern: string): SafeRegex {
  let r = cache.get(pattern);
  if (!r) {
    r = compileSafeRegex(pattern);
    if (cache.size >= 256) cache.clear();
    cache.set(pattern, r);
  }
  return r;
}
