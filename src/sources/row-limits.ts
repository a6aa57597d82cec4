// What one row of a file may hold, however the file was made: a row past these is rejected, never a worker's memory.

/** A row (a CSV record, an NDJSON line) past this size is a quote left open or not rows at all. */
export const MAX_ROW_BYTES = 1024 * 1024;

/**
 * The most columns a file may have (a CSV header's, the keys of the rows an NDJSON file is sampled by) and the most
 * fields a row may carry: a line of a million commas would otherwise be a million fields held at once. Well above
 * any export of leads (a spreadsheet ends at 16,384 columns, and a mapping takes at most 500 of them).
 */
export const MAX_COLUMNS = 10_000;
