// Quantization ops: QuantizeLinear, DequantizeLinear, MatMulInteger and
// QLinearMatMul (including DQ -> MatMul -> Q groups fused by the QDQ pass).
import { fail } from '../../errors';
import { attrInt, describeNode, Node } from '../../graph/ir';
import * as ops from '../../ops';
import { OutputStage } from '../../ops/gemm';
import { Tensor } from '../../tensor/tensor';
import type { Handler, Planner } from '../planner';
import { elementCount, RtValue } from '../value';
import { toNchw } from './layout';

function need(node: Node, v: RtValue | undefined, what: string): RtValue {
  if (!v) fail('E_MODEL_INVALID', `${describeNode(node)}: input ${what} is missing`);
  return v;
}

function constant(p: Planner, node: Node, v: RtValue | undefined, what: string): Tensor {
  const x = need(node, v, what);
  if (!x.constant) p.fail(node, `${what} must be a constant (initializer)`);
  return x.constant;
}

function floats(t: Tensor): Float32Array {
  return Float32Array.from(t.data as ArrayLike<number>);
}

function ints(t: Tensor | undefined, fallback = 1): Int32Array {
  return t ? Int32Array.from(t.data as ArrayLike<number>) : new Int32Array(fallback);
}

/** outer/channels/inner of a per-axis parameter over `x`'s physical order. */
function axisBlock(node: Node, x: RtValue, count: number): { v: RtValue; outer: number; channels: number; inner: number } | undefined {
  const n = elementCount(x.shape);
  if (count === 1) return { v: x, outer: 1, channels: 1, inner: n };
  const rank = x.shape.length;
  let axis = attrInt(node, 'axis', 1);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank || x.shape[axis] !== count) fail('E_SHAPE', `${describeNode(node)}: ${count} scales do not match axis ${axis} of [${x.shape.join(', ')}]`);
  return undefined;
}

function perAxis(p: Planner, node: Node, x0: RtValue, count: number): { v: RtValue; outer: number; channels: number; inner: number } {
  const simple = axisBlock(node, x0, count);
  if (simple) return simple;
  const x = toNchw(p, x0);
  let axis = attrInt(node, 'axis', 1);
  if (axis < 0) axis += x.shape.length;
  return { v: x, outer: elementCount(x.shape.slice(0, axis)), channels: count, inner: elementCount(x.shape.slice(axis + 1)) };
}

const quantizeLinear: Handler = (p, node, [x0, s, z]) => {
  const x = need(node, x0, 'x');
  if (x.dtype !== 'float32') fail('E_DTYPE', `${describeNode(node)}: x must be float32, got ${x.dtype}`);
  if (node.attrs.block_size !== undefined && node.attrs.block_size !== 0) p.fail(node, 'blocked quantization is only supported for constant weights');
  const scale = floats(constant(p, node, s, 'y_scale'));
  const zpT = z ? constant(p, node, z, 'y_zero_point') : undefined;
  const dtype = zpT ? zpT.dtype : 'uint8';
  if (dtype !== 'uint8' && dtype !== 'int8') p.fail(node, `output type ${dtype} is not supported (uint8, int8)`);
  const zp = ints(zpT, scale.length);
  const b = perAxis(p, node, x, scale.length);
  const out = p.output(node.outputs[0], dtype, b.v.shape, b.v.layout);
  return p.step(node.name, [b.v], [out], (ins, outs, program) => ops.quantizeLinearInto(ins[0], outs[0], b.outer, b.channels, b.inner, scale, zp, program));
};

const dequantizeLinear: Handler = (p, node, [x0, s, z]) => {
  const x = need(node, x0, 'x');
  if (x.dtype !== 'uint8' && x.dtype !== 'int8' && x.dtype !== 'int32') fail('E_DTYPE', `${describeNode(node)}: x must be int8, uint8 or int32, got ${x.dtype}`);
  const scale = floats(constant(p, node, s, 'x_scale'));
  const zp = ints(z ? constant(p, node, z, 'x_zero_point') : undefined, scale.length);
  if (node.attrs.block_size !== undefined && node.attrs.block_size !== 0) {
    if (!x.constant) p.fail(node, 'blocked dequantization is only supported for constant weights');
    const t = ops.dequantizeLinear(x.constant!, s!.constant!, z?.constant, { axis: attrInt(node, 'axis', 1), blockSize: attrInt(node, 'block_size') });
    return [p.constant(node.outputs[0], t)];
  }
  const b = perAxis(p, node, x, scale.length);
  const out = p.output(node.outputs[0], 'float32', b.v.shape, b.v.layout);
  return p.step(node.name, [b.v], [out], (ins, outs, program) => ops.dequantizeLinearInto(ins[0], outs[0], b.outer, b.channels, b.inner, scale, zp, program));
};

/** Rows (everything but the last axis) and K of a matrix operand in NCHW order. */
function rowsOf(p: Planner, node: Node, a0: RtValue, k: number): { a: RtValue; m: number } {
  const a = toNchw(p, a0);
  if (a.shape.length < 1 || a.shape[a.shape.length - 1] !== k) fail('E_SHAPE', `${describeNode(node)}: a is [${a.shape.join(', ')}], its last dimension must be ${k}`);
  return { a, m: elementCount(a.shape) / k };
}

function packedWeights(p: Planner, node: Node, b: Tensor, zp: Int32Array): ops.PackedMatrix {
  if (b.shape.length !== 2) p.fail(node, `b must be a 2-D constant, got [${b.shape.join(', ')}]`);
  return p.cached(`pack:${node.name}`, () => ops.packMatrix(b, zp.length === 1 ? zp[0] : zp));
}

const matMulInteger: Handler = (p, node, [a0, b0, az, bz]) => {
  const a1 = need(node, a0, 'A');
  const b = constant(p, node, b0, 'B');
  const bZp = ints(bz ? constant(p, node, bz, 'b_zero_point') : undefined);
  const aZp = az ? ints(constant(p, node, az, 'a_zero_point'))[0] : 0;
  const packed = packedWeights(p, node, b, bZp);
  const { a, m } = rowsOf(p, node, a1, packed.k);
  const out = p.output(node.outputs[0], 'int32', [...a.shape.slice(0, -1), packed.n]);
  return p.step(node.name, [a], [out], (ins, outs, program) => ops.gemmInto(packed, ins[0], m, aZp, outs[0], null, program));
};

/** Output-stage clamp for a fused Relu/Clip: Q(max(y, lo)) = max(Q(y), Q(lo)) since Q is monotone. */
export function clampRange(node: Node, scale: number, zp: number, dtype: 'int8' | 'uint8'): [number, number] {
  const [qlo, qhi] = dtype === 'int8' ? [-128, 127] : [0, 255];
  const lo = node.attrs['lowbit.min'] as number | undefined, hi = node.attrs['lowbit.max'] as number | undefined;
  const q = (v: number) => Math.min(qhi, Math.max(qlo, roundHalfEven(Math.fround(v / scale)) + zp));
  return [lo === undefined || lo === -Infinity ? qlo : q(lo), hi === undefined || hi === Infinity ? qhi : q(hi)];
}

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const qlinearMatMul: Handler = (p, node, inputs) => {
  const [a0, as, az, b0, bs, bz, ys, yz] = inputs;
  const a1 = need(node, a0, 'a');
  const b = constant(p, node, b0, 'b');
  const bZp = ints(bz ? constant(p, node, bz, 'b_zero_point') : undefined);
  const packed = packedWeights(p, node, b, bZp);
  const sa = floats(constant(p, node, as, 'a_scale'))[0];
  const sb = floats(constant(p, node, bs, 'b_scale'));
  const sy = floats(constant(p, node, ys, 'y_scale'))[0];
  const yzT = yz ? constant(p, node, yz, 'y_zero_point') : undefined;
  const outType = (yzT ? yzT.dtype : a1.dtype) as 'int8' | 'uint8';
  const yZp = yzT ? ints(yzT)[0] : 0;
  const aZp = az ? ints(constant(p, node, az, 'a_zero_point'))[0] : 0;
  const scale = Array.from(sb, (s) => Math.fround(Math.fround(sa * s) / sy));
  const [min, max] = clampRange(node, sy, yZp, outType);
  const stage = p.cached(`stage:${node.name}`, () => new OutputStage({ mode: 'fp32', scale, zeroPoint: yZp, min, max, outType }));
  const { a, m } = rowsOf(p, node, a1, packed.k);
  const out = p.output(node.outputs[0], outType, [...a.shape.slice(0, -1), packed.n]);
  return p.step(node.name, [a], [out], (ins, outs, program) => ops.gemmInto(packed, ins[0], m, aZp, outs[0], stage, program));
};

/** ONNX DynamicQuantizeLinear: uint8 y with the scale and zero point of x's own range. */
const dynamicQuantizeLinear: Handler = (p, node, [x0]) => {
  const x = need(node, x0, 'x');
  if (x.dtype !== 'float32') fail('E_DTYPE', `${describeNode(node)}: x must be float32, got ${x.dtype}`);
  const n = elementCount(x.shape);
  const y = p.output(node.outputs[0], 'uint8', x.shape, x.layout);
  const s = p.output(node.outputs[1] || `${node.name}:scale`, 'float32', []);
  const z = p.output(node.outputs[2] || `${node.name}:zero_point`, 'uint8', []);
  return p.step(node.name, [x], [y, s, z], (ins, outs, program) => ops.dynamicQuantizeLinearInto(ins[0], n, outs[0], outs[1], outs[2], program));
};

/**
 * lowbit.DynamicMatMul (from the dynamic-quantization pass): x [..., K] float32,
 * w int8 [K, N] constant, w_scale (1 or N), optional bias [N]: float32 [..., N].
 */
export const dynamicMatMul: Handler = (p, node, [x0, w0, ws0, b0]) => {
  const x1 = need(node, x0, 'x');
  if (x1.dtype !== 'float32') fail('E_DTYPE', `${describeNode(node)}: x must be float32, got ${x1.dtype}`);
  const w = constant(p, node, w0, 'w');
  if (w.dtype !== 'int8') p.fail(node, `w must be int8, got ${w.dtype}`);
  const packed = packedWeights(p, node, w, new Int32Array(1));
  const ws = floats(constant(p, node, ws0, 'w_scale'));
  if (ws.length !== 1 && ws.length !== packed.n) fail('E_SHAPE', `${describeNode(node)}: w_scale has ${ws.length} values, expected 1 or ${packed.n}`);
  const bias = b0 ? floats(constant(p, node, b0, 'bias')) : null;
  if (bias && bias.length !== packed.n) fail('E_SHAPE', `${describeNode(node)}: bias has ${bias.length} values, expected ${packed.n}`);
  const { a, m } = rowsOf(p, node, x1, packed.k);
  const out = p.output(node.outputs[0], 'float32', [...a.shape.slice(0, -1), packed.n]);
  return p.step(node.name, [a], [out], (ins, outs, program) => ops.dynamicGemmInto(packed, ins[0], m, ws, bias, outs[0], program));
};

/**
 * lowbit.Int4MatMul (from the int4 pass): x [..., K] float32 times int4 weights
 * ('kn' [K, N] or 'nk' [N, K]) with per-channel or blocked scales, plus a bias.
 */
export const int4MatMul: Handler = (p, node, [x0, w0, s0, b0]) => {
  const x1 = need(node, x0, 'x');
  if (x1.dtype !== 'float32') fail('E_DTYPE', `${describeNode(node)}: x must be float32, got ${x1.dtype}`);
  const w = constant(p, node, w0, 'w'), scales = constant(p, node, s0, 'scales');
  const bias = b0 ? constant(p, node, b0, 'bias') : null;
  const layout = node.attrs['lowbit.layout'] as 'kn' | 'nk';
  const packed = p.cached(`int4:${node.name}`, () => ops.packInt4Weights(w, { layout, scales, blockSize: node.attrs['lowbit.block'] as ops.Int4BlockSize, bias }));
  const { a, m } = rowsOf(p, node, x1, packed.k);
  const out = p.output(node.outputs[0], 'float32', [...a.shape.slice(0, -1), packed.n]);
  return p.step(node.name, [a], [out], (ins, outs, program) => ops.int4GemmInto(packed, ins[0], m, outs[0], {}, program));
};

export const quantHandlers: Record<string, Handler> = {
  QuantizeLinear: quantizeLinear,
  DynamicQuantizeLinear: dynamicQuantizeLinear,
  DequantizeLinear: dequantizeLinear,
  MatMulInteger: matMulInteger,
  QLinearMatMul: qlinearMatMul,
};


/** lowbit.Lut8 (from the QDQ pass): DequantizeLinear -> f -> QuantizeLinear as one table lookup. */
export const lut8: Handler = (p, node, [x0, xs, xz, ys, yz]) => {
  const x = need(node, x0, 'x');
  if (x.dtype !== 'uint8' && x.dtype !== 'int8') fail('E_DTYPE', `${describeNode(node)}: x must be uint8 or int8, got ${x.dtype}`);
  const yzT = yz ? constant(p, node, yz, 'y_zero_point') : undefined;
  const outType = (yzT ? yzT.dtype : 'uint8') as 'int8' | 'uint8';
  const table = p.cached(`lut:${node.name}`, () => {
    const input = { dtype: x.dtype as 'int8' | 'uint8', scale: floats(constant(p, node, xs, 'x_scale'))[0], zeroPoint: xz ? ints(constant(p, node, xz, 'x_zero_point'))[0] : 0 };
    const output = { dtype: outType, scale: floats(constant(p, node, ys, 'y_scale'))[0], zeroPoint: yzT ? ints(yzT)[0] : 0 };
    const a = node.attrs;
    const params = { alpha: a['lowbit.alpha'] as number | undefined, beta: a['lowbit.beta'] as number | undefined, min: a['lowbit.min'] as number | undefined, max: a['lowbit.max'] as number | undefined };
    return ops.quantizedUnaryTable(a['lowbit.op'] as ops.UnaryOpName, input, output, params);
  });
  const out = p.output(node.outputs[0], outType, x.shape, x.layout);
  return p.step(node.name, [x], [out], (ins, outs, program) => ops.lut8Into(ins[0], table, outs[0], program));
};
