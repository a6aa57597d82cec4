/**
 * What a sync costs in Temporal Cloud's unit, actions: read from the server's own `action` counter (Prometheus), which
 * the server increments where Cloud bills (go.temporal.io/server common/rpc/interceptor/telemetry.go,
 * emitActionMetric): workflow starts and continue-as-new, activity commands and retries, timers, search-attribute
 * upserts, signals, accepted updates, recorded heartbeats, queries. Unlike counting a history, it sees heartbeats and
 * the governor's updates too.
 */
export type ActionCounts = Map<string, number>;

/** The counter by action type for one namespace, as the server reports it now. */
export async function readActions(metricsUrl: string, namespace: string): Promise<ActionCounts> {
  const response = await fetch(metricsUrl, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`${metricsUrl} answered HTTP ${response.status}`);
  const counts: ActionCounts = new Map();
  for (const line of (await response.text()).split('\n')) {
    const match = /^action(?:_total)?\{([^}]*)\}\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...match[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    if (labels.namespace !== namespace) continue;
    const type = labels.action_type ?? 'unknown';
    counts.set(type, (counts.get(type) ?? 0) + Number(match[2]));
  }
  return counts;
}

/** What was counted between two readings, by action type. */
export function actionsSince(before: ActionCounts, after: ActionCounts): ActionCounts {
  const spent: ActionCounts = new Map();
  for (const [type, count] of after) {
    const delta = count - (before.get(type) ?? 0);
    if (delta > 0) spent.set(type, delta);
  }
  return spent;
}

export function totalActions(counts: ActionCounts): number {
  return [...counts.values()].reduce((a, b) => a + b, 0);
}

/** The largest kinds first, scaled by `per`, for a table cell: `ScheduleActivityTask 40, RecordActivityTaskHeartbeat 31`. */
export function describeActions(counts: ActionCounts, per = 1, top = 4): string {
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([type, count]) => `${type.replace(/^(grpc|command|message)_/, '')} ${(count * per).toFixed(0)}`)
    .join(', ');
}

/** `123 (ScheduleActivityTask 40, ...)`, or `-` where the bench could not count. */
export function actionsPerThousandRows(counts: ActionCounts | undefined, rows: number): string {
  if (!counts) return '-';
  const per = 1000 / rows;
  return `${(per * totalActions(counts)).toFixed(0)} (${describeActions(counts, per)})`;
}
