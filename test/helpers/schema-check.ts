// A JSON Schema from test/schema/ or schemas/, compiled once with ajv (2020-12, strict):
// validate(name)(value) → the errors, or [] when the value follows the schema.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const root = join(__dirname, '..', '..', '..');
const compiled = new Map<string, ReturnType<Ajv2020['compile']>>();

/** path: relative to the repository, e.g. "test/schema/slsa-vsa-v1.schema.json". */
export function schemaErrors(path: string, value: unknown): string[] {
  let validate = compiled.get(path);
  if (!validate) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
    (addFormats as unknown as (a: Ajv2020) => void)(ajv);
    validate = ajv.compile(JSON.parse(readFileSync(join(root, path), 'utf8')));
    compiled.set(path, validate);
  }
  return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
}
