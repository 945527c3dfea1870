import { describe, expect, it } from 'vitest';
import { UsageError } from '../core/errors.ts';
import { formatSize, parseSize } from './size.ts';

describe('sizes', () => {
  it('parse bytes and binary units', () => {
    expect(parseSize('4096', '--x')).toBe(4096);
    expect(parseSize('64KiB', '--x')).toBe(65536);
    expect(parseSize('1MiB', '--x')).toBe(1048576);
    expect(parseSize('16 mib', '--x')).toBe(16 * 1048576);
    expect(parseSize('2GiB', '--x')).toBe(2 * 1024 ** 3);
  });

  it('refuse anything else, naming the flag', () => {
    for (const bad of ['', '1.5MiB', '1MB', '-1', 'lots', '1 TiB']) {
      expect(() => parseSize(bad, '--pack-size')).toThrow(UsageError);
    }
    expect(() => parseSize('1MB', '--pack-size')).toThrow(/--pack-size/);
  });

  it('format as a person reads them', () => {
    expect(formatSize(1048576)).toBe('1 MiB');
    expect(formatSize(19456 * 1024)).toBe('19 MiB');
    expect(formatSize(1000)).toBe('1000 B');
  });
});
