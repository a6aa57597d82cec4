import type { RejectsTableReport } from '../core/rejects-ref.js';
import { readRejectsReport } from './files.js';
import { openRowStore, type RowStore, type RowStoreSettings } from './row-store.js';
import { openTableRejectsSink } from './table.js';
import type { Reject } from './types.js';

/** Rejects whose keys are looked up in the row store by one query: memory holds one page, however many there are. */
const LOOKUP_PAGE_ROWS = 1000;

/** A reject as `leadsync rejects show` shows it: with how many runs its row has failed, when the row store holds it. */
export type ShownReject = Reject & { runsFailed?: number };

/** Where a run's rows recur: the row store the config names, and the run's scope in it. */
export interface RecurringRows {
  store: RowStoreSettings;
  scope: string;
}

/**
 * A finished run's rejects in row order, a page at a time: its CSV report (the path as this machine sees it) or its
 * rows of the rejects table. With `recurring`, each carries its row's runs failed from the row store: joined in the
 * table's own query when the store is on the same database, else each page's keys looked up in one query.
 */
export async function* shownRejects(
  report: { file: string } | { table: RejectsTableReport },
  resolvePostgresConnection: (name: string) => string,
  recurring?: RecurringRows,
): AsyncGenerator<ShownReject> {
  if ('file' in report) {
    yield* recurring
      ? countedFrom(readRejectsReport(report.file), recurring, resolvePostgresConnection)
      : readRejectsReport(report.file);
    return;
  }
  const sink = openTableRejectsSink(report.table, resolvePostgresConnection);
  try {
    if (!recurring) {
      yield* sink.read(report.table);
    } else if (
      resolvePostgresConnection(recurring.store.table.connection) === resolvePostgresConnection(report.table.connection)
    ) {
      yield* sink.read(report.table, { table: recurring.store.table.table, scope: recurring.scope });
    } else {
      yield* countedFrom(sink.read(report.table), recurring, resolvePostgresConnection);
    }
  } finally {
    await sink.close();
  }
}

async function* countedFrom(
  rejects: AsyncIterable<Reject>,
  { store: settings, scope }: RecurringRows,
  resolvePostgresConnection: (name: string) => string,
): AsyncGenerator<ShownReject> {
  const store = openRowStore(settings, resolvePostgresConnection);
  try {
    let page: Reject[] = [];
    for await (const reject of rejects) {
      page.push(reject);
      if (page.length < LOOKUP_PAGE_ROWS) continue;
      yield* counted(page, store, scope);
      page = [];
    }
    yield* counted(page, store, scope);
  } finally {
    await store.close();
  }
}

async function* counted(page: readonly Reject[], store: RowStore, scope: string): AsyncGenerator<ShownReject> {
  const keys = [...new Set(page.flatMap((reject) => (reject.key === undefined ? [] : [reject.key])))];
  const runs = await store.runsFailed(scope, keys);
  for (const reject of page) {
    const runsFailed = reject.key === undefined ? undefined : runs.get(reject.key);
    yield runsFailed === undefined ? reject : { ...reject, runsFailed };
  }
}
