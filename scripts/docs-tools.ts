/** Writes docs/tools.md from the tool modules in safety/tools/ (`npm run docs:tools`). */
import { writeFileAtomicSync } from '../lib/atomic-file.js';
import { packagePath } from '../lib/paths.js';
import { renderToolReference } from '../safety/tools/reference.js';

const file = packagePath('docs', 'tools.md');
writeFileAtomicSync(file, renderToolReference());
process.stdout.write(`wrote ${file}\n`);
