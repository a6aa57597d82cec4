import { bundleWorkflowCode } from '@temporalio/worker';
import { z } from 'zod';
import { JsonLogger } from '../observability/logger.js';
import { WORKFLOWS_PATH } from './bundle.js';

/** bundleWorkflowsApart's child: the bundle's code on standard output, webpack's warnings on standard error. */
const converters = z
  .object({ payloadConverterPath: z.string().optional(), failureConverterPath: z.string().optional() })
  .parse(JSON.parse(process.argv[2] ?? '{}'));
const { code } = await bundleWorkflowCode({
  workflowsPath: WORKFLOWS_PATH,
  ...(converters.payloadConverterPath ? { payloadConverterPath: converters.payloadConverterPath } : {}),
  ...(converters.failureConverterPath ? { failureConverterPath: converters.failureConverterPath } : {}),
  logger: new JsonLogger({ level: 'WARN' }),
});
process.stdout.write(code);
