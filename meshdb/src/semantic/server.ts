import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join, sep } from 'node:path';
import { MeshdbError } from '../errors.js';

/** freePort asks the kernel for a free loopback port. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** heartbeat tells whether a Chroma server answers at `url`. */
export async function heartbeat(url: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const r = await fetch(`${url.replace(/\/$/, '')}/api/v2/heartbeat`, { signal: AbortSignal.timeout(timeoutMs) });
    return r.ok;
  } catch {
    return false;
  }
}

/** ChromaServer is the embedded Chroma (the chromadb package's own server) run as a child of this process. */
export class ChromaServer {
  #child: ChildProcess | undefined;
  #exited: Promise<void> | undefined;
  url = '';

  constructor(readonly dir: string) {}

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return !!this.#child && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** start runs `node chromadb/dist/cli.mjs run --path DIR --port N` on loopback and waits for its heartbeat. */
  async start(timeoutMs = 20_000): Promise<void> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const main = createRequire(import.meta.url).resolve('chromadb');
    const cli = join(main.slice(0, main.lastIndexOf(`${sep}dist${sep}`)), 'dist', 'cli.mjs');
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    let stderr = '';
    const child = spawn(process.execPath, [cli, 'run', '--path', this.dir, '--host', '127.0.0.1', '--port', String(port)], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ANONYMIZED_TELEMETRY: 'False' } });
    child.stderr!.on('data', (b: Buffer) => void (stderr = (stderr + b.toString()).slice(-2000)));
    this.#child = child;
    this.#exited = new Promise((r) => child.once('exit', () => r()));
    const t0 = Date.now();
    while (Date.now() - t0 < timeoutMs) {
      if (!this.running) throw new MeshdbError('MESHDB_CHROMA', `the embedded Chroma server exited at start: ${stderr.trim().split('\n').slice(-3).join(' | ') || 'no message'}`);
      if (await heartbeat(this.url, 500)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    await this.stop();
    throw new MeshdbError('MESHDB_CHROMA', `the embedded Chroma server did not answer within ${timeoutMs / 1000} s`);
  }

  /** stop sends SIGTERM, then SIGKILL after 5 s, and waits for the exit. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    if (this.running) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await this.#exited;
      clearTimeout(t);
    }
    this.#child = undefined;
  }
}
