import { z } from 'zod';
import { ConfigError, listNames } from './errors.js';

const TransformSchema = z.enum(['trim', 'lower', 'upper']);
type Transform = z.infer<typeof TransformSchema>;

/**
 * How one vendor field is filled: from a source column (by name, optionally transformed), or a constant.
 * A bare string is shorthand for `{ column: <string> }`.
 */
export const FieldMappingSchema = z.union([
  z.string().min(1),
  z.object({ column: z.string().min(1), transforms: z.array(TransformSchema).optional() }).strict(),
  z.object({ value: z.string() }).strict(),
]);

const FieldsSchema = z.record(z.string().min(1), FieldMappingSchema);

/**
 * A mapping crosses Temporal in the sync's input and in every chunk task, and every row goes through each of its
 * fields: these bound it far above any vendor's list of fields.
 */
export const MAX_MAPPING_FIELDS = 500;
/** The longest vendor field name or source column name a mapping may carry, in characters. */
export const MAX_MAPPING_NAME_LENGTH = 200;
/** The longest constant a mapping may give a field, in characters. */
export const MAX_MAPPING_VALUE_LENGTH = 1_000;
const MAX_TRANSFORMS = TransformSchema.options.length;

/**
 * The mapping's size, checked before its shape: a mapping of 50,000 fields is one error, not 50,000 entries parsed
 * and listed. A name too long to echo is shown by its start.
 */
function checkMappingSize(mapping: unknown, ctx: z.RefinementCtx): void {
  if (typeof mapping !== 'object' || mapping === null) return;
  const fields = Object.keys(mapping);
  if (fields.length > MAX_MAPPING_FIELDS) {
    ctx.addIssue({
      code: 'custom',
      message: `the mapping has ${fields.length} fields, over the ${MAX_MAPPING_FIELDS} a mapping may have: map only the fields the sync writes`,
    });
    return;
  }
  const over = (what: string, length: number, max: number) =>
    `${what} is ${length} characters, over the ${max} allowed`;
  for (const field of fields) {
    const path = [field.length > MAX_MAPPING_NAME_LENGTH ? `${field.slice(0, 40)}…` : field];
    const problem = (message: string, ...rest: string[]) =>
      ctx.addIssue({ code: 'custom', path: [...path, ...rest], message });
    if (field.length > MAX_MAPPING_NAME_LENGTH) {
      problem(over('the vendor field name', field.length, MAX_MAPPING_NAME_LENGTH));
    }
    const spec: unknown = (mapping as Record<string, unknown>)[field];
    const entry = typeof spec === 'object' && spec !== null ? (spec as Record<string, unknown>) : {};
    const column = typeof spec === 'string' ? spec : entry.column;
    if (typeof column === 'string' && column.length > MAX_MAPPING_NAME_LENGTH) {
      problem(
        over('the column name', column.length, MAX_MAPPING_NAME_LENGTH),
        ...(typeof spec === 'string' ? [] : ['column']),
      );
    }
    if (typeof entry.value === 'string' && entry.value.length > MAX_MAPPING_VALUE_LENGTH) {
      problem(over('the constant', entry.value.length, MAX_MAPPING_VALUE_LENGTH), 'value');
    }
    if (Array.isArray(entry.transforms) && entry.transforms.length > MAX_TRANSFORMS) {
      problem(
        `${entry.transforms.length} transforms, over the ${MAX_TRANSFORMS} allowed (trim, lower, upper)`,
        'transforms',
      );
    }
  }
}

/** Vendor field name -> how to fill it. */
export const MappingSchema = z.custom<z.input<typeof FieldsSchema>>().superRefine(checkMappingSize).pipe(FieldsSchema);
export type Mapping = z.infer<typeof MappingSchema>;

const TRANSFORMS: Record<Transform, (value: string) => string> = {
  trim: (v) => v.trim(),
  lower: (v) => v.toLowerCase(),
  upper: (v) => v.toUpperCase(),
};

/** Every column the mapping reads must exist in the source: checked before the first vendor call. */
export function checkMapping(mapping: Mapping, columns: readonly string[], emailField: string): void {
  const known = new Set(columns);
  for (const [field, spec] of Object.entries(mapping)) {
    const column = typeof spec === 'string' ? spec : 'column' in spec ? spec.column : undefined;
    if (column !== undefined && !known.has(column)) {
      throw new ConfigError(
        `mapping of ${field}: the source has no column '${column}' (columns: ${listNames(columns)})`,
      );
    }
  }
  if (!Object.hasOwn(mapping, emailField)) {
    throw new ConfigError(
      `mapping: ${emailField} is not mapped; every lead needs one (columns: ${listNames(columns)})`,
    );
  }
}

/** Without a mapping, columns that already carry the vendor's field names map to themselves. */
export function identityMapping(columns: readonly string[]): Mapping {
  return Object.fromEntries(columns.map((c) => [c, c]));
}

/**
 * Fills the vendor fields of one row. Values are trimmed unless the mapping lists its own transforms;
 * the email field is also lower-cased, since every vendor matches leads by email.
 */
export function applyMapping(
  mapping: Mapping,
  values: Record<string, string>,
  emailField: string,
): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [field, spec] of Object.entries(mapping)) {
    if (typeof spec !== 'string' && 'value' in spec) {
      fields[field] = spec.value;
      continue;
    }
    const column = typeof spec === 'string' ? spec : spec.column;
    const defaults: Transform[] = field === emailField ? ['trim', 'lower'] : ['trim'];
    const transforms = typeof spec === 'string' ? defaults : (spec.transforms ?? defaults);
    // An own property only: a column named `constructor` is not Object's.
    const value = transforms.reduce((v, t) => TRANSFORMS[t](v), Object.hasOwn(values, column) ? values[column]! : '');
    if (value !== '') fields[field] = value;
  }
  return fields;
}
