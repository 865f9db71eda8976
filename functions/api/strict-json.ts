// The proto3 JSON mapping writes 64-bit integers as decimal strings ("4242"),
// but @bufbuild/protobuf reads them with BigInt(), which also takes "0x10",
// "0o17", "0b1" and " 42 ". Two spellings of one number are two documents
// to a reviewer and one to the service, so every integer field in a JSON
// body must be a JSON number or a plain decimal string. This walks the parsed
// JSON beside the message descriptor and names the first field that is not.
import { ScalarType, type DescField, type DescMessage } from '@bufbuild/protobuf';
import { InvalidFieldError } from '../domain/errors.js';

const INTEGER_SCALARS = new Set<ScalarType>([
  ScalarType.INT64,
  ScalarType.UINT64,
  ScalarType.SINT64,
  ScalarType.FIXED64,
  ScalarType.SFIXED64,
  ScalarType.INT32,
  ScalarType.UINT32,
  ScalarType.SINT32,
  ScalarType.FIXED32,
  ScalarType.SFIXED32,
]);
const DECIMAL = /^-?(0|[1-9][0-9]*)$/;

const cache = new WeakMap<DescMessage, boolean>();

/** Whether a message (or one nested in it) has an integer field: only those need the walk. */
export function hasIntegerFields(schema: DescMessage, seen = new Set<DescMessage>()): boolean {
  const known = cache.get(schema);
  if (known !== undefined) return known;
  if (seen.has(schema)) return false;
  seen.add(schema);
  const result = schema.fields.some((f) => {
    const scalar =
      f.fieldKind === 'scalar' ? f.scalar : f.fieldKind === 'list' || f.fieldKind === 'map' ? f.scalar : undefined;
    if (scalar !== undefined && INTEGER_SCALARS.has(scalar)) return true;
    const message =
      f.fieldKind === 'message'
        ? f.message
        : (f.fieldKind === 'list' || f.fieldKind === 'map') && f.message
          ? f.message
          : undefined;
    return message !== undefined && hasIntegerFields(message, seen);
  });
  cache.set(schema, result);
  return result;
}

/** Throws InvalidFieldError (naming the field by its proto path) for an integer given in a non-decimal string. */
export function strictJson(schema: DescMessage, json: unknown, path = ''): void {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return; // fromJson reports shape errors
  const obj = json as Record<string, unknown>;
  for (const field of schema.fields) {
    const value = field.jsonName in obj ? obj[field.jsonName] : obj[field.name];
    if (value === undefined || value === null) continue;
    const name = path ? `${path}.${field.name}` : field.name;
    checkField(field, value, name);
  }
}

function checkField(field: DescField, value: unknown, name: string): void {
  switch (field.fieldKind) {
    case 'scalar':
      checkScalar(field.scalar, value, name);
      return;
    case 'message':
      strictJson(field.message, value, name);
      return;
    case 'list':
      if (!Array.isArray(value)) return;
      for (const [i, item] of value.entries()) {
        if (field.listKind === 'scalar') checkScalar(field.scalar, item, `${name}[${i}]`);
        else if (field.listKind === 'message') strictJson(field.message, item, `${name}[${i}]`);
      }
      return;
    case 'map':
      if (value === null || typeof value !== 'object') return;
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (field.mapKind === 'scalar') checkScalar(field.scalar, v, `${name}.${k}`);
        else if (field.mapKind === 'message') strictJson(field.message, v, `${name}.${k}`);
      }
      return;
    default:
      return;
  }
}

function checkScalar(scalar: ScalarType, value: unknown, name: string): void {
  if (INTEGER_SCALARS.has(scalar) && typeof value === 'string' && !DECIMAL.test(value)) {
    throw new InvalidFieldError(
      name,
      `"${value.length > 40 ? `${value.slice(0, 37)}...` : value}" is not a decimal integer (send 4242 or "4242")`,
    );
  }
}
