/**
 * Remembers that a document passed its schema, so the next start with the same document does not
 * load the validator (the config schema's compiled validator is ~85 KB of code: several ms of every
 * start on a Pi). The memo is one small file per document in the state directory's cache, naming
 * the document's hash and the validator build it passed; anything else (another document, a new
 * build, an unreadable file) validates again. Only passes are remembered: a failure is always
 * reported fresh.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fastHash } from './hash.js';
import { packagePath } from './paths.js';

function validatorBuild(schema: string): string {
  try {
    const st = statSync(packagePath('dist', 'lib', 'validators', `${schema}.cjs`));
    return `${st.size}:${st.mtimeMs}`;
  } catch {
    return 'none';
  }
}

export interface ValidationMemo {
  /** True when this exact document passed this exact validator build before. */
  passed(): boolean;
  /** Records a pass (best effort: a read-only state directory only costs start-up time). */
  remember(): void;
}

export function validationMemo(cacheDir: string, schema: string, document: unknown): ValidationMemo {
  const text = JSON.stringify(document);
  const key = `${schema} ${validatorBuild(schema)} ${fastHash(text)} ${text.length}`;
  const file = join(cacheDir, `valid-${schema}-${fastHash(key)}`);
  return {
    passed() {
      try { return readFileSync(file, 'utf8') === key; } catch { return false; }
    },
    remember() {
      try { writeFileSync(file, key); } catch { /* no cache directory yet, or read-only */ }
    },
  };
}
