import { describe, expect, it } from 'vitest';
import { duration, size } from '../../src/cli/format.js';

describe('numbers for people', () => {
  it('size rounds bytes and gives one decimal above them', () => {
    expect(size(30.95390737615091)).toBe('31 B');
    expect(size(0)).toBe('0 B');
    expect(size(1536)).toBe('1.5 KiB');
    expect(size(5 * 1024 ** 3)).toBe('5.0 GiB');
  });

  it('duration says ms, s or min', () => {
    expect(duration(300)).toBe('300 ms');
    expect(duration(5000)).toBe('5 s');
    expect(duration(1500)).toBe('1.5 s');
    expect(duration(90_000)).toBe('1.5 min');
  });
});
