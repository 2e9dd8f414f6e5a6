/**
 * The simulated twin of a serial device: serialport's own stream code over
 * @serialport/binding-mock, with a small controller on the far end that answers each line (the
 * same controller the sim board answers with), and a plug you can pull: `unplug()` makes the
 * port fail the way a USB adapter does when it is yanked, `plugIn()` brings it back.
 */
import { createRequire } from 'node:module';
import type { SerialBinding, SerialBindingPort } from '../connection.js';
import type { ActuatorValue } from '../../types.js';
import { controllerReply } from '../../sim/sim.js';

/** The part of @serialport/binding-mock used here (its types do not resolve under NodeNext). */
interface MockPort extends SerialBindingPort { emitData(data: string | Buffer): void }
interface MockBindingModule {
  MockBinding: {
    createPort(path: string, options: { echo?: boolean; record?: boolean }): void;
    open(options: { path: string; baudRate: number }): Promise<MockPort>;
    list(): Promise<unknown[]>;
  };
}

export interface SerialTwinOptions {
  /** Answers one line; default: the sim controller (PING, STATUS, VERSION, LED, GRIP). */
  reply?: (line: string) => string | undefined;
  /** How long the device takes to answer a line (default: the next turn of the event loop). */
  replyDelayMs?: (line: string) => number;
  delimiter?: string;
}

export class SerialTwin {
  readonly binding: SerialBinding;
  /** Every line the device received, in order. */
  readonly received: string[] = [];
  private plugged = true;
  private readonly ports = new Set<{ fail: (e: Error) => void }>();
  private readonly state = new Map<string, ActuatorValue>();
  private readonly mock: MockBindingModule['MockBinding'];

  private readonly options: SerialTwinOptions;

  constructor(paths: readonly string[], options: SerialTwinOptions = {}) {
    this.options = options;
    this.mock = (createRequire(import.meta.url)('@serialport/binding-mock') as MockBindingModule).MockBinding;
    for (const path of paths) this.mock.createPort(path, { echo: false, record: false });
    this.binding = {
      list: () => this.mock.list(),
      open: async (opts: { path: string; baudRate: number }) => {
        if (!this.plugged) throw Object.assign(new Error(`Error: No such file or directory, cannot open ${opts.path}`), { code: 'ENOENT' });
        return this.wrap(await this.mock.open(opts));
      },
    };
  }

  get isPlugged(): boolean {
    return this.plugged;
  }

  /** The cable is pulled: pending reads and writes fail, and opening fails until plugIn(). */
  unplug(): void {
    this.plugged = false;
    for (const p of [...this.ports]) p.fail(new Error('device disconnected (EIO)'));
  }

  plugIn(): void {
    this.plugged = true;
  }

  private wrap(port: MockPort): SerialBindingPort {
    const delimiter = this.options.delimiter ?? '\n';
    let buffered = '';
    let fail: (e: Error) => void = () => undefined;
    const failed = new Promise<never>((_, reject) => { fail = reject; });
    failed.catch(() => undefined);
    const handle = { fail };
    this.ports.add(handle);
    const origRead = port.read.bind(port);
    const origWrite = port.write.bind(port);
    const origClose = port.close.bind(port);
    const twin = this;
    port.read = (buffer: Buffer, offset: number, length: number) => Promise.race([origRead(buffer, offset, length), failed]);
    port.write = async (buffer: Buffer) => {
      if (!twin.plugged) throw new Error('device disconnected (EIO)');
      await origWrite(buffer);
      buffered += buffer.toString('utf8');
      let i: number;
      while ((i = buffered.indexOf(delimiter)) >= 0) {
        const line = buffered.slice(0, i).replace(/\r$/, '');
        buffered = buffered.slice(i + delimiter.length);
        twin.received.push(line);
        const reply = (twin.options.reply ?? ((l: string) => controllerReply(l, twin.state)))(line);
        // Answer on a later turn, as a device on the far end of a cable would.
        const send = (): void => { if (port.isOpen && twin.plugged) port.emitData(`${reply}${delimiter}`); };
        const delay = twin.options.replyDelayMs?.(line) ?? 0;
        if (reply !== undefined) { if (delay > 0) setTimeout(send, delay); else setImmediate(send); }
      }
    };
    port.close = async () => {
      twin.ports.delete(handle);
      await origClose();
    };
    return port;
  }
}
