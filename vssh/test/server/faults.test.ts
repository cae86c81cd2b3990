import { randomBytes } from 'node:crypto';
import { connect, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveNodeKey } from '../../src/keys.js';
import { signRequest } from '../../src/protocol/auth.js';
import { FrameReader, FrameType, encodeFrame } from '../../src/protocol/frame.js';
import { Loop, loop } from '../loopback.js';

/**
 * Raw bytes at a real daemon: every bad input is refused with a clear error (or the connection is
 * dropped when the byte stream itself is broken), and the daemon goes on serving good requests.
 */
let l: Loop;
beforeAll(async () => void (l = await loop()));
afterAll(async () => l.close());

/** raw opens a plain socket to the daemon and collects the frames it sends back. */
async function raw(): Promise<{ sock: Socket; frames: () => Promise<{ type: number; stream: number; body: Record<string, unknown> }[]>; closed: Promise<void> }> {
  const sock = connect(l.address.port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  const reader = new FrameReader();
  const got: { type: number; stream: number; body: Record<string, unknown> }[] = [];
  sock.on('data', (d) => {
    for (const f of reader.push(d)) got.push({ type: f.type, stream: f.stream, body: f.payload.length && f.payload[0] === 0x7b ? JSON.parse(f.payload.toString()) : {} });
  });
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  sock.on('error', () => {});
  return { sock, closed, frames: async () => (await new Promise((r) => setTimeout(r, 150)), got) };
}

const request = (stream: number, header: object): Buffer => encodeFrame({ type: FrameType.REQUEST, stream, payload: Buffer.from(JSON.stringify(header)) });
const errorOf = (f: { body: Record<string, unknown> } | undefined): string | undefined => (f?.body.error as { code?: string } | undefined)?.code;

async function stillServes(): Promise<void> {
  const r = await l.client.exec({ argv: ['echo', 'alive'] });
  expect(r.stdout.toString()).toBe('alive\n');
}

describe('the daemon under bad input', () => {
  it('refuses a forged MAC, another node\'s key, altered args, and stale or future timestamps', async () => {
    const c = await raw();
    const good = signRequest(l.key, 'exec', { argv: ['true'] });
    c.sock.write(request(1, { ...good, mac: 'ab'.repeat(32) }));
    c.sock.write(request(2, signRequest(deriveNodeKey(randomBytes(32), 'n1'), 'exec', { argv: ['true'] })));
    c.sock.write(request(3, { ...good, args: { argv: ['rm', '-rf', '/tmp/x'] } }));
    c.sock.write(request(4, signRequest(l.key, 'exec', { argv: ['true'] }, undefined, Date.now() - 61_000)));
    c.sock.write(request(5, signRequest(l.key, 'exec', { argv: ['true'] }, undefined, Date.now() + 61_000)));
    c.sock.write(request(6, { verb: 'exec' }));
    const frames = await c.frames();
    const code = (s: number): string | undefined => errorOf(frames.find((f) => f.stream === s && f.type === FrameType.REPLY));
    expect([code(1), code(2), code(3), code(4), code(5), code(6)]).toEqual(['VSSH_AUTH_BAD_MAC', 'VSSH_AUTH_BAD_MAC', 'VSSH_AUTH_BAD_MAC', 'VSSH_AUTH_STALE', 'VSSH_AUTH_STALE', 'VSSH_AUTH_MALFORMED']);
    c.sock.destroy();
    await stillServes();
  });

  it('refuses a replayed request, also on another connection', async () => {
    const header = signRequest(l.key, 'exec', { argv: ['true'] });
    const a = await raw();
    a.sock.write(request(1, header));
    a.sock.write(request(2, header));
    const b = await raw();
    b.sock.write(request(1, header));
    const [fa, fb] = [await a.frames(), await b.frames()];
    expect(fa.find((f) => f.stream === 1 && f.type === FrameType.REPLY)?.body.result).toBeDefined();
    expect(errorOf(fa.find((f) => f.stream === 2 && f.type === FrameType.REPLY))).toBe('VSSH_AUTH_REPLAY');
    expect(errorOf(fb.find((f) => f.stream === 1 && f.type === FrameType.REPLY))).toBe('VSSH_AUTH_REPLAY');
    a.sock.destroy();
    b.sock.destroy();
  });

  it('refuses a request captured before a restart and sent again after it', async () => {
    const key = randomBytes(32);
    const first = await loop({ key });
    const port = first.address.port;
    const header = signRequest(key, 'exec', { argv: ['true'] });
    const send = async (): Promise<{ type: number; stream: number; body: Record<string, unknown> }[]> => {
      const sock = connect(port, '127.0.0.1');
      await new Promise((r) => sock.once('connect', r));
      const reader = new FrameReader();
      const got: { type: number; stream: number; body: Record<string, unknown> }[] = [];
      sock.on('data', (d) => {
        for (const f of reader.push(d)) if (f.type === FrameType.REPLY) got.push({ type: f.type, stream: f.stream, body: JSON.parse(f.payload.toString()) });
      });
      sock.write(request(1, header));
      await new Promise((r) => setTimeout(r, 300));
      sock.destroy();
      return got;
    };
    expect((await send())[0]?.body.result).toBeDefined();
    await first.close();
    const again = await loop({ key, port }); // the same node, restarted: its nonce window is empty
    try {
      expect(errorOf((await send())[0])).toBe('VSSH_AUTH_STALE');
      expect((await again.client.exec({ argv: ['echo', 'fresh'] })).stdout.toString()).toBe('fresh\n');
    } finally {
      await again.close();
    }
  });

  it('drops a connection that announces a 4 GiB frame, sends random bytes, or an unknown frame type', async () => {
    for (const bytes of [Buffer.from([0xff, 0xff, 0xff, 0xff, 1]), randomBytes(4096), Buffer.from([0, 0, 0, 5, 99, 0, 0, 0, 1])]) {
      const c = await raw();
      c.sock.write(bytes);
      await c.closed; // the daemon hung up on it
    }
    await stillServes();
  });

  it('holds a client that stops mid-frame without blocking anyone else, and forgets it when it leaves', async () => {
    const c = await raw();
    const frame = request(1, signRequest(l.key, 'exec', { argv: ['true'] }));
    c.sock.write(frame.subarray(0, frame.length - 10)); // then silence
    await stillServes();
    c.sock.destroy();
    await stillServes();
  });

  it('drops a connection that sends past its flow-control window', async () => {
    const c = await raw();
    c.sock.write(request(1, signRequest(l.key, 'exec', { argv: ['sleep', '2'], stdin: true })));
    const chunk = Buffer.alloc(1024 * 1024 - 1);
    for (let i = 0; i < 10; i++) c.sock.write(encodeFrame({ type: FrameType.DATA, stream: 1, payload: Buffer.concat([Buffer.from([0]), chunk]) }));
    await c.closed;
    await stillServes();
  });

  it('drops a connection whose request is not JSON', async () => {
    const c = await raw();
    c.sock.write(encodeFrame({ type: FrameType.REQUEST, stream: 7, payload: Buffer.from('not json') }));
    await c.closed;
    await stillServes();
  });

  it('refuses a stream when a connection has too many open, and serves again once they close', async () => {
    const small = await loop({ maxStreams: 4 });
    try {
      const waiting = await Promise.all([1, 2, 3, 4].map(() => small.client.call('exec', { argv: ['cat'], stdin: true })));
      const err = await small.client.exec({ argv: ['true'] }).catch((e) => e);
      expect(err.code).toBe('VSSH_BUSY');
      for (const w of waiting) w.stream.end(); // cat ends at EOF
      await Promise.all(waiting.map((w) => w.result()));
      expect((await small.client.exec({ argv: ['true'] })).exitCode).toBe(0);
    } finally {
      await small.close();
    }
  });
});
