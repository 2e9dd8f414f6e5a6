// Types for dist/lib/generated-validators.js, which scripts/build-validators.mjs generates from
// schemas/*.schema.json with ajv's standalone compiler.
export interface AjvError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}
export interface CompiledValidator {
  (data: unknown): boolean;
  errors?: AjvError[] | null;
}
declare const validators: Record<string, CompiledValidator>;
export default validators;
export declare const config: CompiledValidator;
export declare const board: CompiledValidator;
export declare const trace: CompiledValidator;
export declare const edgeTrace: CompiledValidator;
