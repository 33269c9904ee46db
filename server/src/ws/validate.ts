import Ajv, { type ValidateFunction } from 'ajv';
import { utf16Lengths } from '../ajv-options';
import { clientFrameSchemas, type ClientFrame, type ClientFrameType } from '../../../contract/frames';

export type ParseResult =
  { ok: true; frame: ClientFrame } | { ok: false; code: 'bad_frame' | 'unknown_type'; message: string; ref?: string };

// removeAdditional drops fields the schema does not name (a spoofed `from`, say) instead of
// refusing the frame, so newer clients can add optional fields without breaking older servers.
// Lengths count UTF-16 units (ajv-options.ts).
const ajv = new Ajv({ allErrors: false, removeAdditional: true, strict: true, ...utf16Lengths });
const validators = Object.fromEntries(
  Object.entries(clientFrameSchemas).map(([type, schema]) => [type, ajv.compile(schema)]),
) as Record<ClientFrameType, ValidateFunction>;

function isFrameType(type: string): type is ClientFrameType {
  return Object.prototype.hasOwnProperty.call(validators, type);
}

/** Parses one text frame against the protocol's schemas; never throws. */
export function parseClientFrame(text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, code: 'bad_frame', message: 'the frame is not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, code: 'bad_frame', message: 'the frame is not a JSON object' };
  }
  const record = value as Record<string, unknown>;
  const ref = typeof record.cid === 'string' ? record.cid : undefined;
  const type = record.type;
  if (typeof type !== 'string') {
    return { ok: false, code: 'bad_frame', message: 'the frame has no "type"', ref };
  }
  if (!isFrameType(type)) {
    return { ok: false, code: 'unknown_type', message: `unknown frame type "${type.slice(0, 40)}"`, ref };
  }
  const validate = validators[type];
  if (!validate(record)) {
    const error = validate.errors?.[0];
    const where = error?.instancePath ? `"${error.instancePath.slice(1)}"` : 'the frame';
    return { ok: false, code: 'bad_frame', message: `${type}: ${where} ${error?.message ?? 'is invalid'}`, ref };
  }
  return { ok: true, frame: record as ClientFrame };
}
