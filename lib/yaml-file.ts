/**
 * YAML with errors that name the file, line and column. The `yaml` package costs ~35 ms to
 * load, so it is required on first use only: a warm start (traces and board from the cache)
 * never loads it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { LlmosError, type ErrorCode } from './errors.js';
import { regularFileProblem } from './usable-path.js';

export type YamlLib = typeof import('yaml');

const require = createRequire(import.meta.url);
let lib: YamlLib | undefined;

export function yamlLib(): YamlLib {
  lib ??= require('yaml') as YamlLib;
  return lib;
}

export function parseYaml(text: string, where: string, code: ErrorCode): unknown {
  const { parse, YAMLParseError } = yamlLib();
  try {
    return parse(text, { prettyErrors: true, strict: true, uniqueKeys: true });
  } catch (e) {
    if (e instanceof YAMLParseError) {
      const pos = e.linePos?.[0];
      const at = pos ? `:${pos.line}:${pos.col}` : '';
      const first = (e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
      throw new LlmosError(code, `${where}${at}: invalid YAML: ${first}`, undefined, { cause: e });
    }
    throw new LlmosError(code, `${where}: invalid YAML: ${(e as Error).message}`, undefined, { cause: e });
  }
}

export function readYamlFile(path: string, code: ErrorCode): unknown {
  // Read whole: /dev/zero or a FIFO would never end.
  const problem = regularFileProblem(path);
  if (problem) throw new LlmosError('ERR_PATH_UNUSABLE', `${path}: ${problem}; give the path of a YAML file`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code;
    throw new LlmosError(errno === 'ENOENT' ? 'ERR_CONFIG_NOT_FOUND' : code, `${path}: cannot read (${errno ?? (e as Error).message})`, undefined, { cause: e });
  }
  return parseYaml(text, path, code);
}

export function stringifyYaml(value: unknown): string {
  return yamlLib().stringify(value, { lineWidth: 0 });
}
