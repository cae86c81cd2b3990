// ns-daemon.mjs runs one real vssh daemon for the deploy tests, inside its own mount namespace (nsfleet.ts
// starts it under `unshare -m` with the node's own folder bound over the shared base), so several nodes on one
// machine each see their own files at the same absolute path. Env: KEY (hex), NAME, PORT, POLICY (JSON rules).
import { startDaemon, Policy } from '@meshpop/vssh';

const policy = process.env.POLICY ? new Policy(JSON.parse(process.env.POLICY)) : undefined;
const daemon = await startDaemon({
  key: Buffer.from(process.env.KEY, 'hex'),
  name: process.env.NAME,
  port: Number(process.env.PORT ?? 0),
  hosts: ['127.0.0.1'],
  ...(policy ? { policy } : {}),
});
process.stdout.write(JSON.stringify({ port: daemon.port }) + '\n');
process.on('SIGTERM', () => void daemon.close().then(() => process.exit(0)));
