import { describe, expect, it } from 'vitest';
import { FirstRowTable, emailHash } from '../../src/rejects/first-row-table.js';

/** A log as FirstRowTable reads it back: the email of each line by the offset the line starts at. */
function logOf(): { emailAt: (offset: number) => string | undefined; reads: number; line(email: string): number } {
  const lines = new Map<number, string>();
  let end = 0;
  const log = {
    reads: 0,
    emailAt(offset: number) {
      log.reads++;
      return lines.get(offset);
    },
    line(email: string) {
      const offset = end;
      lines.set(offset, email);
      end += email.length + 10;
      return offset;
    },
  };
  return log;
}

/** Two emails of the form lead-N@x.io with the same hash: there are about 4 among 200,000. */
function sharingAHash(): [string, string] {
  const seen = new Map<number, string>();
  for (let i = 0; ; i++) {
    const email = `lead-${i}@x.io`;
    const other = seen.get(emailHash(email));
    if (other !== undefined) return [other, email];
    seen.set(emailHash(email), email);
  }
}

describe('the first row of each email, as hashes', () => {
  it('keeps the smallest row of an email whatever order its rows come in, and a repeated row changes nothing', () => {
    const log = logOf();
    const table = new FirstRowTable(log.emailAt);
    table.offer('a@x.io', 5, log.line('a@x.io'));
    table.offer('a@x.io', 3, log.line('a@x.io'));
    table.offer('a@x.io', 5, log.line('a@x.io'));
    table.offer('b@x.io', 4, log.line('b@x.io'));

    expect([9, 3, 2].map((row) => table.firstUpTo('a@x.io', row))).toEqual([3, 3, undefined]);
    expect(table.firstUpTo('b@x.io', 4)).toBe(4);
    expect(table.firstUpTo('c@x.io', 9)).toBeUndefined();
    expect(table.size).toBe(2);
  });

  it('tells apart two emails that share a hash by reading them back from the log', () => {
    const [first, second] = sharingAHash();
    const log = logOf();
    const table = new FirstRowTable(log.emailAt);
    table.offer(first, 1, log.line(first));
    table.offer(second, 2, log.line(second));

    expect(table.firstUpTo(second, 7)).toBe(2);
    expect(table.firstUpTo(first, 7)).toBe(1);
    expect(table.size).toBe(2);
  });

  it("reads nothing back for a lead's own row, however often a retried scan records it", () => {
    const log = logOf();
    const table = new FirstRowTable(log.emailAt);
    for (let row = 1; row <= 1000; row++) table.offer(`lead-${row}@x.io`, row, log.line(`lead-${row}@x.io`));
    for (let row = 1; row <= 1000; row++) table.offer(`lead-${row}@x.io`, row, log.line(`lead-${row}@x.io`));

    expect(table.firstUpTo('lead-500@x.io', 500)).toBe(500);
    expect(log.reads).toBe(0);
  });

  it('holds a lead in under 48 bytes whatever the length of its email', () => {
    const log = logOf();
    const table = new FirstRowTable(log.emailAt);
    const padding = 'x'.repeat(200);
    for (let row = 1; row <= 100_000; row++)
      table.offer(`${padding}-${row}@x.io`, row, log.line(`${padding}-${row}@x.io`));

    expect(table.size).toBe(100_000);
    expect(table.byteLength).toBeLessThan(100_000 * 48);
    expect(table.firstUpTo(`${padding}-99999@x.io`, 100_000)).toBe(99_999);
  });

  it('reads back a line that starts past 4 GiB of log', () => {
    const far = 5 * 2 ** 32 + 7;
    const table = new FirstRowTable((offset) => (offset === far ? 'late@x.io' : undefined));
    table.offer('late@x.io', 8, far);

    expect(table.firstUpTo('late@x.io', 9)).toBe(8);
  });
});
