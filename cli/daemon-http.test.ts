import { describe, expect, it } from 'vitest';
import { parseListen } from './daemon-http.ts';

describe('--listen', () => {
  it('binds to localhost unless a host is named', () => {
    expect(parseListen(':9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListen('0.0.0.0:9464')).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
  });

  it('refuses what is not [host]:port', () => {
    for (const bad of ['9464', 'host:', ':99999', 'a:b']) expect(() => parseListen(bad), bad).toThrow(/is not \[host\]:port/);
  });
});
