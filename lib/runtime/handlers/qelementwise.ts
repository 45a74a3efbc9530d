// Quantized elementwise ops: com.microsoft QLinearAdd, QLinearMul and
// QLinearGlobalAveragePool (onnxruntime's QOperator format), also made by the
// QDQ pass from DequantizeLinear -> Add / Mul / GlobalAveragePool ->
// QuantizeLinear (domain 'lowbit' when a Relu/Clip was fused: attributes
// lowbit.min / lowbit.max). They keep an NHWC chain NHWC, like the float ops.
import { fail } from '../../errors';
import { attrInt, describeNode, Node } from '../../graph/ir';
import * as ops from '../../ops';
import type { ClipOptions } from '../../ops/elementwise';
import { Tensor } from '../../tensor/tensor';
import type { Handler, Planner } from '../planner';
import { broadcastShapes } from '../tensor-utils';
import { Layout, RtValue } from '../value';
import { toNchw, toNhwc } from './layout';

type Bytes8 = 'int8' | 'uint8';

function need(node: Node, v: RtValue | undefined, what: string): RtValue {
  if (!v) fail('E_MODEL_INVALID', `${describeNode(node)}: input ${what} is missing`);
  return v;
}

function quantized(p: Planner, node: Node, v: RtValue | undefined, what: string): RtValue {
  const x = need(node, v, what);
  if (x.dtype !== 'uint8' && x.dtype !== 'int8') fail('E_DTYPE', `${describeNode(node)}: ${what} must be uint8 or int8, got ${x.dtype}`);
  return x;
}

/** A per-tensor constant parameter (scale or zero point); undefined when the optional input is absent. */
function scalar(p: Planner, node: Node, v: RtValue | undefined, what: string): Tensor | undefined {
  if (!v) return undefined;
  if (!v.constant) p.fail(node, `${what} must be a constant (initializer)`);
  if (v.constant.size !== 1) p.fail(node, `${what} must hold one value (per-tensor quantization), got ${v.constant.size}`);
  return v.constant;
}

function scaleOf(p: Planner, node: Node, v: RtValue | undefined, what: string): number {
  const t = scalar(p, node, need(node, v, what), what)!;
  return Number((t.data as ArrayLike<number>)[0]);
}

function zeroPointOf(p: Planner, node: Node, v: RtValue | undefined, what: string, dtype: Bytes8): number {
  const t = scalar(p, node, v, what);
  if (!t) return 0;
  if (t.dtype !== dtype) fail('E_DTYPE', `${describeNode(node)}: ${what} must be ${dtype} like its tensor, got ${t.dtype}`);
  return Number((t.data as ArrayLike<number>)[0]);
}

/** The fused Relu/Clip of a 'lowbit' node, in real units. */
function clipOf(node: Node): ClipOptions | undefined {
  const min = node.attrs['lowbit.min'] as number | undefined, max = node.attrs['lowbit.max'] as number | undefined;
  return min === undefined && max === undefined ? undefined : { min, max };
}

/** The layout a binary op runs in (NHWC when a 4-D operand already is) and the operands in it. */
function operandsIn(p: Planner, xs: RtValue[]): { layout: Layout; values: RtValue[] } {
  const nhwc = xs.some((x) => !x.constant && x.shape.length === 4 && x.layout === 'nhwc');
  const fits = xs.every((x) => (x.constant ? x.shape.length <= 4 : x.shape.length === 4));
  if (!nhwc || !fits) return { layout: 'nchw', values: xs.map((x) => toNchw(p, x)) };
  const values = xs.map((x) => {
    if (!x.constant) return toNhwc(p, x);
    const shape = [...new Array<number>(4 - x.shape.length).fill(1), ...x.shape];
    return { ...p.constant(`${x.name}#r4`, new Tensor(x.dtype, x.constant.data as never, shape)), layout: 'nhwc' as Layout };
  });
  return { layout: 'nhwc', values };
}

function qlinearBinary(op: 'add' | 'mul'): Handler {
  return (p, node, [a0, as, az, b0, bs, bz, ys, yz]) => {
    const a = quantized(p, node, a0, 'A'), b = quantized(p, node, b0, 'B');
    const yzT = scalar(p, node, yz, 'C_zero_point');
    const outType = (yzT ? yzT.dtype : a.dtype) as Bytes8;
    if (outType !== 'uint8' && outType !== 'int8') fail('E_DTYPE', `${describeNode(node)}: C must be uint8 or int8, got ${outType}`);
    const params: ops.QLinearBinaryParams = {
      aScale: scaleOf(p, node, as, 'A_scale'), aZeroPoint: zeroPointOf(p, node, az, 'A_zero_point', a.dtype as Bytes8),
      bScale: scaleOf(p, node, bs, 'B_scale'), bZeroPoint: zeroPointOf(p, node, bz, 'B_zero_point', b.dtype as Bytes8),
      yScale: scaleOf(p, node, ys, 'C_scale'), yZeroPoint: zeroPointOf(p, node, yz, 'C_zero_point', outType),
      clip: clipOf(node),
    };
    const shape = broadcastShapes(a.shape, b.shape);
    if (!shape) fail('E_SHAPE', `${describeNode(node)}: [${a.shape.join(', ')}] and [${b.shape.join(', ')}] do not broadcast`);
    const { layout, values } = operandsIn(p, [a, b]);
    const out = p.output(node.outputs[0], outType, shape, layout);
    return p.step(node.name, values, [out], (ins, outs, program) => ops.qlinearBinaryInto(op, ins[0], ins[1], outs[0], params, program));
  };
}

/** channels_last = 1 (onnxruntime): x is [N, H, W, C] as written in the model. */
const qlinearGlobalAveragePool: Handler = (p, node, [x0, xs, xz, ys, yz]) => {
  const x1 = quantized(p, node, x0, 'X');
  const yzT = scalar(p, node, yz, 'y_zero_point');
  const outType = (yzT ? yzT.dtype : x1.dtype) as Bytes8;
  if (outType !== 'uint8' && outType !== 'int8') fail('E_DTYPE', `${describeNode(node)}: Y must be uint8 or int8, got ${outType}`);
  const channelsLast = attrInt(node, 'channels_last', 0) === 1;
  if (x1.shape.length < 3) fail('E_SHAPE', `${describeNode(node)}: X must have at least 3 axes, got [${x1.shape.join(', ')}]`);
  const params: ops.QLinearPoolParams = {
    xScale: scaleOf(p, node, xs, 'x_scale'), xZeroPoint: zeroPointOf(p, node, xz, 'x_zero_point', x1.dtype as Bytes8),
    yScale: scaleOf(p, node, ys, 'y_scale'), yZeroPoint: zeroPointOf(p, node, yz, 'y_zero_point', outType),
    clip: clipOf(node),
  };
  let x: RtValue, kernelLayout: ops.PoolLayout, shape: number[], layout: Layout;
  if (channelsLast) {
    // The model's own order is channels-last: run on it as written.
    x = toNchw(p, x1);
    kernelLayout = 'nhwc';
    shape = [x1.shape[0], ...x1.shape.slice(1, -1).map(() => 1), x1.shape[x1.shape.length - 1]];
    layout = 'nchw';
  } else {
    x = x1.shape.length === 4 ? x1 : toNchw(p, x1);
    kernelLayout = x.layout;
    shape = [x1.shape[0], x1.shape[1], ...x1.shape.slice(2).map(() => 1)];
    layout = x.layout;
  }
  const out = p.output(node.outputs[0], outType, shape, layout);
  const options = { ...params, layout: kernelLayout };
  return p.step(node.name, [x], [out], (ins, outs, program) => ops.qlinearGlobalAveragePoolInto(ins[0], outs[0], options, program));
};

/** com.microsoft ops (onnxruntime contrib) and the 'lowbit' forms with a fused clamp. */
export const qelementwiseHandlers: Record<string, Handler> = {
  QLinearAdd: qlinearBinary('add'),
  QLinearMul: qlinearBinary('mul'),
  QLinearGlobalAveragePool: qlinearGlobalAveragePool,
};
