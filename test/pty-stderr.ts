/**
 * Runs a command with standard error on a real pseudo-terminal and standard output on a pipe
 * (Python's pty module: Node has no pty of its own), so a test sees exactly what a terminal shows
 * and what a pipe reading standard output gets.
 */
import { spawn } from 'node:child_process';

const PY = `
import os, pty, subprocess, sys, json
master, slave = pty.openpty()
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
os.close(slave)
err = b''
while True:
    try:
        chunk = os.read(master, 65536)
    except OSError:
        break
    if not chunk:
        break
    err += chunk
out = p.stdout.read()
code = p.wait()
sys.stdout.write(json.dumps({"code": code, "stdout": out.decode('utf-8', 'replace'), "stderr": err.decode('utf-8', 'replace')}))
`;

export interface PtyRun { code: number; stdout: string; stderr: string }

export function runWithTerminalStderr(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<PtyRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', PY, ...argv], { stdio: ['ignore', 'pipe', 'inherit'], env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => {
      try { resolve(JSON.parse(out) as PtyRun); } catch { reject(new Error(`pty helper exited ${code}: ${out.slice(0, 500)}`)); }
    });
  });
}
