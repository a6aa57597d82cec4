import { z } from 'zod';

/**
 * The `temporal` section of a leadsync config file: where the cluster is and how to authenticate, for workers and
 * the CLI alike. Files are paths; the API key is the name of the variable holding it, never the key. Environment
 * variables set for the process win over it, as the CLI's do over its config file.
 */
export const TemporalConfigSchema = z
  .object({
    address: z
      .string()
      .regex(/^[^\s:/]+:\d{1,5}$/, 'expected host:port, e.g. localhost:7233')
      .optional(),
    namespace: z.string().min(1).optional(),
    tls: z
      .object({
        enabled: z.boolean().optional(),
        cert: z.string().min(1).optional(),
        key: z.string().min(1).optional(),
        ca: z.string().min(1).optional(),
        serverName: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    apiKeyEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of an environment variable, not the key itself')
      .optional(),
  })
  .strict();
export type TemporalConfig = z.infer<typeof TemporalConfigSchema>;
