import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandHostRange, parseAnsibleIni, parseAnsibleYaml } from '../src/inventory/ansible.js';
import { readInventoryFile, removeGroup, setGroup } from '../src/inventory/file.js';
import { loadInventory } from '../src/inventory/inventory.js';
import { closest, globRegExp } from '../src/inventory/names.js';
import { saveLastRun } from '../src/runs.js';

describe('Ansible inventories', () => {
  it('reads INI groups, children and host ranges, ignoring vars', () => {
    const g = parseAnsibleIni(['# fleet', 'lone ansible_host=10.0.0.9', '[web]', 'web[01:03] ansible_user=root', '[db]', 'db1', '[db:vars]', 'x=1', '[prod:children]', 'web', 'db'].join('\n'));
    expect(g.get('web')).toEqual(['web01', 'web02', 'web03']);
    expect(g.get('prod')!.sort()).toEqual(['db1', 'web01', 'web02', 'web03']);
    expect(g.get('ungrouped')).toEqual(['lone']);
  });
  it('reads YAML groups with children', () => {
    const g = parseAnsibleYaml('all:\n  children:\n    gpu:\n      hosts:\n        g[1:2]:\n    lab:\n      children:\n        gpu:\n');
    expect(g.get('gpu')).toEqual(['g1', 'g2']);
    expect(g.get('lab')).toEqual(['g1', 'g2']);
  });
  it('says which line of an INI file is wrong, and refuses a loop of children', () => {
    expect(() => parseAnsibleIni('[web\nhost1', 'hosts.ini')).toThrow(/hosts\.ini:1/);
    expect(() => parseAnsibleIni('[a:children]\nb\n[b:children]\na\n', 'h')).toThrow(/contain each other/);
  });
  it('expands letter and stepped ranges', () => {
    expect(expandHostRange('db-[a:c]')).toEqual(['db-a', 'db-b', 'db-c']);
    expect(expandHostRange('n[0:10:5]')).toEqual(['n0', 'n5', 'n10']);
  });
});

describe('targets', () => {
  let home: string;
  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'mpop-inv-'));
    mkdirSync(join(home, 'vssh'), { recursive: true });
    const nodes = Object.fromEntries(['web1', 'web2', 'web10', 'db1', 'gpu-a'].map((n, i) => [n, { addresses: [`127.0.0.1:${40000 + i}`] }]));
    writeFileSync(join(home, 'vssh', 'nodes.json'), JSON.stringify(nodes));
    writeFileSync(join(home, 'hosts.ini'), '[legacy]\ndb1\nold-box\n');
    mkdirSync(join(home, 'mpop'));
    writeFileSync(join(home, 'mpop', 'inventory.yaml'), '# my fleet\ngroups:\n  web: [web*]\n  edge: [ghost]\nroles:\n  gpu-a: [trainer]\nansible: ../hosts.ini\n');
  });
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('resolves names, globs, groups, roles, Ansible groups, lists, ! and &, in natural order', async () => {
    const inv = await loadInventory({ home });
    expect(inv.resolve('all')).toEqual(['db1', 'gpu-a', 'web1', 'web2', 'web10']);
    expect(inv.resolve('@web')).toEqual(['web1', 'web2', 'web10']);
    expect(inv.resolve('@trainer,db1')).toEqual(['db1', 'gpu-a']);
    expect(inv.resolve('@legacy')).toEqual(['db1']);
    expect(inv.resolve('all,!@web')).toEqual(['db1', 'gpu-a']);
    expect(inv.resolve('!db1')).toEqual(['gpu-a', 'web1', 'web2', 'web10']);
    expect(inv.resolve('web*,&web1*')).toEqual(['web1', 'web10']);
    expect(inv.resolve('127.0.0.1')).toHaveLength(1);
    expect(inv.groups.find((g) => g.name === 'legacy')!.missing).toEqual(['old-box']);
  });

  it('a term that matches nothing is an error with the closest names', async () => {
    const inv = await loadInventory({ home });
    expect(() => inv.resolve('web3x')).toThrow(/no node named "web3x" \(did you mean/);
    expect(() => inv.resolve('@wbe')).toThrow(/did you mean @web/);
    expect(() => inv.resolve('@edge')).toThrow(/no node that is in the fleet \(it lists: ghost\)/);
    expect(() => inv.resolve('zz*')).toThrow(/no node matches "zz\*"/);
    expect(() => inv.resolve('web1,!web1')).toThrow(/leaves no node/);
    expect(() => inv.resolve('@failed')).toThrow(/no run was saved yet/);
  });

  it('@failed and @changed read the previous run', async () => {
    saveLastRun(join(home, 'mpop', 'last-run.json'), { command: 'exec', target: 'all', time: '', ok: ['web1'], failed: ['db1', 'gone'], changed: ['web1'] });
    const inv = await loadInventory({ home });
    expect(inv.resolve('@failed')).toEqual(['db1']);
    expect(inv.resolve('@changed,@failed')).toEqual(['db1', 'web1']);
  });

  it('groups set / rm edit the file and keep its comments', async () => {
    const file = join(home, 'mpop', 'inventory.yaml');
    setGroup(file, 'db', ['db1']);
    expect(readFileSync(file, 'utf8')).toContain('# my fleet');
    expect(readInventoryFile(file).groups.db).toEqual(['db1']);
    expect(() => setGroup(file, 'all', ['db1'])).toThrow(/reserved/);
    expect(() => setGroup(file, 'x', ['bad name'])).toThrow(/not a node name or a glob/);
    expect(removeGroup(file, 'db')).toBe(true);
    expect(removeGroup(file, 'db')).toBe(false);
  });

  it('a wrong type in inventory.yaml names the key and the line', () => {
    const file = join(home, 'bad.yaml');
    writeFileSync(file, 'groups:\n  web: web1\n');
    expect(() => readInventoryFile(file)).toThrow(/bad\.yaml:2: groups\.web: /);
  });
});

describe('names', () => {
  it('globs and closeness', () => {
    expect(globRegExp('web-[0-9]?').test('web-1a')).toBe(true);
    expect(globRegExp('a.b').test('axb')).toBe(false);
    expect(closest('wbe1', ['web1', 'db1', 'zzzz'])).toEqual(['web1', 'db1']);
  });
});
