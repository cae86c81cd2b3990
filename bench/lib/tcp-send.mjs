// tcp-send: the sending end of the raw TCP copy that vssh-put uses as its floor. `node tcp-send.mjs PORT FILE`
// streams FILE to 127.0.0.1:PORT (tcp-sink.mjs) in 1 MiB reads, and exits 0 once the sink has said the
// file is written. No framing, no authentication, no hashing: what moving the bytes costs in Node.
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import net from 'node:net';

const [port, file] = process.argv.slice(2);
const socket = net.connect({ host: '127.0.0.1', port: Number(port), allowHalfOpen: true });
await once(socket, 'connect');
for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) {
  if (!socket.write(chunk)) await once(socket, 'drain');
}
socket.end();
let answer = '';
for await (const chunk of socket) answer += chunk;
if (answer !== 'ok') {
  process.stderr.write(`tcp-send: the sink answered ${JSON.stringify(answer)}\n`);
  process.exitCode = 1;
}
