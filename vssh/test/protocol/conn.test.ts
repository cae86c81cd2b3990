import { createServer, connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Channel, INITIAL_WINDOW, Mux } from '../../src/protocol/conn.js';

/** pair connects a client Mux to a node Mux over a real loopback socket. */
async function pair(onRequest: ConstructorParameters<typeof Mux>[1]): Promise<{ client: Mux; close: () => void }> {
  let node: Mux | undefined;
  const server = createServer((s) => void (node = new Mux(s, onRequest)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const sock = connect((server.address() as { port: number }).port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  const client = new Mux(sock);
  return { client, close: () => (client.close(), node?.close(), server.close()) };
}

describe('streams', () => {
  it('a client still gets the reply that follows the node\'s END', async () => {
    const { client, close } = await pair((stream) => {
      void stream.write(Channel.OUT, Buffer.from('data')).then(() => {
        stream.end();
        setTimeout(() => stream.reply({ result: { done: true } }), 50);
      });
    });
    const s = client.open();
    s.request({ verb: 'x' });
    const kinds: string[] = [];
    for (let item = await s.read(); item; item = await s.read()) kinds.push(item.kind);
    expect(kinds).toEqual(['data', 'end', 'reply']);
    close();
  });

  it('a node reads nothing after the client\'s END, and a sender waits for the window', async () => {
    let seen: string[] = [];
    let resolveSeen: () => void;
    const got = new Promise<void>((r) => (resolveSeen = r));
    const { client, close } = await pair((stream) => {
      void (async () => {
        // read slowly: the client must stop at the window until this side consumes
        await new Promise((r) => setTimeout(r, 200));
        const kinds: string[] = [];
        for (let item = await stream.read(); item; item = await stream.read()) kinds.push(item.kind);
        seen = kinds;
        resolveSeen();
      })();
    });
    const s = client.open();
    s.request({ verb: 'x' });
    const t0 = Date.now();
    await s.write(Channel.OUT, Buffer.alloc(INITIAL_WINDOW * 2));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150); // blocked until the node read
    s.end();
    await got;
    expect(seen.filter((k) => k === 'end').length).toBe(1);
    expect(seen.at(-1)).toBe('end');
    close();
  });
});
