import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sourceRef } from '../../src/cli/sync-options.js';
import { ConfigError } from '../../src/core/errors.js';
import { checkMapping } from '../../src/core/mapping.js';

const account = 'acme';

describe('the source flags of sync and schedule create', () => {
  it('builds a PostgreSQL reference from --table, --connection, --key and --cursor-column', () => {
    expect(
      sourceRef({ account, table: 'crm.leads', connection: 'warehouse', key: 'id', cursorColumn: 'updated_at' }),
    ).toEqual({ kind: 'postgres', table: 'crm.leads', connection: 'warehouse', key: 'id', cursorColumn: 'updated_at' });
  });

  it('takes a whole reference as --source-json, with file paths made absolute', () => {
    expect(sourceRef({ account, sourceJson: '{"kind":"ndjson","path":"rows.ndjson"}' })).toEqual({
      kind: 'ndjson',
      path: resolve('rows.ndjson'),
    });
  });

  it('refuses two sources, table flags without --table, and a bad reference, naming the flag or field', () => {
    expect(() => sourceRef({ account, file: 'a.csv', table: 't' })).toThrow(/exactly one.*--file and --table/);
    expect(() => sourceRef({ account, file: 'a.csv', cursorColumn: 'updated_at' })).toThrow(
      /--cursor-column: only with --table/,
    );
    expect(() => sourceRef({ account, table: 'leads', connection: 'warehouse' })).toThrow(/key/);
    expect(() => sourceRef({ account, table: 'leads', connection: 'postgres://u:p@h/db', key: 'id' })).toThrow(
      /connection: must name a configured connection/,
    );
    expect(() => sourceRef({ account, sourceJson: '{' })).toThrow(ConfigError);
  });
});

describe('a mapping checked against the source before the first call', () => {
  it('names the vendor field and the missing column', () => {
    expect(() =>
      checkMapping({ EmailAddress: 'email', FirstName: 'frist_name' }, ['email', 'first_name'], 'EmailAddress'),
    ).toThrow("mapping of FirstName: the source has no column 'frist_name' (columns: email, first_name)");
  });

  it('names the email field when nothing fills it', () => {
    expect(() => checkMapping({ FirstName: 'first_name' }, ['email', 'first_name'], 'EmailAddress')).toThrow(
      /EmailAddress is not mapped/,
    );
  });
});
