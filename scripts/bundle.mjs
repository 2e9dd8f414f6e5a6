// Bundles each command-line entry point into one file under dist/bin/. Node's ES module loader
// costs ~0.5-1 ms per module on a Pi-class CPU, so one file instead of ~50 shortens start-up;
// packages in node_modules stay external and still load lazily.
import { build } from 'esbuild';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entries = {
  'run-follower': 'dist/scripts/run-follower.js',
  'run-agentic-follower': 'dist/scripts/run-agentic-follower.js',
  llmos: 'dist/scripts/llmos.js',
  // The forwarding client alone: loaded before the runtime, which a forwarded goal never needs.
  forward: 'dist/runtime/owner/client.js',
};
/** Commands that send their goals to a running owner before loading the runtime at all. */
const forwarding = new Set(['run-follower', 'run-agentic-follower']);
// The matcher's lexicon key, computed once here from the modules being bundled (see
// lexiconFingerprint in runtime/matcher/matcher.ts): a start then hashes nothing.
const { computeLexiconFingerprint } = await import(join(root, 'dist', 'runtime', 'matcher', 'matcher.js'));
await build({
  define: { LLMOS_LEXICON_KEY: JSON.stringify(computeLexiconFingerprint()) },
  entryPoints: Object.fromEntries(Object.entries(entries).map(([k, v]) => [`${k}.main`, join(root, v)])),
  outdir: join(root, 'dist', 'bin'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});
// One character beyond Latin-1 (a ’ in a regular expression) makes V8 keep the whole source as a
// two-byte string: 1.3 MB instead of 0.64 MB held for the process's life. esbuild leaves regular
// expression literals as written, so escape what it left: \uXXXX means the same in strings,
// templates, regular expressions and comments.
for (const name of Object.keys(entries)) {
  const file = join(root, 'dist', 'bin', `${name}.main.js`);
  const text = readFileSync(file, 'utf8');
  const ascii = text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (ascii !== text) writeFileSync(file, ascii);
}
// Each command is a three-line launcher: Node >= 22.1 then keeps the compiled bundle between
// runs (module.enableCompileCache), which a Pi feels at every start; older Node skips it.
for (const name of Object.keys(entries)) {
  if (name === 'forward') continue;
  const file = join(root, 'dist', 'bin', `${name}.js`);
  const run = forwarding.has(name)
    ? `const { forwardFromArgv } = await import('./forward.main.js');\nconst code = await forwardFromArgv('${name}', process.argv.slice(2));\nif (code === undefined) await import('./${name}.main.js');\nelse process.exitCode = code;\n`
    : `await import('./${name}.main.js');\n`;
  writeFileSync(file, `#!/usr/bin/env node\nimport module from 'node:module';\nmodule.enableCompileCache?.();\n${run}`);
  chmodSync(file, 0o755);
}
console.error(`bundled: ${Object.keys(entries).join(', ')} -> dist/bin/`);
