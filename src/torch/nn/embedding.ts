// nn.Embedding: a trainable table of vectors looked up by integer index (token ids, class ids).
import type { Tensor } from '../tensor.js';
import * as F from '../functional/index.js';
import { normalisePaddingIdx } from '../functional/embedding.js';
import { noGrad } from '../autograd.js';
import { Module } from './module.js';
import type { Parameter } from './parameter.js';
import * as init from './init.js';
import { checkInt } from './args.js';
import { emptyParameter, type FactoryOptions } from './factory.js';

export interface EmbeddingOptions extends FactoryOptions {
  /**
   * An index whose row starts at zeros and never receives gradient (a padding token); negative counts from
   * the end, as in PyTorch.
   */
  paddingIdx?: number | null;
  /** Divide each row's gradient by how often its index occurs in the batch. */
  scaleGradByFreq?: boolean;
}

export class Embedding extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  /** The padding row, in [0, numEmbeddings), or null. */
  readonly paddingIdx: number | null;
  readonly scaleGradByFreq: boolean;
  /** [numEmbeddings, embeddingDim] */
  weight: Parameter;

  constructor(numEmbeddings: number, embeddingDim: number, options: EmbeddingOptions = {}) {
    super();
    this.numEmbeddings = checkInt(numEmbeddings, 'Embedding: numEmbeddings');
    this.embeddingDim = checkInt(embeddingDim, 'Embedding: embeddingDim');
    this.paddingIdx =
      options.paddingIdx === undefined || options.paddingIdx === null
        ? null
        : normalisePaddingIdx(options.paddingIdx, numEmbeddings, 'Embedding');
    this.scaleGradByFreq = options.scaleGradByFreq ?? false;
    this.weight = emptyParameter([numEmbeddings, embeddingDim], options);
    this.resetParameters();
  }

  /**
   * An embedding whose table is a copy of `embeddings` ([numEmbeddings, embeddingDim]), frozen (no gradient)
   * unless `freeze` is false (PyTorch's Embedding.from_pretrained). The padding row is left as given.
   */
  static fromPretrained(
    embeddings: Tensor,
    options: Omit<EmbeddingOptions, keyof FactoryOptions> & { freeze?: boolean } = {},
  ): Embedding {
    if (embeddings.ndim !== 2) {
      throw new RangeError(
        `Embedding.fromPretrained: embeddings must be 2-D [numEmbeddings, embeddingDim], got shape ` +
          `[${embeddings.shape.join(', ')}]`,
      );
    }
    const [rows, dim] = embeddings.shape;
    const layer = new Embedding(rows, dim, { ...options, dtype: embeddings.dtype, device: embeddings.device });
    noGrad(() => layer.weight.copy_(embeddings));
    layer.weight.requiresGrad_(!(options.freeze ?? true));
    return layer;
  }

  /** N(0, 1) rows, as PyTorch's, and zeros in the padding row. */
  resetParameters(): void {
    init.normal_(this.weight);
    if (this.paddingIdx !== null) {
      const paddingIdx = this.paddingIdx;
      noGrad(() => this.weight.select(0, paddingIdx).fill_(0).dispose());
    }
  }

  /** [...indices.shape] int64 → [...indices.shape, embeddingDim] */
  forward(indices: Tensor): Tensor {
    return F.embedding(indices, this.weight, {
      paddingIdx: this.paddingIdx,
      scaleGradByFreq: this.scaleGradByFreq,
    });
  }

  override extraRepr(): string {
    let s = `${this.numEmbeddings}, ${this.embeddingDim}`;
    if (this.paddingIdx !== null) s += `, padding_idx=${this.paddingIdx}`;
    if (this.scaleGradByFreq) s += ', scale_grad_by_freq=True';
    return s;
  }
}
