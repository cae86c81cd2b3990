import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// `npm start` is the README's first command: scripts/demo.mjs, run here as a user would (setup has run already).
const DEMO = fileURLToPath(new URL('../../scripts/demo.mjs', import.meta.url));
const isRoot = process.getuid?.() === 0;

const STEPS = [
  'vssh exec, vssh put (twice)', 'mpop servers', 'mpop status', 'mpop exec all (folded, recap)', 'mpop groups set web', 'mpop deploy v1, v2 (health-checked)',
  'mpop rollback', 'meshdb index + search', 'mpop heal', 'mpop-mcp: an agent lists the tools and calls one',
];

function demo(args: string[]) {
  return spawnSync(process.execPath, [DEMO, ...args], { encoding: 'utf8', timeout: 240_000 });
}

/** summaryOf reads the "What ran" lines: step name -> ok. */
function summaryOf(out: string): Map<string, boolean> {
  const tail = out.slice(out.lastIndexOf('What ran:'));
  return new Map([...tail.matchAll(/^ {2}([✓✗]) (.+?)\s{2,}\d+\.\d s/gm)].map((m) => [m[2]!.trim(), m[1] === '✓']));
}

describe('npm start, the quickstart tour', () => {
  it.skipIf(!isRoot)('runs every step on a lab of three hosts over WireGuard and takes it all down', () => {
    const r = demo([]);
    expect(r.status, `${r.stdout.slice(-3000)}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('MeshPOP lab: a coordinator and two nodes');
    const steps = summaryOf(r.stdout);
    for (const s of STEPS) expect(steps.get(s), s).toBe(true);
    expect([...steps.keys()][0]).toMatch(/^fleet up: 3 lab hosts/);
    expect(steps.get('wire peers, wire ping')).toBe(true);
    // the folded exec shows one block for the same answer and the recap names every node
    expect(r.stdout).toMatch(/^coordinator,n\[1-2\] \(3\)$/m);
    expect(r.stdout).toMatch(/^ok\s+3\s+coordinator,n\[1-2\]$/m);
    // deployed over the mesh to the same path on both nodes, and the rollback left v1 live
    expect(r.stdout).toMatch(/^n1\s+deployed\s+\S+\s+2 files/m);
    expect(r.stdout).toMatch(/tools\/list: \d+ tools/);
    expect(r.stdout).toContain('Taken down: every namespace, interface, process and home the lab made is gone.');
    const prefix = /MESHPOP_HOME":"\/tmp\/meshpop-lab-(\w+)\/hub/.exec(r.stdout);
    expect(prefix).not.toBeNull();
    expect(existsSync(`/tmp/meshpop-lab-${prefix![1]}`)).toBe(false);
    const ns = /\(namespaces (\w+)-\*\)/.exec(r.stdout)![1]!;
    expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toContain(`${ns}-`);
  }, 300_000);

  it('on loopback (where no lab can be made) runs the same tour, says why, and --keep / --down leave it up and take it down', () => {
    const r = demo(['--loopback', '--keep']);
    expect(r.status, `${r.stdout.slice(-3000)}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('MeshPOP on loopback (no lab: asked for --loopback)');
    const steps = summaryOf(r.stdout);
    for (const s of STEPS) expect(steps.get(s), s).toBe(true);
    const reach = /^ {2}(env MESHPOP_HOME=(\S+) SV_PASSWORD_FILE=(\S+)) (\S+) (\S+) exec all -- uptime$/m.exec(r.stdout);
    expect(reach, r.stdout.slice(-800)).not.toBeNull();
    const [, , home, pwFile, node, mpop] = reach!;
    const down = /npm start -- --down (\S+)$/m.exec(r.stdout)![1]!;
    try {
      const exec = spawnSync(node!, [mpop!, 'exec', 'all', '--', 'true'], { encoding: 'utf8', env: { ...process.env, MESHPOP_HOME: home, SV_PASSWORD_FILE: pwFile } });
      expect(exec.stdout).toMatch(/^ok\s+3\s+n\[1-3\]$/m); // still up after the tour ended
    } finally {
      const d = demo(['--down', down]);
      expect(d.status, d.stderr).toBe(0);
    }
    expect(existsSync(home!)).toBe(false);
    expect(existsSync(down)).toBe(false);
    const again = demo(['--down', down]);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('it should be the file npm start -- --keep printed');
  }, 300_000);

  it('refuses an unknown option with its usage', () => {
    const r = demo(['--kep']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown option --kep');
    expect(r.stderr).toContain('usage: npm start');
  });
});
