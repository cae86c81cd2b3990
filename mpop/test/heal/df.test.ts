import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disk } from '../../src/heal/checks/disk.js';
import type { HealContext } from '../../src/heal/check.js';
import { DEFAULT_HEAL_CONFIG } from '../../src/heal/config.js';
import { dfArgv, isDataDisk, readDf } from '../../src/heal/df.js';

const isRoot = process.getuid?.() === 0;

/**
 * localCtx is a heal context whose commands run on this machine: the default config (no mounts configured), with a
 * 50% limit, so that the test's disk is a problem at 75% and no one else's at the default 90% (lab hosts on this
 * machine see its mounts).
 */
function localCtx(): HealContext {
  const config = structuredClone(DEFAULT_HEAL_CONFIG);
  config.thresholds.disk = 50;
  return {
    node: 'local',
    config,
    run: async (argv: string[]) => {
      const r = await execa(argv[0]!, argv.slice(1), { reject: false });
      return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode ?? null };
    },
  } as unknown as HealContext;
}

describe('which filesystems the disk check counts when heal.yaml names no mounts', () => {
  it('a tmpfs at a data path counts; the system\'s own tmpfs mounts (/run, /dev, /sys, /proc) do not', () => {
    const rows: [string, string, boolean][] = [
      ['tmpfs', '/srv/app/data', true],
      ['tmpfs', '/tmp', true],
      ['tmpfs', '/running', true], // a name that starts with /run is not under /run
      ['tmpfs', '/devdata', true],
      ['tmpfs', '/run', false],
      ['tmpfs', '/run/user/0', false],
      ['tmpfs', '/run/credentials/systemd-journald.service', false], // read-only, sized to fit: always 100%
      ['tmpfs', '/dev/shm', false],
      ['tmpfs', '/sys/fs/cgroup', false],
      ['tmpfs', '/proc/driver', false],
      ['ext4', '/run/media/usb', true], // only tmpfs is judged by where it is
      ['ext4', '/', true],
    ];
    for (const [fs, mount, counts] of rows) expect(isDataDisk({ fs, mount }), `${fs} ${mount}`).toBe(counts);
  });

  it('df is no longer told to leave tmpfs out (the other pseudo filesystems still are)', () => {
    const argv = dfArgv(null);
    expect(argv).not.toContain('tmpfs');
    for (const fs of ['devtmpfs', 'squashfs', 'proc', 'sysfs', 'overlay']) expect(argv.join(' ')).toContain(`-x ${fs}`);
    expect(dfArgv(['/srv'])).toEqual(['df', '-B1', '--output=fstype,size,used,avail,pcent,itotal,iused,ipcent,target', '--', '/srv']);
  });
});

describe.skipIf(!isRoot)('a filled tmpfs at a data path, with the default heal config, on this machine\'s real df', () => {
  let mnt: string;
  let mounted = false;
  beforeAll(async () => {
    mnt = mkdtempSync(join(tmpdir(), 'mpop-df-data-'));
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
    mounted = true;
  });
  afterAll(async () => {
    if (mounted) await execa('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });

  it('is listed, and is a problem once full; /dev/shm (a system tmpfs) is never listed', async () => {
    const before = await readDf(localCtx());
    if (before === 'missing') throw new Error('no GNU df here');
    expect(before.find((r) => r.mount === mnt)).toMatchObject({ fs: 'tmpfs', size: 1024 * 1024 });
    expect(before.filter((r) => r.fs === 'tmpfs' && /^\/(run|dev|sys|proc)(\/|$)/.test(r.mount))).toEqual([]);
    expect((await disk.run(localCtx())).diagnosis).not.toContain(`${mnt} is`);

    writeFileSync(join(mnt, 'blob'), Buffer.alloc(768 * 1024, 1));
    const full = await disk.run(localCtx());
    expect(full.status).toBe('problem');
    expect(full.diagnosis).toMatch(new RegExp(`${mnt.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is \\d+% full`));
  });
});
