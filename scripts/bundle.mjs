// Bundles each command-line entry point into one file under dist/bin/. Node's ES module loader
// costs ~0.5-1 ms per module on a Pi-class CPU, so one file instead of ~50 shortens start-up;
// packages in node_modules stay external and still load lazily.
import { build } from 'esbuild';
import { chmodSync, writeFileSync } from 'node:fs';
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
await build({
  entryPoints: Object.fromEntries(Object.entries(entries).map(([k, v]) => [`${k}.main`, join(root, v)])),
  outdir: join(root, 'dist', 'bin'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});
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
