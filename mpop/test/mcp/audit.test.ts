import { describe, expect, it } from 'vitest';
import { redact } from '../../src/mcp/audit.js';

describe('the MCP audit keeps what was done, never a secret', () => {
  it('redacts by key name and by token shape, keeps names and targets, and keeps only the size of file contents', () => {
    const args = {
      name: 'app/db-password',
      target: 'web[1-3]',
      value: 'hunter2',
      password: 'p',
      env: { API_TOKEN: 'abc', HOME: '/root' },
      command: ['curl', '-H', 'ghp_' + 'a'.repeat(36)],
      path: '/srv/app/.env',
      content: 'DB_PASSWORD=s3cret\n',
    };
    const out = redact(args) as Record<string, unknown>;
    expect(out).toEqual({
      name: 'app/db-password',
      target: 'web[1-3]',
      value: '[redacted]',
      password: '[redacted]',
      env: { API_TOKEN: '[redacted]', HOME: '/root' },
      command: ['curl', '-H', '[redacted]'],
      path: '/srv/app/.env',
      content: '[19 bytes]',
    });
    expect(JSON.stringify(out)).not.toMatch(/hunter2|s3cret|ghp_/);
  });
});
