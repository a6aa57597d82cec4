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
  // The SDK needs the map inline (it maps workflow stack traces with it), not the sources inside it nor columns: the
  // map is then 0.2 MB instead of 2.1, and the worker keeps it, parsed and compiled, in both of its V8 isolates
  // (the workflows' thread and the main one), about 40 MB of RSS for its whole life (bench/RESULTS.md).
  webpackConfigHook: (config) => ({ ...config, devtool: 'inline-nosources-cheap-module-source-map' }),
});
process.stdout.write(code);
