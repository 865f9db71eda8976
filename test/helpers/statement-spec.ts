// Checks a statement against test/schema/slsa-provenance-v1.schema.json (the
// in-toto Statement v1 and SLSA Provenance v1 specs, as a JSON Schema), with
// ajv. Every statement the tests produce goes through it: the golden one, the
// 10,000-dependency one and the e2e ones.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const schemaFile = join(__dirname, '..', '..', '..', 'test', 'schema', 'slsa-provenance-v1.schema.json');
let validate: ReturnType<Ajv2020['compile']> | undefined;

export function assertStatementToSpec(statement: unknown): void {
  if (!validate) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
    (addFormats as unknown as (a: Ajv2020) => void)(ajv);
    validate = ajv.compile(JSON.parse(readFileSync(schemaFile, 'utf8')));
  }
  const ok = validate(statement);
  assert.ok(
    ok,
    `statement does not follow the in-toto / SLSA v1 specs:\n${JSON.stringify(validate.errors?.slice(0, 10), null, 2)}`,
  );
}

/** The statement inside a DSSE envelope's payload. */
export const statementOf = (envelope: { payload: string }): unknown =>
  JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
