// tcp-sink: the receiving end of the raw TCP copy that vssh-put uses as its floor. `node tcp-sink.mjs DEST`
// listens on a free port of 127.0.0.1 and prints it; each connection's bytes are written to DEST
// (truncated first), and once DEST is closed the sink answers "ok" and ends the connection.
import { createWriteStream } from 'node:fs';
import net from 'node:net';
import { pipeline } from 'node:stream/promises';

const dest = process.argv[2];
const server = net.createServer({ allowHalfOpen: true }, async (socket) => {
  try {
    await pipeline(socket, createWriteStream(dest), { end: true });
    socket.end('ok');
  } catch (err) {
    process.stderr.write(`tcp-sink: ${err.message}\n`);
    socket.destroy();
  }
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.once('SIGTERM', () => process.exit(0));
