// Bundles each command-line entry point into one file under dist/bin/. Node's ES module loader
// costs ~0.5-1 ms per module on a Pi-class CPU, so one file instead of ~50 shortens start-up;
// packages in node_modules stay external and still load lazily.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entries = {
  'run-follower': 'dist/scripts/run-follower.js',
  'run-agentic-follower': 'dist/scripts/run-agentic-follower.js',
  'bench-boot-child': 'dist/scripts/bench/boot-child.js',
  llmos: 'dist/scripts/llmos.js',
};
await build({
  entryPoints: Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, join(root, v)])),
  outdir: join(root, 'dist', 'bin'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});
console.error(`bundled: ${Object.keys(entries).join(', ')} -> dist/bin/`);
