import { beforeAll, describe, expect, it } from 'vitest';
import { KEYED_CONVERTERS_PATH } from '../../src/temporal/codec.js';
import { bundleWorkflowsApart } from '../../src/worker/bundle.js';

describe('the workflow bundle, built in a process of its own', () => {
  let code: string;
  beforeAll(async () => {
    ({ code } = await bundleWorkflowsApart({
      payloadConverterPath: KEYED_CONVERTERS_PATH,
      failureConverterPath: KEYED_CONVERTERS_PATH,
    }));
  });

  it('holds the workflows and the converters it was asked for', () => {
    expect(code).toContain('accountGovernor');
    expect(code).toContain('keyed-converters');
  });

  it('maps stack traces to the workflow files without carrying their sources', () => {
    // The worker keeps the bundle and its map in both of its V8 isolates: the sources in the map cost about 40 MB.
    const inline = /\/\/# sourceMappingURL=data:application\/json;(?:charset=utf-8;)?base64,(\S+)\s*$/.exec(code);
    expect(inline).not.toBeNull();
    const map = JSON.parse(Buffer.from(inline![1]!, 'base64').toString('utf8')) as {
      sources: string[];
      sourcesContent?: unknown;
    };

    expect(map.sources.some((source) => source.endsWith('workflows/sync.ts'))).toBe(true);
    expect(map.sourcesContent).toBeUndefined();
    expect(code.length).toBeLessThan(2 * 2 ** 20);
  });
});
