import { describe, expect, it } from 'vitest';
import { WireError } from '../../src/errors.js';
import { parseDump } from '../../src/wg/show.js';

// Output of `wg show wire0 dump`, as wg prints it: tab-separated, the interface line first.
const DUMP = [
  ['cHJpdmF0ZS1rZXktbmV2ZXIta2VwdC1ieS10aGUtcGFyc2U=', 'UHViS2V5T2ZUaGlzSW50ZXJmYWNlQUFBQUFBQUFBQUE=', '51820', 'off'].join('\t'),
  ['cGVlci1vbmUtcHVibGljLWtleS0wMTIzNDU2Nzg5YWI=', '(none)', '192.168.77.11:51820', '10.99.0.2/32', '1763800000', '1234', '5678', '25'].join('\t'),
  ['cGVlci10d28tcHVibGljLWtleS0wMTIzNDU2Nzg5YWI=', '(none)', '(none)', '10.99.0.3/32,10.99.0.4/32', '0', '0', '0', 'off'].join('\t'),
  ['cGVlci10aHJlZS1wdWJsaWMta2V5LTAxMjM0NTY3ODk=', '(none)', '[fd00::1]:51820', '(none)', '0', '0', '0', 'off'].join('\t'),
].join('\n') + '\n';

describe('parseDump', () => {
  it('reads the interface and every peer, and drops the private key', () => {
    const live = parseDump(DUMP);
    expect(live.publicKey).toBe('UHViS2V5T2ZUaGlzSW50ZXJmYWNlQUFBQUFBQUFBQUE=');
    expect(live.listenPort).toBe(51820);
    expect(JSON.stringify(live)).not.toContain('cHJpdmF0ZS1rZXk');
    expect(live.peers).toEqual([
      { publicKey: 'cGVlci1vbmUtcHVibGljLWtleS0wMTIzNDU2Nzg5YWI=', endpoint: '192.168.77.11:51820', allowedIps: ['10.99.0.2/32'], latestHandshake: 1763800000, rxBytes: 1234, txBytes: 5678, keepalive: 25 },
      { publicKey: 'cGVlci10d28tcHVibGljLWtleS0wMTIzNDU2Nzg5YWI=', endpoint: null, allowedIps: ['10.99.0.3/32', '10.99.0.4/32'], latestHandshake: 0, rxBytes: 0, txBytes: 0, keepalive: null },
      { publicKey: 'cGVlci10aHJlZS1wdWJsaWMta2V5LTAxMjM0NTY3ODk=', endpoint: '[fd00::1]:51820', allowedIps: [], latestHandshake: 0, rxBytes: 0, txBytes: 0, keepalive: null },
    ]);
  });

  it('refuses output that is not a dump', () => {
    expect(() => parseDump('')).toThrow(WireError);
    expect(() => parseDump('a\tb\tc\td\nshort\tline\n')).toThrow(/3|2 fields|expected 8/);
    expect(() => parseDump('a\tb\t1\toff\nk\t(none)\t(none)\t(none)\tsoon\t0\t0\toff\n')).toThrow(/not a number/);
  });
});
