import { z } from 'zod';
import { ConfigError } from './errors.js';

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

/** Vendor field name -> how to fill it. */
export const MappingSchema = z.record(z.string().min(1), FieldMappingSchema);
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
        `mapping of ${field}: the source has no column '${column}' (columns: ${columns.join(', ')})`,
      );
    }
  }
  if (!Object.hasOwn(mapping, emailField)) {
    throw new ConfigError(
      `mapping: ${emailField} is not mapped; every lead needs one (columns: ${columns.join(', ')})`,
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
