/**
 * A minimal ustar reader and writer for regular files, so trace bundles can be .tar files with no
 * native dependency. Writes what `tar -xf` reads; reads what `tar -cf` writes for small text
 * files (ustar and GNU long names; pax headers and directory entries are skipped).
 */
import { LlmosError, type ErrorCode } from './errors.js';

const BLOCK = 512;

function field(buf: Buffer, offset: number, length: number, value: string): void {
  buf.write(value, offset, Math.min(length, Buffer.byteLength(value)), 'utf8');
}

function octal(n: number, length: number): string {
  return `${n.toString(8).padStart(length - 1, '0')}\0`;
}

function header(name: string, size: number, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    // ustar splits long paths at a slash into prefix (155) and name (100).
    const cut = name.lastIndexOf('/', 155);
    if (cut <= 0 || Buffer.byteLength(name.slice(cut + 1)) > 100) throw new LlmosError('ERR_INTERNAL', `tar: path too long: ${name}`);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
  }
  field(h, 0, 100, base);
  field(h, 100, 8, '0000644\0');
  field(h, 108, 8, '0000000\0');
  field(h, 116, 8, '0000000\0');
  field(h, 124, 12, octal(size, 12));
  field(h, 136, 12, octal(Math.floor(mtime / 1000), 12));
  field(h, 148, 8, '        ');
  field(h, 156, 1, '0');
  field(h, 257, 6, 'ustar\0');
  field(h, 263, 2, '00');
  field(h, 345, 155, prefix);
  let sum = 0;
  for (const b of h) sum += b;
  field(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

export function writeTar(files: ReadonlyArray<{ path: string; data: Buffer }>, mtime = Date.now()): Buffer {
  const parts: Buffer[] = [];
  for (const f of files) {
    parts.push(header(f.path, f.data.length, mtime), f.data);
    const pad = (BLOCK - (f.data.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad, 0));
  }
  parts.push(Buffer.alloc(2 * BLOCK, 0));
  return Buffer.concat(parts);
}

function cstr(buf: Buffer, offset: number, length: number): string {
  const slice = buf.subarray(offset, offset + length);
  const end = slice.indexOf(0);
  return slice.subarray(0, end === -1 ? length : end).toString('utf8');
}

/** Regular files of a tar archive, paths without a leading "./". */
export function readTar(buf: Buffer, where: string, code: ErrorCode): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let offset = 0;
  let longName: string | undefined;
  if (buf.length < BLOCK) throw new LlmosError(code, `${where}: not a tar archive (${buf.length} bytes, shorter than one header)`);
  while (offset + BLOCK <= buf.length) {
    const h = buf.subarray(offset, offset + BLOCK);
    if (h.every((b) => b === 0)) break;
    const stored = parseInt(cstr(h, 148, 8).trim(), 8);
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (h[i] as number);
    if (stored !== sum) throw new LlmosError(code, `${where}: not a tar archive (bad header checksum at byte ${offset})`);
    const sizeField = cstr(h, 124, 12).trim() || '0';
    if (!/^[0-7]+$/.test(sizeField)) throw new LlmosError(code, `${where}: not a tar archive (bad size field at byte ${offset})`);
    const size = parseInt(sizeField, 8);
    const type = String.fromCharCode(h[156] as number);
    const dataStart = offset + BLOCK;
    if (dataStart + size > buf.length) throw new LlmosError(code, `${where}: truncated tar archive`);
    const data = buf.subarray(dataStart, dataStart + size);
    const prefix = cstr(h, 257, 6) === 'ustar' ? cstr(h, 345, 155) : '';
    let name = longName ?? (prefix ? `${prefix}/${cstr(h, 0, 100)}` : cstr(h, 0, 100));
    longName = undefined;
    name = name.replace(/^(\.\/)+/, '');
    if (type === 'L') longName = cstr(data, 0, data.length);
    else if (type === '0' || type === '\0' || type === '7') out.set(name, Buffer.from(data));
    else if (!['5', 'x', 'g'].includes(type)) throw new LlmosError(code, `${where}: ${name}: unsupported tar entry type "${type}"`);
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;
  }
  return out;
}
