import { z } from 'zod';

/** Secrets are named, never written: each is the name of an environment variable the worker reads. */
export const EnvRefSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of an environment variable, not the secret itself');
