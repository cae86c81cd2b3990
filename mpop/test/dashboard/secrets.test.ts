import { describe, expect, it } from 'vitest';
import { hideSecretLines } from '../../src/dashboard/node.js';

describe('a node page\'s log lines', () => {
  it('a line holding a secret shape is hidden, naming only its kind; other lines are kept', () => {
    const key = 'AKIA' + 'ABCDEFGHIJKLMNOP';
    const out = hideSecretLines(['sshd[1]: accepted key for root', `app: using ${key} for uploads`, 'password = "Zx9!kQ2mP7vL4rT8wY"']);
    expect(out[0]).toBe('sshd[1]: accepted key for root');
    expect(out[1]).toBe('(line hidden: it looks like it holds a AWS access key)');
    expect(out.join('\n')).not.toContain(key);
  });
});
