/**
 * What the Bash system tool may run, judged on the words a shell would see (safety/shell-words.ts):
 * no program that runs another command out of sight (sudo, env, xargs, sh -c, eval), none that
 * destroys disks or the running system, no write outside the workspace (redirections, tee, cp,
 * dd of=, ...), nothing under /dev, /sys, /proc or /boot, no rm -rf, no kill of every process.
 */
import { basename, isAbsolute, relative, resolve } from 'node:path';
import { parseShell, ShellRefusal, type SimpleCommand, type Word } from './shell-words.js';

/** Programs that run another command (or code) we cannot see from here. */
const RUNS_OTHERS = new Set([
  'sudo', 'doas', 'su', 'env', 'nice', 'nohup', 'timeout', 'xargs', 'exec', 'command', 'builtin', 'eval', 'source', '.',
  'time', 'stdbuf', 'setsid', 'chroot', 'ionice', 'taskset', 'watch', 'strace', 'ltrace', 'unshare', 'nsenter', 'flock',
  'parallel', 'busybox', 'sh', 'bash', 'dash', 'zsh', 'ksh', 'ash', 'fish', 'csh', 'tcsh', 'script', 'expect', 'at', 'batch',
  'crontab', 'trap', 'alias', 'function', 'systemd-run', 'runuser', 'chrt', 'prlimit', 'cgexec', 'firejail', 'ssh',
]);

/** Programs that wipe disks, stop the system, or kill or load things wholesale. */
const FORBIDDEN: ReadonlyArray<[RegExp, string]> = [
  [/^mkfs(\..+)?$|^mke2fs$|^mkswap$|^mkdosfs$/, 'filesystem creation (mkfs)'],
  [/^(wipefs|shred|fdisk|sfdisk|cfdisk|parted|gdisk|sgdisk|blkdiscard)$/, 'disk partitioning or wiping'],
  [/^(shutdown|reboot|poweroff|halt|telinit|init|kexec)$/, 'shutdown or reboot'],
  [/^(killall|killall5|pkill)$/, 'killing processes by name or all of them'],
  [/^(insmod|rmmod|modprobe|mount|umount|swapon|swapoff|losetup|cryptsetup|dmsetup|sysctl)$/, 'changing the running system (modules, mounts, kernel settings)'],
];

/** Interpreters whose code on the command line (-c, -e) we cannot check. */
const INLINE_CODE: ReadonlyMap<string, RegExp> = new Map([
  ['python', /^-c/], ['python3', /^-c/], ['python2', /^-c/], ['node', /^(-e|-p|--eval|--print)/], ['perl', /^-[eE]/],
  ['ruby', /^-e/], ['php', /^-r/], ['lua', /^-e/], ['awk', /system|getline|\|/], ['gawk', /system|getline|\|/],
]);

const SYSTEM_ROOTS = ['/dev', '/sys', '/proc', '/boot'];
const HARMLESS_DEVICES = new Set(['/dev/null', '/dev/zero', '/dev/urandom', '/dev/random', '/dev/stdin', '/dev/stdout', '/dev/stderr', '/dev/tty']);

function under(path: string, root: string): boolean {
  return path === root || path.startsWith(`${root}/`);
}

/** Why a command may not run (undefined: it may). `workspace` is where it runs. */
export function commandProblem(command: string, workspace = '/nonexistent-workspace'): string | undefined {
  let commands: SimpleCommand[];
  try {
    commands = parseShell(command);
  } catch (e) {
    if (e instanceof ShellRefusal) return e.message;
    throw e;
  }
  const ws = resolve(workspace);
  const abs = (w: Word): string | undefined => (w.tilde ? undefined : resolve(ws, w.text));
  const insideWorkspace = (w: Word): boolean => {
    const p = abs(w);
    if (p === undefined) return false;
    const r = relative(ws, p);
    return r === '' || (!r.startsWith('..') && !isAbsolute(r));
  };
  const writable = (w: Word): string | undefined => {
    const p = abs(w);
    if (p !== undefined && (p === '/dev/null' || p === '/dev/stdout' || p === '/dev/stderr')) return undefined;
    if (w.glob) return `a write to a glob pattern (${w.text})`;
    return insideWorkspace(w) ? undefined : `a write outside the workspace (${w.text})`;
  };
  const systemPath = (w: Word): string | undefined => {
    if (w.tilde) return undefined;
    const p = w.text.startsWith('/') ? resolve(w.text) : undefined;
    if (p === undefined || HARMLESS_DEVICES.has(p)) return undefined;
    return SYSTEM_ROOTS.some((r) => under(p, r)) ? `${w.text} is under /dev, /sys, /proc or /boot` : undefined;
  };

  for (const cmd of commands) {
    for (const r of cmd.redirects) {
      if (!r.target) continue;
      const out = r.op !== '<' && r.op !== '<<<';
      const why = r.op === '<<<' ? undefined : out ? writable(r.target) : systemPath(r.target);
      if (why) return `redirection ${r.op} ${r.target.text}: ${why}`;
    }
    const words = cmd.words;
    if (words.length === 0) continue;
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]?.text ?? '')) return 'environment assignments before a command cannot be checked';
    const name = words[0] as Word;
    if (name.glob || name.tilde) return `the program name ${name.text} is a pattern`;
    const prog = basename(name.text);
    const args = words.slice(1);
    if (RUNS_OTHERS.has(prog)) return `${prog} runs another command, which cannot be checked`;
    for (const [pattern, why] of FORBIDDEN) if (pattern.test(prog)) return why;
    const inline = INLINE_CODE.get(prog.replace(/[\d.]+$/, '')) ?? INLINE_CODE.get(prog);
    if (inline && args.some((a) => inline.test(a.text))) return `${prog} with code on the command line cannot be checked`;
    for (const a of args) {
      const why = systemPath(a);
      if (why) return why;
      // dd of=/dev/sda, --output=/etc/x
      const eq = /^(?:of|--?[a-z-]+)=(.+)$/.exec(a.text);
      if (eq && prog === 'dd') {
        const target: Word = { text: eq[1] as string, glob: false, tilde: (eq[1] as string).startsWith('~') };
        const w = systemPath(target) ?? writable(target);
        if (w && a.text.startsWith('of=')) return `dd ${w}`;
      }
    }
    const problem = programRule(prog, args, writable);
    if (problem) return problem;
  }
  return undefined;
}

function operands(args: readonly Word[]): Word[] {
  const out: Word[] = [];
  let ended = false;
  for (const a of args) {
    if (!ended && a.text === '--') { ended = true; continue; }
    if (!ended && a.text.startsWith('-') && a.text !== '-') continue;
    out.push(a);
  }
  return out;
}

function programRule(prog: string, args: readonly Word[], writable: (w: Word) => string | undefined): string | undefined {
  const flags = args.filter((a) => a.text.startsWith('-') && a.text !== '--').map((a) => a.text);
  switch (prog) {
    case 'rm': case 'rmdir': case 'unlink': case 'shred': case 'truncate': case 'touch': case 'mkdir': case 'tee':
    case 'chmod': case 'chown': case 'chgrp': {
      if (prog === 'rm') {
        const recursive = flags.some((f) => f === '--recursive' || (/^-[a-zA-Z]+$/.test(f) && /[rR]/.test(f)));
        const force = flags.some((f) => f === '--force' || (/^-[a-zA-Z]+$/.test(f) && f.includes('f')));
        if (recursive && force) return 'recursive forced delete (rm -rf)';
      }
      // chmod 755 file: the mode is not a file.
      const files = operands(args).slice(prog === 'chmod' || prog === 'chown' || prog === 'chgrp' ? 1 : 0);
      for (const f of files) {
        if (f.text === '/' || f.text === '/*') return `${prog} of the root directory`;
        const why = writable(f);
        if (why) return `${prog}: ${why}`;
      }
      return undefined;
    }
    case 'cp': case 'mv': case 'install': case 'ln': case 'rsync': {
      const t = args.findIndex((a) => a.text === '-t' || a.text === '--target-directory');
      const direct = args.find((a) => a.text.startsWith('--target-directory='));
      const ops = operands(args);
      // A link to a file outside is a way out for every later write through it.
      if (prog === 'ln') for (const o of ops) { const why = writable(o); if (why) return `ln: ${why.replace('a write', 'a link')}`; }
      const dest = t >= 0 ? args[t + 1] : direct ? { text: direct.text.slice('--target-directory='.length), glob: false, tilde: false } : ops.at(-1);
      if (dest && ops.length + (t >= 0 || direct ? 1 : 0) >= 2) {
        const why = writable(dest);
        if (why) return `${prog}: ${why}`;
      }
      return undefined;
    }
    case 'sed': case 'perl': {
      if (flags.some((f) => /^-[a-zA-Z]*i/.test(f) || f.startsWith('--in-place'))) {
        for (const f of operands(args).slice(1)) { const why = writable(f); if (why) return `${prog} -i: ${why}`; }
      }
      return undefined;
    }
    case 'kill': {
      // kill [-SIG | -s SIG | -n N] [--] pid...: -1 is every process, 0 and negatives are groups, 1 is init.
      let k = 0;
      if (args[0] && /^-(s|n|-signal)$/.test(args[0].text)) k = 2;
      else if (args[0] && args[0].text.startsWith('-') && args[0].text !== '--' && !/^-l|^-L/.test(args[0].text)) k = 1;
      if (args[k]?.text === '--') k++;
      for (const a of args.slice(k)) {
        if (/^-?\d+$/.test(a.text) && (Number(a.text) <= 1)) return 'killing every process, a process group or init (kill -1, 0, 1, -pid)';
      }
      return undefined;
    }
    case 'systemctl':
      return args.some((a) => /^(poweroff|reboot|halt|kexec|suspend|hibernate|hybrid-sleep|isolate|rescue|emergency|default|soft-reboot)$/.test(a.text)) ? 'shutdown or reboot' : undefined;
    case 'find':
      // -exec and friends run other commands; -delete and -fprint write where the search goes.
      return args.some((a) => /^-(exec|execdir|ok|okdir|delete|fprint|fprint0|fprintf|fls)$/.test(a.text)) ? 'find with -exec, -delete or -fprint cannot be checked' : undefined;
    case 'dd':
      return undefined;
    default:
      return undefined;
  }
}
