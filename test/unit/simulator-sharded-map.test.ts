import { describe, expect, it } from 'vitest';
import { ShardedMap } from '../../src/simulation/sharded-map.js';

describe('ShardedMap', () => {
  it('finds every key it was given, among many that differ only in a counter', () => {
    const map = new ShardedMap<number>();

    for (let i = 0; i < 10_000; i++) map.set(`lead-${i}@example.com`, i);

    expect(map.size).toBe(10_000);
    expect(map.get('lead-0@example.com')).toBe(0);
    expect(map.get('lead-9999@example.com')).toBe(9_999);
    expect(map.get('lead-10000@example.com')).toBeUndefined();
  });

  it('replaces the value of a key set twice without counting it twice', () => {
    const map = new ShardedMap<string>();

    map.set('ada@example.com', 'first');
    map.set('ada@example.com', 'second');

    expect(map.size).toBe(1);
    expect(map.get('ada@example.com')).toBe('second');
  });
});
