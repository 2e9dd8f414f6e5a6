/**
 * A shell-word parser for the Bash system tool: it splits a command line the way a POSIX shell
 * would (quotes, backslashes, operators, redirections) into simple commands of plain words, so
 * the policy (safety/shell-policy.ts) checks what would really run: `r""m -rf /` is the word
 * `rm`. Whatever a static reading cannot pin down is refused here: expansions (`$VAR`,
 * `$(...)`, backquotes), subshells and function definitions, here-documents, and process
 * substitution.
 */
export interface Word {
  /** The word after quote removal. */
  text: string;
  /** Holds an unquoted glob character (* ? [). */
  glob: boolean;
  /** Starts with an unquoted ~ (home directory). */
  tilde: boolean;
}

export interface Redirect {
  /** '>', '>>', '>|', '<', '<>', '&>', '&>>', '<<<', '>&', '<&' */
  op: string;
  /** The file (undefined for a descriptor duplication such as 2>&1). */
  target?: Word;
}

export interface SimpleCommand {
  words: Word[];
  redirects: Redirect[];
}

export class ShellRefusal extends Error {}

const OPERATOR_CHARS = new Set([';', '&', '|', '<', '>', '(', ')', '\n']);

export function parseShell(input: string): SimpleCommand[] {
  const commands: SimpleCommand[] = [];
  let cur: SimpleCommand = { words: [], redirects: [] };
  let pendingRedirect: string | undefined;
  let i = 0;
  const n = input.length;

  const endCommand = (): void => {
    if (pendingRedirect) throw new ShellRefusal(`a redirection (${pendingRedirect}) without a target`);
    if (cur.words.length > 0 || cur.redirects.length > 0) commands.push(cur);
    cur = { words: [], redirects: [] };
  };
  const addWord = (w: Word): void => {
    if (pendingRedirect) {
      const op = pendingRedirect;
      pendingRedirect = undefined;
      // >&2, <&0, >&-: a descriptor, not a file.
      if ((op === '>&' || op === '<&') && /^(\d+|-)$/.test(w.text)) { cur.redirects.push({ op }); return; }
      cur.redirects.push({ op: op === '>&' ? '&>' : op, target: w });
      return;
    }
    cur.words.push(w);
  };

  while (i < n) {
    const c = input[i] as string;
    if (c === ' ' || c === '\t') { i++; continue; }
    if (c === '\\' && input[i + 1] === '\n') { i += 2; continue; }
    if (c === '#') { while (i < n && input[i] !== '\n') i++; continue; }
    // A redirection may start with a descriptor number: 2>file, 2>&1.
    const fd = /^\d+(?=[<>])/.exec(input.slice(i));
    if (fd) i += fd[0].length;
    const ch = input[i] as string;
    if (OPERATOR_CHARS.has(ch)) {
      const two = input.slice(i, i + 2);
      const three = input.slice(i, i + 3);
      if (ch === '(' || ch === ')') throw new ShellRefusal('subshells, groups and function definitions ( ... ) cannot be checked');
      if (ch === '<' || ch === '>') {
        if (pendingRedirect) throw new ShellRefusal(`a redirection (${pendingRedirect}) without a target`);
        if (three === '<<<') { pendingRedirect = '<<<'; i += 3; continue; }
        if (two === '<<') throw new ShellRefusal('here-documents (<<) cannot be checked');
        if (two === '<(' || two === '>(') throw new ShellRefusal('process substitution cannot be checked');
        const op = ['>>', '>|', '<>', '>&', '<&'].includes(two) ? two : ch;
        pendingRedirect = op;
        i += op.length;
        continue;
      }
      if (ch === '&' && input[i + 1] === '>') {
        pendingRedirect = input[i + 2] === '>' ? '&>>' : '&>';
        i += pendingRedirect.length;
        continue;
      }
      // ; & && | || |& and newlines end a simple command.
      endCommand();
      i += (two === '&&' || two === '||' || two === '|&' || two === ';;') ? 2 : 1;
      continue;
    }
    // A word: up to an unquoted blank or operator.
    let text = '';
    let glob = false;
    let tilde = false;
    let started = false;
    while (i < n) {
      const d = input[i] as string;
      if (d === ' ' || d === '\t' || OPERATOR_CHARS.has(d)) break;
      if (!started && d === '~') tilde = true;
      started = true;
      if (d === '\\') {
        if (input[i + 1] === '\n') { i += 2; continue; }
        if (i + 1 < n) text += input[i + 1];
        i += 2;
        continue;
      }
      if (d === "'") {
        const end = input.indexOf("'", i + 1);
        if (end < 0) throw new ShellRefusal('an unterminated single quote');
        text += input.slice(i + 1, end);
        i = end + 1;
        continue;
      }
      if (d === '"') {
        i++;
        for (;;) {
          if (i >= n) throw new ShellRefusal('an unterminated double quote');
          const e = input[i] as string;
          if (e === '"') { i++; break; }
          if (e === '$' || e === '`') throw new ShellRefusal('shell expansion ($..., `...`) cannot be checked');
          if (e === '\\' && i + 1 < n && '$`"\\\n'.includes(input[i + 1] as string)) {
            if (input[i + 1] !== '\n') text += input[i + 1];
            i += 2;
            continue;
          }
          text += e;
          i++;
        }
        continue;
      }
      if (d === '$' || d === '`') throw new ShellRefusal('shell expansion ($..., `...`) cannot be checked');
      if (d === '*' || d === '?' || d === '[') glob = true;
      // { starts a group or a brace expansion (a{b,c}); a lone } closes a group.
      if (d === '{' || (d === '}' && text === '')) throw new ShellRefusal('groups and brace expansion ({ ... }) cannot be checked');
      text += d;
      i++;
    }
    addWord({ text, glob, tilde });
  }
  endCommand();
  return commands;
}
