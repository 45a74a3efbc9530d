// Layout conversions between NCHW (ONNX) and NHWC (the convolution kernels).
import * as ops from '../../ops';
import type { Planner } from '../planner';
import { physicalShape, RtValue } from '../value';

function transposeStep(p: Planner, from: RtValue, to: RtValue): void {
  // Physical permutation from `from`'s order to `to`'s order.
  const perm = from.layout === 'nchw' ? [0, 2, 3, 1] : [0, 3, 1, 2];
  p.step(`transpose(${from.name} -> ${to.layout})`, [from], [to], (ins, outs, program) => {
    ops.transposeInto(ins[0], outs[0], physicalShape(from), perm, program);
  });
}

export function toNchw(p: Planner, v: RtValue): RtValue {
  return p.toLayout(v, 'nchw', transposeStep);
}

export function toNhwc(p: Planner, v: RtValue): RtValue {
  return p.toLayout(v, 'nhwc', transposeStep);
}
