import type { z } from 'zod';
import { ConfigError, formatZodIssues } from '../core/errors.js';
import { ADMIN_PATH, answerAdmin, isAdminRequest, type AdminApi } from './admin.js';
import { startJsonServer } from './json-server.js';
import { answerVendorRequest, type SimulationState, type VendorProtocol } from './pipeline.js';
import type { ReportOptions, RunningSimulator, StateReport } from './simulator.js';

/** A simulator's options (or flags) checked by its schema: a ConfigError says, for `what`, which are wrong. */
export function parseOptions<S extends z.ZodType>(schema: S, options: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(options);
  if (!parsed.success) throw new ConfigError(`invalid ${what}:\n${formatZodIssues(parsed.error)}`);
  return parsed.data;
}

export interface SimulatorServer {
  vendor: string;
  listen: { host: string; port: number };
  /** Where the vendor's API is under the origin: `/v2/`, `/api/v1`. */
  apiPrefix: string;
  protocol: VendorProtocol;
  state: SimulationState;
  /** The admin API but for faults, which are the state's, and a report without connections, which are the server's. */
  admin: Omit<AdminApi, 'setFaults' | 'report'> & { report(options: ReportOptions): StateReport };
  /** What else stopping takes (SmartLead's shared-key tenant), before the server closes. */
  beforeStop?(): void;
}

/**
 * Listens for one vendor simulator: the admin API under its path, every other request through the vendor's protocol.
 * The result is what every simulator has in common; a vendor's own adds its stores and knobs.
 */
export async function serveSimulator(simulator: SimulatorServer): Promise<RunningSimulator> {
  const { protocol, state } = simulator;
  const admin: AdminApi = {
    ...simulator.admin,
    // Called only once the server below has started.
    report: (options) => ({ ...simulator.admin.report(options), connections: server.connections() }),
    setFaults: (faults) => state.faults.set(faults),
  };
  const server = await startJsonServer(
    (request) =>
      isAdminRequest(request) ? answerAdmin(request, admin) : answerVendorRequest(request, protocol, state),
    // A test's or a bench's own report requests are not the client's connections.
    { ...simulator.listen, counted: (url) => !isAdminRequest({ url }) },
  );
  return {
    vendor: simulator.vendor,
    baseUrl: `${server.origin}${simulator.apiPrefix}`,
    adminUrl: `${server.origin}${ADMIN_PATH}`,
    report: (options) => admin.report(options ?? {}),
    rowWrites: (kind) => state.log.rowWrites(kind),
    setFaults: (faults) => admin.setFaults(faults),
    reset: () => admin.reset(),
    stop: () => {
      simulator.beforeStop?.();
      return server.close();
    },
  };
}
