/**
 * Hashes. `fastHash` (FNV-1a, 64 bits as hex) names cache files and versions; it needs no module.
 * `sha256Hex` is for contracts that specify SHA-256 (goal signatures, bundles); node:crypto costs
 * ~2.5 MB and a few ms to load, so it is required on first use.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let crypto: typeof import('node:crypto') | undefined;

export function sha256Hex(text: string | Buffer): string {
  return sha256(text, 'hex');
}

export function sha256(data: string | Buffer, encoding: 'hex' | 'base64'): string {
  crypto ??= require('node:crypto') as typeof import('node:crypto');
  return crypto.createHash('sha256').update(data).digest(encoding);
}

/** FNV-1a, 32 bits, as a number: a compact key (the matcher's exact-text lookup; always verified). */
export function fnv32(text: string): number {
  let a = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) a = Math.imul(a ^ text.charCodeAt(i), 0x01000193);
  return a >>> 0;
}

export function fastHash(text: string): string {
  // Two 32-bit FNV-1a lanes with different offsets give a 64-bit key without BigInt.
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (a >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
