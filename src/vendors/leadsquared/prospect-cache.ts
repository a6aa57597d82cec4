/**
 * ProspectIDs by lower-cased email, least recently used first out. The seed's own advice: look a lead up once
 * and reuse its id, since every lookup spends from the same small rate limit as the writes.
 */
export class ProspectIdCache {
  private readonly ids = new Map<string, string>();

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer`);
  }

  get(email: string): string | undefined {
    const key = email.toLowerCase();
    const id = this.ids.get(key);
    if (id !== undefined) {
      // A Map iterates in insertion order: re-inserting makes this the most recently used.
      this.ids.delete(key);
      this.ids.set(key, id);
    }
    return id;
  }

  set(email: string, prospectId: string): void {
    const key = email.toLowerCase();
    this.ids.delete(key);
    this.ids.set(key, prospectId);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.keys().next();
      if (!oldest.done) this.ids.delete(oldest.value);
    }
  }

  get size(): number {
    return this.ids.size;
  }
}
