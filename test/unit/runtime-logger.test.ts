import type { LogLevel } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { JsonLogger } from '../../src/observability/logger.js';
import { withExpectedWarningsDemoted } from '../../src/observability/runtime.js';

describe("the runtime's logger", () => {
  const logged = (level: LogLevel) => {
    const lines: string[] = [];
    const logger = withExpectedWarningsDemoted(new JsonLogger({ level, sink: { write: (line) => lines.push(line) } }));
    return { logger, lines: () => lines.map((line) => JSON.parse(line) as { level: string; msg: string }) };
  };

  it("says the SDK's warning that an activity-only lane worker polls no workflow tasks at DEBUG", () => {
    const { logger, lines } = logged('DEBUG');

    logger.warn('No workflows registered, not polling for workflow tasks', { taskQueue: 'leadsync.x.general' });

    expect(lines()).toEqual([expect.objectContaining({ level: 'debug' })]);
  });

  it('passes every other warning on as a warning', () => {
    const { logger, lines } = logged('WARN');

    logger.warn('Activity failed');
    logger.log('WARN', 'No workflows registered, not polling for workflow tasks');

    expect(lines()).toEqual([expect.objectContaining({ level: 'warn', msg: 'Activity failed' })]);
  });
});
