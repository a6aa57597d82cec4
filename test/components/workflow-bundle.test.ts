import { describe, expect, it } from 'vitest';
import { KEYED_CONVERTERS_PATH } from '../../src/temporal/codec.js';
import { bundleWorkflowsApart } from '../../src/worker/bundle.js';

describe('the workflow bundle, built in a process of its own', () => {
  it('holds the workflows and the converters it was asked for', async () => {
    const { code } = await bundleWorkflowsApart({
      payloadConverterPath: KEYED_CONVERTERS_PATH,
      failureConverterPath: KEYED_CONVERTERS_PATH,
    });

    expect(code).toContain('accountGovernor');
    expect(code).toContain('keyed-converters');
  });
});
