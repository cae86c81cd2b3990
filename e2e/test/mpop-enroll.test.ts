import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FreshHost, hubAndFresh, serveHub } from '../src/topologies.js';

const isRoot = process.getuid?.() === 0;
const MPOP_BIN = fileURLToPath(new URL('../../mpop/bin/run.js', import.meta.url));

/**
 * mpop enroll in the lab: the coordinator's machine takes a fresh host, which only runs a real sshd, into
 * the mesh over SSH; afterwards the node answers vssh over its mesh address and `mpop exec` reaches it.
 * (The hosts share this machine's filesystem, so the MeshPOP bins are already there: --skip-install.)
 */
describe.skipIf(!isRoot)('mpop enroll over SSH in the lab', () => {
  let lab: FreshHost;
  const mpop = (args: string[], timeoutMs = 150_000) => lab.lab.exec(lab.hub, process.execPath, [MPOP_BIN, ...args], { timeoutMs });
  const nodeHome = (): string => join(lab.host.home, 'node-home');
  const enrollArgs = (extra: string[] = []): string[] => [
    'enroll', 'fresh1', `root@${lab.host.ip}`, '--key', lab.sshd.rootKey, '--skip-install',
    '--remote-home', nodeHome(), '--interface', lab.host.iface, ...extra,
  ];
  beforeAll(async () => {
    lab = await hubAndFresh();
  }, 120_000);
  afterAll(async () => {
    await lab?.lab.destroy();
  });

  it('an unreachable host stops at connect with a clear error', async () => {
    const r = await mpop(['enroll', 'gone1', 'root@192.168.77.99', '--key', lab.sshd.rootKey, '--connect-timeout', '3s']);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stdout).toMatch(/^✗ connect /m);
    expect(r.stderr).toMatch(/mpop: connect: cannot reach 192\.168\.77\.99:22/);
  });

  it('first contact without --accept-host-key stops at connect, showing the fingerprint', async () => {
    const r = await mpop(enrollArgs());
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toContain(`ssh-ed25519 ${lab.sshd.fingerprint}`);
    expect(r.stderr).toContain(`--accept-host-key ${lab.sshd.fingerprint}`);
    expect(existsSync(nodeHome())).toBe(false); // nothing was done on the host
  });

  it('with the coordinator down, stops at join with wire\'s reason, and revokes the unused token', async () => {
    for (const c of lab.lab.processes(lab.hub, 'serve')) await lab.lab.stop(c);
    try {
      const r = await mpop(enrollArgs(['--accept-host-key', lab.sshd.fingerprint]).map((a) => (a === 'fresh1' ? 'fresh0' : a)));
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toMatch(/^✓ token .*\n✗ join /m);
      expect(r.stderr).toMatch(/^mpop: join: wire up --join exited on 192\.168\.77\.20: .+/m);
      const tokens = JSON.parse((await lab.lab.wire(lab.hub, ['token', 'list', '--json'])).stdout) as { name: string; revokedAt: number | null; usedAt: number | null }[];
      expect(tokens.filter((t) => t.name === 'fresh0')).toMatchObject([{ usedAt: null, revokedAt: expect.any(Number) }]);
    } finally {
      await serveHub(lab.lab, lab.hub);
    }
  }, 120_000);

  it('enrolls the host: joined, services started, answering vssh over the mesh, in its group', async () => {
    const r = await mpop([...enrollArgs(['--accept-host-key', lab.sshd.fingerprint, '--group', 'fresh']), '--json']);
    expect(r.code, `${r.stderr}\n${r.stdout}\n--- sshd:\n${lab.lab.log(lab.host, 'sshd')}\n--- wire serve on the hub (end):\n${lab.lab.log(lab.hub, 'serve').slice(-3000)}`).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res).toMatchObject({
      node: 'fresh1',
      host: lab.host.ip,
      privilege: 'root',
      hostKey: { type: 'ssh-ed25519', fingerprint: lab.sshd.fingerprint, status: 'known' }, // accepted by the test before
      packages: { action: 'present' },
      services: { manager: 'detached' },
      group: 'fresh',
    });
    expect(res.meshIp).toMatch(/^10\.99\.0\.\d+$/);
    expect(res.steps.map((s: { step: string; status: string }) => `${s.step}:${s.status}`)).toEqual([
      'connect:ok', 'system:ok', 'root:ok', 'node:ok', 'packages:ok', 'token:ok', 'join:ok', 'services:ok', 'mesh:ok', 'record:ok',
    ]);
    expect(res.services.note).toContain('will not survive a reboot');
    // The node's state is where it was told to keep it, its vault opened by a key file only.
    expect(existsSync(join(nodeHome(), 'vault', 'store.sv'))).toBe(true);
    expect(existsSync(join(nodeHome(), 'vault.key'))).toBe(true);
    expect(existsSync(join(nodeHome(), '.enroll-password'))).toBe(false);
    expect(readFileSync(join(lab.hub.home, 'mpop', 'known_hosts'), 'utf8')).toContain(`${lab.host.ip} ssh-ed25519 ${lab.sshd.fingerprint}`);

    // The long-lived wire up on the host carries no join token in its command line.
    const pids = (await lab.lab.exec(lab.host, 'ip', ['netns', 'pids', lab.host.ns])).stdout.split('\n').filter(Boolean);
    const cmdlines = pids.map((p) => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' '); } catch { return ''; } });
    expect(cmdlines.some((c) => c.includes(' up --interface '))).toBe(true);
    expect(cmdlines.filter((c) => c.includes('wire1_'))).toEqual([]);

    // mpop exec reaches it through the built bin, on its mesh address, in its own network namespace.
    const ex = await mpop(['exec', 'fresh1', '--json', '--', 'ip', '-o', '-4', 'addr', 'show']);
    expect(ex.code, ex.stderr).toBe(0);
    expect(JSON.parse(ex.stdout).nodes[0]).toMatchObject({ node: 'fresh1', outcome: 'ok' });
    expect(JSON.parse(ex.stdout).nodes[0].stdout).toContain(`inet ${res.meshIp}/`);
    expect((await mpop(['exec', '@fresh', '--', 'true'])).code).toBe(0);
  }, 180_000);

  it('enrolling the same name again is refused before anything is done, naming wire remove', async () => {
    const r = await mpop(enrollArgs());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('a node named fresh1 is already in the mesh');
  });

  it('after wire remove, the same host enrolls again: the old daemons are replaced and it answers with its new key', async () => {
    const rm = await lab.lab.wire(lab.hub, ['remove', 'fresh1']);
    expect(rm.code, rm.stderr).toBe(0);
    const r = await mpop([...enrollArgs(['--accept-host-key', lab.sshd.fingerprint]), '--json']);
    expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.steps.find((s: { step: string }) => s.step === 'join').detail).toContain('vault kept');
    const ex = await mpop(['exec', 'fresh1', '--', 'true']);
    expect(ex.code, ex.stderr + ex.stdout).toBe(0);
    // One vssh serve and one wire up on the host, not the old ones beside the new.
    const pids = (await lab.lab.exec(lab.host, 'ip', ['netns', 'pids', lab.host.ns])).stdout.split('\n').filter(Boolean);
    const cmd = pids.map((p) => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' '); } catch { return ''; } });
    expect(cmd.filter((c) => c.includes('vssh') && c.includes(' serve')).length).toBe(1);
    expect(cmd.filter((c) => / up --interface /.test(c)).length).toBe(1);
  }, 180_000);

  it('a host whose key changed is refused loudly', async () => {
    // A second name at the same address, with the known_hosts entry altered as if the host had been reinstalled.
    const file = join(lab.hub.home, 'mpop', 'known_hosts');
    const text = readFileSync(file, 'utf8');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, text.replace(lab.sshd.fingerprint, 'SHA256:' + 'C'.repeat(43)));
    try {
      const r = await mpop(['enroll', 'fresh2', `root@${lab.host.ip}`, '--key', lab.sshd.rootKey, '--accept-host-key', lab.sshd.fingerprint]);
      expect(r.code).toBe(5);
      expect(r.stderr).toContain(`THE HOST KEY OF ${lab.host.ip} HAS CHANGED`);
    } finally {
      writeFileSync(file, text);
    }
  });

  it('a node that never answers over the mesh: the timeout says what the node itself sees (its wire status, its daemons\' logs)', async () => {
    expect((await lab.lab.wire(lab.hub, ['remove', 'fresh1'])).code).toBe(0);
    // The host drops vssh's port: it joins and its daemons run, but nothing reaches vssh.
    const nft = (args: string[]) => lab.lab.exec(lab.host, 'nft', args);
    expect((await nft(['add', 'table', 'inet', 'enrolltest'])).code).toBe(0);
    try {
      await nft(['add', 'chain', 'inet', 'enrolltest', 'in', '{ type filter hook input priority 0 ; }']);
      expect((await nft(['add', 'rule', 'inet', 'enrolltest', 'in', 'tcp', 'dport', '48291', 'drop'])).code).toBe(0);
      const r = await mpop([...enrollArgs(['--accept-host-key', lab.sshd.fingerprint, '--wait', '5s'])]);
      expect(r.code).not.toBe(0);
      expect(r.stdout).toMatch(/^✗ mesh /m);
      expect(r.stderr).toMatch(/fresh1 did not answer vssh over the mesh \(10\.99\.0\.\d+\) within 5 s: .*[.?] On the node, its wire status: .*coordinator/);
      expect(r.stderr).toContain(`${nodeHome()}/logs/vssh.log ends: `);
      expect(r.stderr).toContain(`${nodeHome()}/logs/wire-up.log ends: `);
    } finally {
      await nft(['delete', 'table', 'inet', 'enrolltest']);
    }
  }, 120_000);
});
