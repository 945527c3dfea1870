import { describe, expect, it } from 'vitest';
import { UsageError } from '../core/errors.ts';
import { formatRate, formatSize, parseRate, parseSize } from './size.ts';

describe('sizes', () => {
  it('parse bytes and binary units', () => {
    expect(parseSize('4096', '--x')).toBe(4096);
    expect(parseSize('64KiB', '--x')).toBe(65536);
    expect(parseSize('1MiB', '--x')).toBe(1048576);
    expect(parseSize('16 mib', '--x')).toBe(16 * 1048576);
    expect(parseSize('2GiB', '--x')).toBe(2 * 1024 ** 3);
    expect(parseSize('2TiB', '--x')).toBe(2 * 1024 ** 4);
    expect(parseSize('1 TiB', '--x')).toBe(1024 ** 4);
    expect(parseSize('3PiB', '--x')).toBe(3 * 1024 ** 5);
  });

  it('refuse anything else, naming the flag', () => {
    for (const bad of ['', '1.5MiB', '1MB', '-1', 'lots', '1 TB', '2 parsecs', '1EiB', '9999999PiB']) {
      expect(() => parseSize(bad, '--pack-size')).toThrow(UsageError);
    }
    expect(() => parseSize('1MB', '--pack-size')).toThrow(/--pack-size/);
  });

  it('format as a person reads them', () => {
    expect(formatSize(1048576)).toBe('1 MiB');
    expect(formatSize(19456 * 1024)).toBe('19 MiB');
    expect(formatSize(1000)).toBe('1000 B');
    expect(formatSize(2 * 1024 ** 4)).toBe('2 TiB');
  });
});

describe('rates', () => {
  it('parse a size per second', () => {
    expect(parseRate('50MiB/s', '--bandwidth')).toBe(50 * 1024 ** 2);
    expect(parseRate('512 KiB / s', '--bandwidth')).toBe(512 * 1024);
    expect(parseRate('65536/s', '--bandwidth')).toBe(65536);
    expect(parseRate('1GiB/S', '--bandwidth')).toBe(1024 ** 3);
  });

  it('refuse anything else, naming the flag', () => {
    for (const bad of ['50MiB', '50MB/s', '/s', '0/s', '0MiB/s', '50MiB/h', 'fast', '-1MiB/s']) {
      expect(() => parseRate(bad, '--bandwidth')).toThrow(UsageError);
    }
    expect(() => parseRate('50MiB', '--bandwidth')).toThrow(/--bandwidth "50MiB" is not a rate/);
  });

  it('format as a person reads them', () => {
    expect(formatRate(50 * 1024 ** 2)).toBe('50 MiB/s');
  });
});
