/** YAML parsing with errors that name the file, line and column. */
import { readFileSync } from 'node:fs';
import { parse, YAMLParseError } from 'yaml';
import { LlmosError, type ErrorCode } from './errors.js';

export function parseYaml(text: string, where: string, code: ErrorCode): unknown {
  try {
    return parse(text, { prettyErrors: false, strict: true, uniqueKeys: true });
  } catch (e) {
    if (e instanceof YAMLParseError) {
      const pos = e.linePos?.[0];
      const at = pos ? `:${pos.line}:${pos.col}` : '';
      throw new LlmosError(code, `${where}${at}: invalid YAML: ${e.message.split('\n')[0]}`, undefined, { cause: e });
    }
    throw new LlmosError(code, `${where}: invalid YAML: ${(e as Error).message}`, undefined, { cause: e });
  }
}

export function readYamlFile(path: string, code: ErrorCode): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code;
    throw new LlmosError(errno === 'ENOENT' ? 'ERR_CONFIG_NOT_FOUND' : code, `${path}: cannot read (${errno ?? (e as Error).message})`, undefined, { cause: e });
  }
  return parseYaml(text, path, code);
}
