import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseEtime, parsePs, selectProcs } from '../../src/facts/ps.js';
import { parseProcesses, parseSs, splitHostPort } from '../../src/facts/ss.js';
import { parseGpuCsv } from '../../src/facts/nvidiasmi.js';
import { parseSensorsJson, parseThermal } from '../../src/facts/sensors.js';
import { parseUnitsJson, parseUnitsPlain, unitsArgv } from '../../src/facts/systemctl.js';
import { parseDpkg, parseRpm } from '../../src/facts/packages.js';
import { parseBashProbe, parseNodeProbe } from '../../src/facts/matrix.js';
import { compareMaps, portScope } from '../../src/facts/diff.js';
import { ParseError } from '../../src/facts/tool.js';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/facts/${name}`, import.meta.url), 'utf8');

describe('ss (real output of this machine)', () => {
  it('reads TCP and UDP sockets, v4, v6, wildcard and scoped, with their processes', () => {
    const s = parseSs(fixture('ss-tlnup.stdout'));
    const by = (port: number) => s.find((x) => x.port === port)!;
    expect(s.map((x) => `${x.proto} ${x.address} ${x.port}`)).toEqual([
      'tcp 127.0.0.53 53', 'tcp 0.0.0.0 2024', 'udp 0.0.0.0 5353', 'tcp * 8080', 'tcp ::1 9090', 'tcp 127.0.0.1 48291', 'udp * 51820',
    ]);
    expect(by(48291).processes).toEqual([{ name: 'node', pid: 9340, fd: 19 }]);
    expect(by(2024).processes).toEqual([]); // a socket whose owner ss cannot see
    expect(by(53).processes[0]!.name).toBe('python3');
  });

  it('a process name with quotes, commas and a parenthesis, held by two processes', () => {
    const s = parseSs(fixture('ss-hostile.stdout'));
    const tcp = s.find((x) => x.port === 7777)!;
    expect(tcp.processes).toEqual([{ name: 'a"b,c', pid: 9897, fd: 3 }, { name: 'a"b,c', pid: 9895, fd: 3 }]);
    expect(s.find((x) => x.port === 7778)!.proto).toBe('udp');
  });

  it('the Netid column is optional (ss -Htln), and garbage is a ParseError naming the line', () => {
    expect(parseSs('LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\n')).toEqual([{ proto: 'tcp', address: '0.0.0.0', port: 22, processes: [] }]);
    expect(() => parseSs('tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\nState Recv-Q Send-Q\n')).toThrow(ParseError);
    expect(() => parseSs('tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\nState Recv-Q Send-Q\n')).toThrow(/line 2/);
    expect(() => parseSs('tcp LISTEN x y 0.0.0.0:22')).toThrow(/queue/);
    expect(splitHostPort('[fe80::1%eth0]:22')).toEqual({ address: 'fe80::1%eth0', port: 22 });
    expect(splitHostPort('nocolon')).toBeNull();
    expect(parseProcesses('users:(("x",pid=1,fd=2))')).toEqual([{ name: 'x', pid: 1, fd: 2 }]);
  });
});

const HEADER = '  PID  PPID USER                             %CPU %MEM   RSS     ELAPSED COMMAND         COMMAND\n';

describe('ps (real output of this machine)', () => {
  it('reads every process; comm with a space stays apart from args', () => {
    const all = parsePs(fixture('ps.stdout'));
    expect(all.length).toBe(fixture('ps.stdout').trim().split('\n').length - 1); // less the header
    const mine = all.find((p) => p.comm === 'my proc')!;
    expect(mine).toMatchObject({ pid: 9339, ppid: 1, user: 'root', comm: 'my proc', args: '/tmp/my proc 30', rssBytes: 1792 * 1024, elapsedS: 1 });
    const init = all.find((p) => p.pid === 1)!;
    expect(init.args.startsWith('/process_api')).toBe(true);
    expect(init.elapsedS).toBe(1 * 3600 + 44 * 60 + 57); // 01:44:57
    expect(all.find((p) => p.pid === 2)!.args).toBe('[kthreadd]');
  });

  it('a hostile name with quotes, commas, a parenthesis and a space', () => {
    const p = parsePs(fixture('ps-hostile.stdout')).find((x) => x.pid === 9895)!;
    expect(p.comm).toBe('a"b,c) d');
    expect(p.args.startsWith('/tmp/a"b,c) d -c import socket')).toBe(true);
    expect(p.cpuPercent).toBe(1.9);
  });

  it('elapsed times, and lines that are not ps columns', () => {
    expect(parseEtime('05')).toBeNull();
    expect(parseEtime('01:02')).toBe(62);
    expect(parseEtime('3-04:05:06')).toBe(3 * 86400 + 4 * 3600 + 5 * 60 + 6);
    expect(() => parsePs('  PID  PPID USER\n')).toThrow(/line 1: the header/);
    expect(() => parsePs('    1     0 root 0.0 0.0 100 01:00 init /sbin/init\n')).toThrow(/line 1: the header/);
    expect(() => parsePs(`${HEADER}    1     0 root 0.0 0.0 100 yesterday init /sbin/init\n`)).toThrow(ParseError);
    expect(parsePs('')).toEqual([]);
  });

  it('a column that outgrew its width (a zombie on CI had etime 441077234-00:18:40) does not shift comm and args', () => {
    const rows = [
      // ps took the 7 extra columns of etime out of comm's padding: args is still under its header
      ' 9835  9779 root                              0.0  0.0     0 441077234-00:18:40 ps       [ps] <defunct>',
      // a name with a space, the same overflow
      ' 9836  9779 root                              0.0  0.0     0 441077234-00:18:40 my proc  /tmp/my proc 30',
      // comm's padding was too narrow to take the excess: args is pushed right, comm is the next word
      ' 9837  9779 root                              0.0  0.0     0 441077234-00:18:40 kworker/0:1-eve [kworker/0:1-events]',
    ];
    const p = parsePs(HEADER + rows.join('\n') + '\n');
    expect(p.map((x) => [x.pid, x.comm, x.args])).toEqual([
      [9835, 'ps', '[ps] <defunct>'],
      [9836, 'my proc', '/tmp/my proc 30'],
      [9837, 'kworker/0:1-eve', '[kworker/0:1-events]'],
    ]);
    expect(p[0]!.elapsedS).toBe(441077234 * 86400 + 18 * 60 + 40);
  });

  it('selectProcs sorts by CPU, greps comm and args, keeps the top N and leaves itself out', () => {
    const all = parsePs(fixture('ps-hostile.stdout'));
    const top = selectProcs(all, { top: 1 });
    expect(top.procs).toHaveLength(1);
    expect(top.procs[0]!.cpuPercent).toBe(Math.max(...all.map((p) => p.cpuPercent)));
    const g = selectProcs(all, { grep: 'B,C)' });
    expect(g.procs.map((p) => p.pid).sort()).toEqual([9895, 9897]);
    expect(selectProcs(all, {}, (p) => p.pid === 9895).total).toBe(all.length - 1);
    expect(selectProcs(all, { sort: 'rss' }).procs[0]!.rssBytes).toBe(Math.max(...all.map((p) => p.rssBytes)));
  });
});

describe('nvidia-smi (written to its documented CSV format: no GPU here)', () => {
  it('reads GPUs; [N/A] and [Not Supported] are null; a name with a comma is whole', () => {
    const g = parseGpuCsv(fixture('nvidia-smi-query.stdout'));
    expect(g).toHaveLength(3);
    expect(g[0]).toMatchObject({ index: 0, name: 'NVIDIA A100-SXM4-80GB', driver: '535.129.03', busId: '00000000:01:00.0', memoryTotalBytes: 81920 * 1024 * 1024, temperatureC: 34, powerW: 61.52, fanPercent: null });
    expect(g[1]).toMatchObject({ utilizationPercent: 97, memoryUtilizationPercent: 45, fanPercent: 65, temperatureC: 78 });
    expect(g[2]).toMatchObject({ name: 'Tesla T4, Rev. B', memoryUsedBytes: null, utilizationPercent: null, powerW: null, fanPercent: 30 });
  });
  it('a short line or a bad index is a ParseError', () => {
    expect(() => parseGpuCsv('0, GPU-x, 00:01.0\n')).toThrow(/fields/);
    expect(() => parseGpuCsv(fixture('nvidia-smi-nodriver.stdout'))).toThrow(ParseError);
    expect(parseGpuCsv('')).toEqual([]);
  });
});

describe('sensors -j', () => {
  it('no chip (real output of this machine): an empty object, no readings', () => {
    expect(parseSensorsJson(fixture('sensors-none.stdout'))).toEqual([]);
    expect(fixture('sensors-none.stderr')).toContain('No sensors found!');
  });
  it('chips (written to lm-sensors\' chips_json.c format): temps, fans, voltages, power, alarms', () => {
    const r = parseSensorsJson(fixture('sensors-chips.stdout'));
    const get = (chip: string, label: string) => r.find((x) => x.chip === chip && x.label === label)!;
    expect(get('coretemp-isa-0000', 'Package id 0')).toEqual({ chip: 'coretemp-isa-0000', adapter: 'ISA adapter', label: 'Package id 0', kind: 'temp', input: 52, min: null, max: 80, crit: 100, alarm: false });
    expect(get('coretemp-isa-0000', 'Core 0').alarm).toBe(true);
    expect(get('nct6775-isa-0290', 'fan1')).toMatchObject({ kind: 'fan', input: 1205, min: 0 });
    expect(get('nct6775-isa-0290', 'in0')).toMatchObject({ kind: 'in', input: 0.88, max: 1.744 });
    expect(get('nct6775-isa-0290', 'SYSTIN')).toMatchObject({ kind: 'temp', input: 34, max: 80 }); // max_hyst is not max
    expect(get('nct6775-isa-0290', 'intrusion0')).toMatchObject({ kind: 'intrusion', input: null, alarm: true });
    expect(get('nvme-pci-0100', 'Composite')).toMatchObject({ min: -273.15, crit: 84.85 });
    expect(get('amdgpu-pci-0300', 'PPT')).toMatchObject({ kind: 'power', input: 35 });
    expect(r).toHaveLength(8);
  });
  it('broken JSON is a ParseError; thermal zones are read from their tab lines', () => {
    expect(() => parseSensorsJson('{"a": {')).toThrow(/not JSON/);
    expect(() => parseSensorsJson('[1]')).toThrow(/object/);
    expect(parseThermal('thermal_zone0\tx86_pkg_temp\t47000\nthermal_zone1\t\t-5000\n')).toMatchObject([{ chip: 'thermal_zone0', label: 'x86_pkg_temp', input: 47 }, { label: 'thermal_zone1', input: -5 }]);
    expect(() => parseThermal('thermal_zone0\tacpitz\n')).toThrow(ParseError);
  });
});

describe('systemctl (written to its documented formats: systemd is not PID 1 here)', () => {
  it('reads list-units --output=json', () => {
    const u = parseUnitsJson(fixture('systemctl-units.json.stdout'));
    expect(u).toHaveLength(5);
    expect(u.find((x) => x.unit === 'nginx.service')).toEqual({ unit: 'nginx.service', load: 'loaded', active: 'failed', sub: 'failed', description: 'A high performance web server and a reverse proxy server' });
    expect(() => parseUnitsJson('{"unit":1}')).toThrow(/array/);
    expect(() => parseUnitsJson('[{"load":"loaded"}]')).toThrow(/without a unit/);
    expect(() => parseUnitsJson('')).toThrow(/not JSON/);
  });
  it('reads the plain columns of an older systemd, the ● of a failed unit dropped', () => {
    const u = parseUnitsPlain(fixture('systemctl-units.plain.stdout'));
    expect(u.map((x) => `${x.unit} ${x.active}/${x.sub}`)).toEqual(['cron.service active/running', 'nginx.service failed/failed', 'ssh.service active/running', 'ufw.service active/exited']);
    expect(u[1]!.description).toBe('A high performance web server and a reverse proxy server');
  });
  it('the command line for a query puts patterns after --', () => {
    expect(unitsArgv({ failed: true, patterns: ['-x*'] })).toEqual(['systemctl', 'list-units', '--no-pager', '--output=json', '--type=service', '--state=failed', '--', '-x*']);
    expect(unitsArgv({ type: 'all', all: true }, 'plain')).toEqual(['systemctl', 'list-units', '--no-pager', '--plain', '--no-legend', '--all']);
  });
  it('the captured no-systemd run prints nothing on stdout and says why on stderr', () => {
    expect(fixture('systemctl-nosystemd.stdout')).toBe('');
    expect(fixture('systemctl-nosystemd.stderr')).toContain('not been booted with systemd');
  });
});

describe('packages', () => {
  it('dpkg (real output of this machine): installed packages only', () => {
    const text = fixture('dpkg.stdout');
    const p = parseDpkg(text);
    expect(p.length).toBe(text.split('\n').filter((l) => /\t[ih]i/.test(l)).length);
    expect(p.length).toBeGreaterThan(100);
    expect(p.find((x) => x.name === 'procps')).toEqual({ name: 'procps', version: '2:4.0.2-3', arch: 'amd64' });
    expect(parseDpkg('gone\t1.0\tall\trc \nheld\t2\tall\thi \n')).toEqual([{ name: 'held', version: '2', arch: 'all' }]);
    expect(() => parseDpkg('just words\n')).toThrow(ParseError);
  });
  it('rpm (its --qf format): the epoch joins the version when set', () => {
    expect(parseRpm('bash\t(none)\t5.1.8-6.el9\tx86_64\nopenssl\t1\t3.0.7-27.el9\tx86_64\n')).toEqual([
      { name: 'bash', version: '5.1.8-6.el9', arch: 'x86_64' }, { name: 'openssl', version: '1:3.0.7-27.el9', arch: 'x86_64' },
    ]);
    expect(() => parseRpm('bash 5.1\n')).toThrow(/line 1/);
  });
});

describe('matrix probes and diff helpers', () => {
  it('reads both probes; bash exit 124 is a timeout', () => {
    expect(parseNodeProbe('[{"to":"n2","ok":true,"ms":1.2,"error":null},{"to":"n3","ok":false,"ms":null,"error":"ECONNREFUSED"}]')).toEqual([
      { to: 'n2', ok: true, ms: 1.2, error: null }, { to: 'n3', ok: false, ms: null, error: 'ECONNREFUSED' },
    ]);
    expect(parseBashProbe('ok\tn2\t1534\nfailed\tn3\t124\nfailed\tn4\t1\n')).toEqual([
      { to: 'n2', ok: true, ms: 1.5, error: null }, { to: 'n3', ok: false, ms: null, error: 'timed out' }, { to: 'n4', ok: false, ms: null, error: 'connect failed (bash exit 1)' },
    ]);
    expect(() => parseNodeProbe('node: not found')).toThrow(ParseError);
    expect(() => parseBashProbe('maybe\tn2\t1\n')).toThrow(ParseError);
  });
  it('compareMaps sorts out only-in-A, only-in-B and differ; port scopes hold across hosts', () => {
    const d = compareMaps('packages', new Map([['a', '1'], ['b', '1'], ['c', '1']]), new Map([['b', '2'], ['c', '1'], ['d', '1']]));
    expect(d).toMatchObject({ status: 'differ', onlyA: [{ key: 'a' }], onlyB: [{ key: 'd' }], differ: [{ key: 'b', a: '1', b: '2' }], same: 1 });
    expect(compareMaps('kernel', new Map([['k', 'x']]), new Map([['k', 'x']])).status).toBe('same');
    expect(['0.0.0.0', '::', '*', '127.0.0.53%lo', '::1', '10.99.0.4'].map(portScope)).toEqual(['any', 'any', 'any', 'loopback', 'loopback', 'host']);
  });
});
