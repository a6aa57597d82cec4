// Workflow-safe: pure arithmetic on workflow time.

/**
 * What a lane's chunks in flight still hold, reckoned at the lane's rate from when they began to be sent: the end of
 * the source is split between the lanes by what each still holds (src/core/tail-split.ts), and counting every chunk in
 * flight as full, as before, misjudged a lane by up to a whole 15-s chunk: an Enterprise sync's last rows went to the
 * lane that was behind, which ran on 15 s after the other (82% of the plan; 96% is the steady state).
 *
 * Reckoned for the lane, not chunk by chunk: a lane's slots go to its chunks in the order their calls first asked,
 * which is the order their activities started on a worker, not the order the workflow scheduled them (a task queue's
 * partitions hand them out in any order, seconds apart).
 */
export class LaneBacklog {
  /** Rows of the chunks in flight. */
  private rows = 0;
  /** When the lane, at its rate, began sending the rows in flight. */
  private since = 0;

  start(rows: number, now: number): void {
    if (this.rows === 0) this.since = now;
    this.rows += rows;
  }

  /**
   * A chunk of `rows` ended (done, failed or stopped): what the lane sent beyond it, by its rate, goes to the chunks
   * still in flight; a chunk ending sooner than its rate says leaves them as they were.
   */
  end(rows: number, rowsPerSecond: number, now: number): void {
    const beyond = Math.max(0, this.sent(rowsPerSecond, now) - rows);
    this.rows = Math.max(0, this.rows - rows);
    this.since = now - (Math.min(beyond, this.rows) / rowsPerSecond) * 1000;
  }

  /** Rows the chunks in flight still hold. */
  rowsLeft(rowsPerSecond: number, now: number): number {
    return this.rows - this.sent(rowsPerSecond, now);
  }

  private sent(rowsPerSecond: number, now: number): number {
    return Math.min(this.rows, (Math.max(0, now - this.since) / 1000) * rowsPerSecond);
  }
}
