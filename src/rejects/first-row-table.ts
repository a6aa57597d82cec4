/** Reads the email of the log line that starts at a byte offset: how two emails sharing a hash are told apart. */
export type EmailAt = (offset: number) => string | undefined;

/** Per slot: the email's hash, its first row (0 for a free slot: rows count from 1), and where its line starts. */
const STRIDE = 4;
const FREE = 0;
/** Full beyond this share of its slots, the table doubles: probes stay short. */
const MAX_LOAD = 0.75;
const MAX_ROW = 0xffff_ffff;
const HIGH = 2 ** 32;

/**
 * Email -> the first row carrying it, in 16 bytes a slot outside the JavaScript heap whatever the email's length,
 * where a Map of strings takes about 100 bytes a lead on the heap (a million-row sync, 100 MB more for the garbage
 * collector to carry). The table holds each email's hash, not the email: a hash two emails share (one lookup in
 * millions at a million leads) is told apart by reading the emails back from the log the rows came from.
 */
export class FirstRowTable {
  private slots: Uint32Array;
  private count = 0;

  constructor(private readonly emailAt: EmailAt) {
    this.slots = new Uint32Array(1024 * STRIDE);
  }

  get size(): number {
    return this.count;
  }

  /** What the table holds in memory, in bytes. */
  get byteLength(): number {
    return this.slots.byteLength;
  }

  /** The first row of `email` when it is `row` or before it: the lead's own row, or the row it duplicates. */
  firstUpTo(email: string, row: number): number | undefined {
    const hash = emailHash(email);
    for (let at = this.home(hash); this.slots[at + 1] !== FREE; at = this.next(at)) {
      const held = this.slots[at + 1]!;
      if (this.slots[at] !== hash || held > row) continue;
      // One row carries one email: the row's own entry needs no reading back.
      if (held === row || this.emailAt(this.offsetAt(at)) === email) return held;
    }
    return undefined;
  }

  /** Records that `row`, whose log line starts at `offset`, carries `email`: the smallest row of an email stays. */
  offer(email: string, row: number, offset: number): void {
    if (!Number.isInteger(row) || row < 1 || row > MAX_ROW) throw new RangeError(`row ${row} is out of range`);
    const hash = emailHash(email);
    let at = this.home(hash);
    for (; this.slots[at + 1] !== FREE; at = this.next(at)) {
      const held = this.slots[at + 1]!;
      if (this.slots[at] !== hash) continue;
      if (held === row) return;
      if (this.emailAt(this.offsetAt(at)) !== email) continue;
      if (row < held) this.put(at, hash, row, offset);
      return;
    }
    this.put(at, hash, row, offset);
    if (++this.count > MAX_LOAD * this.capacity) this.grow();
  }

  clear(): void {
    this.slots = new Uint32Array(1024 * STRIDE);
    this.count = 0;
  }

  private get capacity(): number {
    return this.slots.length / STRIDE;
  }

  private home(hash: number): number {
    return (hash & (this.capacity - 1)) * STRIDE;
  }

  private next(at: number): number {
    return (at + STRIDE) % this.slots.length;
  }

  private offsetAt(at: number): number {
    return this.slots[at + 3]! * HIGH + this.slots[at + 2]!;
  }

  private put(at: number, hash: number, row: number, offset: number): void {
    this.slots[at] = hash;
    this.slots[at + 1] = row;
    this.slots[at + 2] = offset % HIGH;
    this.slots[at + 3] = Math.floor(offset / HIGH);
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    for (let from = 0; from < old.length; from += STRIDE) {
      if (old[from + 1] === FREE) continue;
      let at = this.home(old[from]!);
      while (this.slots[at + 1] !== FREE) at = this.next(at);
      this.slots.set(old.subarray(from, from + STRIDE), at);
    }
  }
}

/** FNV-1a over the email's UTF-16 code units, mixed (MurmurHash3's finaliser) so its low bits pick the slot. */
export function emailHash(email: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < email.length; i++) hash = Math.imul(hash ^ email.charCodeAt(i), 0x01000193);
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}
