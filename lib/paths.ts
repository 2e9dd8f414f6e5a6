/** Where the package's own files (boards/, traces/, schemas/) live, from compiled dist/lib/. */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function packagePath(...parts: string[]): string {
  return resolve(packageRoot, ...parts);
}
