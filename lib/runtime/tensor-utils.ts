// Plan-time tensor helpers for small constants (layout changes of folded values,
// broadcast parameter tensors). Not used on the run path.
import { fail } from '../errors';
import { arrayClass } from '../tensor/dtype';
import { Tensor } from '../tensor/tensor';

/** out[i_perm] = in[i]: ONNX Transpose semantics (out.shape[k] = in.shape[perm[k]]). */
export function permuteTensor(t: Tensor, perm: readonly number[]): Tensor {
  const rank = t.shape.length;
  if (perm.length !== rank) fail('E_SHAPE', `permute: ${perm.length} axes for a rank-${rank} tensor`);
  const inStrides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) inStrides[i] = inStrides[i + 1] * t.shape[i + 1];
  const outShape = perm.map((p) => t.shape[p]);
  const Ctor = arrayClass(t.dtype);
  const src = t.data as ArrayLike<number>;
  const out = new Ctor(src.length);
  const idx = new Array<number>(rank).fill(0);
  const strides = perm.map((p) => inStrides[p]);
  for (let o = 0; o < out.length; o++) {
    let s = 0;
    for (let k = 0; k < rank; k++) s += idx[k] * strides[k];
    out[o] = src[s];
    for (let k = rank - 1; k >= 0; k--) {
      if (++idx[k] < outShape[k]) break;
      idx[k] = 0;
    }
  }
  return new Tensor(t.dtype, out as never, outShape);
}

/** numpy broadcasting of two shapes, or undefined when they do not broadcast. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1, y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    out.push(x === 1 ? y : x);
  }
  return out;
}
