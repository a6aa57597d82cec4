/**
 * A string-keyed map split over many small maps. A single Map rehashes every entry when it doubles: at a million
 * leads that is a pause of hundreds of milliseconds, during which the simulator reads no request, and then counts
 * the calls that queued meanwhile into one window as no vendor gateway would. Split 64 ways, each rehash moves a
 * sixty-fourth of the entries, and the shards double at different requests.
 */
export class ShardedMap<V> {
  private readonly shards: Map<string, V>[] = Array.from({ length: SHARDS }, () => new Map<string, V>());
  private entries = 0;

  get size(): number {
    return this.entries;
  }

  get(key: string): V | undefined {
    return this.shardOf(key).get(key);
  }

  set(key: string, value: V): void {
    const shard = this.shardOf(key);
    if (!shard.has(key)) this.entries += 1;
    shard.set(key, value);
  }

  delete(key: string): boolean {
    const deleted = this.shardOf(key).delete(key);
    if (deleted) this.entries -= 1;
    return deleted;
  }

  private shardOf(key: string): Map<string, V> {
    return this.shards[fnv1a(key) % SHARDS]!;
  }
}

const SHARDS = 64;

/** FNV-1a over UTF-16 code units: cheap, and spreads keys that differ only in a counter. */
function fnv1a(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
