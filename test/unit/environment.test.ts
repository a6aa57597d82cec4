import { describe, expect, it } from 'vitest';
import { readEnvironment } from '../../src/config/environment.js';
import { ConfigError } from '../../src/core/errors.js';

describe('the environment leadsync reads', () => {
  it('defaults to the local dev server when nothing is set', () => {
    expect(readEnvironment({})).toMatchObject({
      TEMPORAL_ADDRESS: 'localhost:7233',
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_UI_URL: 'http://localhost:8233',
    });
  });

  it('treats a blank variable as unset', () => {
    expect(readEnvironment({ TEMPORAL_ADDRESS: '  ', LEADSYNC_CONFIG: '' })).toMatchObject({
      TEMPORAL_ADDRESS: 'localhost:7233',
      LEADSYNC_CONFIG: undefined,
    });
  });

  it('names the variable whose value is malformed', () => {
    expect(() => readEnvironment({ TEMPORAL_ADDRESS: 'http://temporal:7233' })).toThrow(ConfigError);
    expect(() => readEnvironment({ TEMPORAL_ADDRESS: 'http://temporal:7233' })).toThrow(
      /TEMPORAL_ADDRESS: expected host:port/,
    );
    expect(() => readEnvironment({ TEMPORAL_UI_URL: 'not a url' })).toThrow(/TEMPORAL_UI_URL/);
  });
});
