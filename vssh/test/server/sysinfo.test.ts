import net from 'node:net';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { parseFailedUnits, parseNvidiaSmi, parseProcNetTcp, sysinfo } from '../../src/server/sysinfo.js';

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0
   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4243 1 0000000000000000 100 0 0 10 0
   2: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 4244 1 0000000000000000 20 4 30 10 -1
`;

const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:0277 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5000 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000000000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5001 1 0000000000000000 100 0 0 10 0
   2: B80D0120000000000000000001000000:BC6B 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5002 1 0000000000000000 100 0 0 10 0
   3: 00000000000000000000000001000000:0277 00000000000000000000000001000000:9C40 06 00000000:00000000 03:00000F35 00000000     0        0 0 3 0000000000000000
`;

describe('parseProcNetTcp', () => {
  it('decodes little-endian IPv4 and keeps only LISTEN sockets', () => {
    expect(parseProcNetTcp(TCP, 'tcp')).toEqual([
      { proto: 'tcp', address: '127.0.0.1', port: 8080 },
      { proto: 'tcp', address: '0.0.0.0', port: 22 },
    ]);
  });

  it('decodes IPv6 written as four little-endian 32-bit words', () => {
    expect(parseProcNetTcp(TCP6, 'tcp6')).toEqual([
      { proto: 'tcp6', address: '::1', port: 631 },
      { proto: 'tcp6', address: '::', port: 443 },
      { proto: 'tcp6', address: '2001:db8::1', port: 48235 },
    ]);
  });

  it('returns nothing for an empty or header-only file', () => {
    expect(parseProcNetTcp('', 'tcp')).toEqual([]);
    expect(parseProcNetTcp(TCP.split('\n')[0] ?? '', 'tcp')).toEqual([]);
  });
});

describe('parseNvidiaSmi', () => {
  it('reads two GPUs, in bytes, with [N/A] as null', () => {
    const csv = '0, NVIDIA A100-SXM4-40GB, 40960, 1234, 15, 34\n1, NVIDIA GeForce RTX 4090, 24564, 0, [N/A], [Not Supported]\n';
    expect(parseNvidiaSmi(csv)).toEqual([
      { index: 0, name: 'NVIDIA A100-SXM4-40GB', memoryTotalBytes: 40960 * 2 ** 20, memoryUsedBytes: 1234 * 2 ** 20, utilizationPercent: 15, temperatureC: 34 },
      { index: 1, name: 'NVIDIA GeForce RTX 4090', memoryTotalBytes: 24564 * 2 ** 20, memoryUsedBytes: 0, utilizationPercent: null, temperatureC: null },
    ]);
  });

  it('reads no GPUs from empty output', () => {
    expect(parseNvidiaSmi('')).toEqual([]);
  });
});

describe('parseFailedUnits', () => {
  it('takes the first column of each line', () => {
    const text = 'nginx.service loaded failed failed A high performance web server\n● foo.mount     loaded failed failed /foo\n';
    expect(parseFailedUnits(text)).toEqual(['nginx.service', 'foo.mount']);
  });

  it('reads an empty list as no failed units', () => {
    expect(parseFailedUnits('')).toEqual([]);
    expect(parseFailedUnits('\n')).toEqual([]);
  });
});

describe('sysinfo on this machine', () => {
  it('reports cpu, memory, the root disk, uptime and a socket we open', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      const info = await sysinfo();

      expect(info.cpu.count).toBe(os.cpus().length);
      expect(Math.abs(info.memory.totalBytes - os.totalmem())).toBeLessThanOrEqual(os.totalmem() * 0.01);
      expect(info.memory.usedBytes + info.memory.availableBytes).toBe(info.memory.totalBytes);
      expect(info.uptimeS).toBeGreaterThan(0);
      expect(Date.parse(info.time)).not.toBeNaN();

      const root = info.disks.find((d) => d.mount === '/');
      expect(root, `no '/' in ${JSON.stringify(info.disks)}; notes: ${info.notes.join('; ')}`).toBeDefined();
      expect(root!.totalBytes).toBeGreaterThan(0);
      expect(root!.usedBytes + root!.availableBytes).toBeLessThanOrEqual(root!.totalBytes);
      expect(new Set(info.disks.map((d) => d.mount)).size).toBe(info.disks.length);

      expect(info.listening).toContainEqual({ proto: 'tcp', address: '127.0.0.1', port });
      expect(info.listening.map((p) => p.port)).toEqual([...info.listening.map((p) => p.port)].sort((a, b) => a - b));
    } finally {
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    }
  });
});
