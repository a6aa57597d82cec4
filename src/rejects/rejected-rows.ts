import type { RejectsOwner } from '../core/rejects-ref.js';
import type { RejectedRow, RejectedRows } from '../sources/source-kind.js';
import type { Reject, RejectsSink } from './types.js';

/**
 * A finished run's rejected rows, each once, as `leadsync rejects retry` reads them: from its rejects, in row order,
 * read from the start up to the rows asked for (each scan of a retry asks for the next few pages of rows). The rows
 * the vendor refused without naming them cannot be found again, and are left out. Closes the sink with it.
 */
export function rejectedRowsOf(sink: RejectsSink, owner: RejectsOwner): RejectedRows {
  return {
    async after(after, limit) {
      const rows: RejectedRow[] = [];
      for await (const row of distinctRows(sink.read(owner))) {
        if (row.row <= after) continue;
        if (rows.length === limit) break;
        rows.push(row);
      }
      return rows;
    },
    async count() {
      let rows = 0;
      for await (const _ of distinctRows(sink.read(owner))) rows++;
      return rows;
    },
    close: () => sink.close(),
  };
}

/** Each row rejects name, once (a row has a line per bad field, one after another), with its key when kept. */
export async function* distinctRows(rejects: AsyncIterable<Reject>): AsyncGenerator<RejectedRow> {
  let last: number | undefined;
  for await (const { row, key } of rejects) {
    if (row === undefined || row === last) continue;
    last = row;
    yield key === undefined ? { row } : { row, key };
  }
}
