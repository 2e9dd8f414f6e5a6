/**
 * Child process: an emulated Uno (avr-uno.ts) behind a pseudo-terminal made by socat. socat's
 * `wait-slave` holds the data until a program opens the pty; that open resets the board, as
 * opening a real Uno's USB serial port does (DTR), so every connection sees the sketch boot and
 * StandardFirmata's version report. When the program closes the port socat exits and a new pty
 * is made at the same path. The parent drives inputs and reads pin measurements over IPC.
 *
 * Started by uno.ts with LLMOS_AVR_HOST=1 (node --test may load this file as a test: then it does nothing).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { AvrUno, UNO_FREQ } from './avr-uno.js';

export type HostRequest =
  | { op: 'input'; pin: number; high: boolean | null }
  | { op: 'analog'; channel: number; volts: number }
  | { op: 'query'; id: number; what: 'pulses' | 'level' | 'duty' | 'clear' | 'speed'; pin: number }
  | { op: 'stop' };

export type HostMessage =
  | { type: 'listening'; gen: number; path: string }
  | { type: 'connected'; gen: number }
  | { type: 'closed'; gen: number }
  | { type: 'reply'; id: number; value: unknown }
  | { type: 'error'; message: string };

interface HostOptions { hex: string; link: string; socat: string }

function main(o: HostOptions): void {
  const send = (m: HostMessage): void => { if (process.connected) process.send?.(m); };
  const inputs = new Map<number, boolean | null>();
  const analog = new Map<number, number>();
  let uno: AvrUno | undefined;
  /** The board of the last connection: its pins stay readable after the program closed the port. */
  let last: AvrUno | undefined;
  let socat: ChildProcess | undefined;
  let gen = 0;
  let stopping = false;
  let startedAt = 0;
  let emulated = 0;
  let closedAt = Infinity;
  let wall = 0;

  const boot = (): AvrUno => {
    const u = new AvrUno(o.hex);
    for (const [pin, high] of inputs) u.setInput(pin, high);
    for (const [ch, v] of analog) u.setAnalog(ch, v);
    return u;
  };

  const startSocat = (): void => {
    if (stopping) return;
    const myGen = ++gen;
    const p = spawn(o.socat, ['-d', '-d', `PTY,link=${o.link},rawer,wait-slave`, 'STDIO'], { stdio: ['pipe', 'pipe', 'pipe'] });
    socat = p;
    let err = '';
    p.stderr.setEncoding('utf8');
    p.stderr.on('data', (d: string) => {
      err += d;
      if (process.env['LLMOS_AVR_DEBUG']) process.stderr.write(d);
      // socat names the pty before it makes the link: announce it once the path exists.
      if (/PTY is /.test(d)) {
        const poll = (): void => { if (socat !== p) return; if (existsSync(o.link)) send({ type: 'listening', gen: myGen, path: o.link }); else setTimeout(poll, 5); };
        poll();
      }
      // The program closed the port: socat would wait for our side to end too.
      // (A real Uno keeps running its sketch after the port closes: so does this one, until the next open resets it.)
      if (/probably PTY closed|\(fd 5\) is at EOF/.test(d) && socat === p) p.kill('SIGTERM');
      if (/starting data transfer loop/.test(d) && socat === p) {
        // The program opened the port: the board resets and boots.
        clearTimeout(timer);
        timer = undefined;
        uno = boot();
        last = uno;
        uno.onTransmit = (b) => { if (socat === p) tx.push(b); };
        startedAt = performance.now();
        emulated = 0;
        closedAt = Infinity;
        send({ type: 'connected', gen: myGen });
        schedule();
      }
    });
    p.stdout.on('data', (d: Buffer) => { if (socat === p) uno?.receive(d); });
    p.stdin.on('error', () => undefined);
    p.on('exit', (code) => {
      if (socat !== p) return;
      socat = undefined;
      closedAt = emulated;
      send({ type: 'closed', gen: myGen });
      if (code !== 0 && code !== null && !stopping && !/exiting with status 0/.test(err)) send({ type: 'error', message: `socat exited with ${String(code)}: ${err.slice(-500)}` });
      startSocat();
    });
  };

  const tx: number[] = [];
  let timer: NodeJS.Timeout | undefined;
  const schedule = (delay = 0): void => {
    if (timer || !uno) return;
    timer = setTimeout(() => { timer = undefined; slice(); }, delay);
  };
  // Paced to real time in slices of at most 10 ms of emulated time; when behind, as fast as it can.
  const slice = (): void => {
    const u = uno;
    if (!u) return;
    const t0 = performance.now();
    const due = (t0 - startedAt) * (UNO_FREQ / 1000) - emulated;
    if (due > 0) {
      const n = Math.min(due, UNO_FREQ / 100);
      u.run(n);
      emulated += n;
      wall += performance.now() - t0;
    }
    if (tx.length > 0 && socat?.stdin?.writable) socat.stdin.write(Buffer.from(tx.splice(0)));
    // With nobody connected the sketch runs on for 2 s (pins stay measurable), then pauses to spare the CPU.
    if (!socat && emulated - closedAt > 2 * UNO_FREQ) return;
    schedule(due > UNO_FREQ / 1000 ? 0 : 1);
  };

  process.on('message', (m: HostRequest) => {
    switch (m.op) {
      case 'input': inputs.set(m.pin, m.high); uno?.setInput(m.pin, m.high); return;
      case 'analog': analog.set(m.channel, m.volts); uno?.setAnalog(m.channel, m.volts); return;
      case 'query': {
        let value: unknown = null;
        if (m.what === 'speed') value = wall > 0 ? (emulated / UNO_FREQ) / (wall / 1000) : null;
        else if (last) {
          if (m.what === 'pulses') value = last.pulses(m.pin);
          else if (m.what === 'level') value = last.level(m.pin);
          else if (m.what === 'duty') value = last.duty(m.pin);
          else { last.clearPulses(m.pin); value = true; }
        }
        send({ type: 'reply', id: m.id, value });
        return;
      }
      case 'stop':
        stopping = true;
        clearTimeout(timer);
        socat?.kill('SIGTERM');
        process.disconnect();
    }
  });
  process.on('disconnect', () => { stopping = true; clearTimeout(timer); socat?.kill('SIGTERM'); });
  startSocat();
}

if (process.env['LLMOS_AVR_HOST'] === '1' && process.send) {
  main({ hex: process.env['LLMOS_AVR_HEX'] as string, link: process.env['LLMOS_AVR_LINK'] as string, socat: process.env['LLMOS_AVR_SOCAT'] ?? 'socat' });
}
