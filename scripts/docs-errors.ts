/** Writes docs/errors.md from lib/errors.ts (`npm run docs:errors`). */
import { writeFileAtomicSync } from '../lib/atomic-file.js';
import { renderErrorReference } from '../lib/errors-doc.js';
import { packagePath } from '../lib/paths.js';

const file = packagePath('docs', 'errors.md');
writeFileAtomicSync(file, renderErrorReference());
process.stdout.write(`wrote ${file}\n`);
