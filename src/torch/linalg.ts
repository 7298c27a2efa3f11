// torch.linalg: decompositions of matrices (the matrix products are torch.matmul/mm/bmm, in ops/linalg.ts).
import type { Tensor } from './tensor.js';
import { defineOp, wrapList } from './ops/dispatch.js';

const EIGH = defineOp('aten::linalg_eigh(self, UPLO)');

/** PyTorch's (eigenvalues, eigenvectors) named tuple. */
export interface Eigh {
  /** Ascending, real. */
  eigenvalues: Tensor;
  /** Column i is the unit eigenvector of eigenvalue i (its sign is arbitrary, as in LAPACK). */
  eigenvectors: Tensor;
}

/**
 * Eigenvalues and eigenvectors of a symmetric (Hermitian) matrix or batch of them, read from its lower
 * ('L') or upper ('U') triangle (torch.linalg.eigh).
 */
export function eigh(A: Tensor, UPLO: 'L' | 'U' = 'L'): Eigh {
  if (UPLO !== 'L' && UPLO !== 'U') {
    throw new TypeError(`linalg.eigh(): UPLO must be 'L' or 'U', got ${JSON.stringify(UPLO)}`);
  }
  const [eigenvalues, eigenvectors] = wrapList(EIGH(A, UPLO));
  return { eigenvalues, eigenvectors };
}
