// Convolutions and matrix products: Conv, ConvTranspose, MatMul, Gemm (fp32) and
// QLinearConv, ConvInteger (int8). Weights are packed once per session;
// convolutions run channels-last, with the activation fused into the epilogue.
import { fail } from '../../errors';
import { attrFloat, attrInt, attrInts, attrString, describeNode, Node } from '../../graph/ir';
import * as ops from '../../ops';
import { convAutoPads, type Activation, type AutoPad } from '../../ops/conv';
import { OutputStage } from '../../ops/gemm';
import { Tensor } from '../../tensor/tensor';
import type { Handler, Planner } from '../planner';
import type { RtValue } from '../value';
import { toNchw, toNhwc } from './layout';
import { clampRange } from './quant';

function need(node: Node, v: RtValue | undefined, what: string): RtValue {
  if (!v) fail('E_MODEL_INVALID', `${describeNode(node)}: input ${what} is missing`);
  return v;
}

function constant(p: Planner, node: Node, v: RtValue | undefined, what: string): Tensor {
  const x = need(node, v, what);
  if (!x.constant) p.fail(node, `${what} must be a constant (initializer)`);
  return x.constant;
}

/** The activation the fusion pass attached, in the kernels' terms. */
export function fusedActivation(node: Node): Activation {
  switch (node.attrs['lowbit.activation']) {
    case undefined: return 'none';
    case 'clip': return { kind: 'clip', min: node.attrs['lowbit.min'] as number, max: node.attrs['lowbit.max'] as number };
    case 'hardswish': return 'hardswish';
    case 'hardsigmoid': return { kind: 'hardsigmoid', alpha: node.attrs['lowbit.alpha'] as number, beta: node.attrs['lowbit.beta'] as number };
    default: fail('E_INTERNAL', `${describeNode(node)}: unknown fused activation ${String(node.attrs['lowbit.activation'])}`);
  }
}

interface Geometry {
  pads: number[];
  strides: number[];
  dilations: number[];
}

/** Pads/strides/dilations of a 2-D convolution for an NCHW input shape. */
function geometry(node: Node, x: readonly number[], kernel: readonly number[]): Geometry {
  const strides = attrInts(node, 'strides', [1, 1]);
  const dilations = attrInts(node, 'dilations', [1, 1]);
  if (strides.length !== 2 || dilations.length !== 2) fail('E_UNSUPPORTED_OP', `${describeNode(node)}: only 2-D convolutions are supported`);
  const autoPad = attrString(node, 'auto_pad', 'NOTSET') as AutoPad;
  const pads = autoPad === 'NOTSET' ? attrInts(node, 'pads', [0, 0, 0, 0]) : convAutoPads(autoPad, [x[2], x[3]], kernel, strides, dilations);
  if (pads.length !== 4) fail('E_MODEL_INVALID', `${describeNode(node)}: pads must have 4 values for a 2-D convolution`);
  return { pads, strides, dilations };
}

function rank4(p: Planner, node: Node, x: RtValue): void {
  if (x.shape.length !== 4) p.fail(node, `only 2-D convolutions (4-D inputs) are supported, got [${x.shape.join(', ')}]`);
}

const conv: Handler = (p, node, [x0, w0, b0]) => {
  const x1 = need(node, x0, 'X');
  rank4(p, node, x1);
  if (x1.dtype !== 'float32') fail('E_DTYPE', `${describeNode(node)}: X must be float32, got ${x1.dtype}`);
  const w = constant(p, node, w0, 'W');
  const bias = b0 ? constant(p, node, b0, 'B') : null;
  const groups = attrInt(node, 'group', 1);
  const packed = p.cached(`conv:${node.name}`, () => ops.packConv2d(w, bias, { groups }));
  const g = geometry(node, x1.shape, [w.shape[2], w.shape[3]]);
  const options = { ...g, activation: fusedActivation(node) };
  const x = toNhwc(p, x1);
  const [n, oh, ow, m] = ops.conv2dShape([x1.shape[0], x1.shape[2], x1.shape[3], x1.shape[1]], packed, options);
  const out = p.output(node.outputs[0], 'float32', [n, m, oh, ow], 'nhwc');
  return p.step(node.name, [x], [out], (ins, outs, program) => ops.conv2dInto(ins[0], packed, outs[0], options, program));
};

const convTranspose: Handler = (p, node, [x0, w0, b0]) => {
  const x1 = need(node, x0, 'X');
  rank4(p, node, x1);
  const w = constant(p, node, w0, 'W');
  const bias = b0 ? constant(p, node, b0, 'B') : null;
  const groups = attrInt(node, 'group', 1);
  const packed = p.cached(`convT:${node.name}`, () => ops.packConvTranspose(w, bias, { groups }));
  const strides = attrInts(node, 'strides', [1, 1]), dilations = attrInts(node, 'dilations', [1, 1]);
  const outputPadding = attrInts(node, 'output_padding', [0, 0]);
  const autoPad = attrString(node, 'auto_pad', 'NOTSET') as AutoPad;
  const kernel = [w.shape[2], w.shape[3]];
  let pads = attrInts(node, 'pads', [0, 0, 0, 0]);
  const outputShape = node.attrs.output_shape !== undefined ? attrInts(node, 'output_shape').slice(-2) : undefined;
  if (outputShape || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const target = outputShape ?? [x1.shape[2] * strides[0], x1.shape[3] * strides[1]];
    // The padding that gives the requested size; a size past the full output
    // (negative padding) is reached with extra output padding instead.
    const total = [0, 1].map((i) => strides[i] * (x1.shape[2 + i] - 1) + outputPadding[i] + (kernel[i] - 1) * dilations[i] + 1 - target[i]);
    total.forEach((t, i) => {
      if (t < 0) outputPadding[i] -= t;
    });
    const pos = total.map((t) => Math.max(0, t));
    const begin = pos.map((t) => (autoPad === 'SAME_UPPER' ? Math.floor(t / 2) : t - Math.floor(t / 2)));
    pads = [begin[0], begin[1], pos[0] - begin[0], pos[1] - begin[1]];
  } else if (autoPad === 'VALID') {
    pads = [0, 0, 0, 0];
  }
  const options = { pads, strides, dilations, outputPadding, activation: fusedActivation(node) };
  const x = toNhwc(p, x1);
  const [n, oh, ow, m] = ops.convTransposeShape([x1.shape[0], x1.shape[2], x1.shape[3], x1.shape[1]], packed, options);
  const out = p.output(node.outputs[0], 'float32', [n, m, oh, ow], 'nhwc');
  return p.step(node.name, [x], [out], (ins, outs, program) => ops.convTransposeInto(ins[0], packed, outs[0], options, program));
};

/** MatMul with constant 2-D B (weights), and Gemm. Batch dims of A fold into rows. */
const matMul: Handler = (p, node, [a0, b0]) => {
  const a1 = need(node, a0, 'A');
  const b = constant(p, node, b0, 'B');
  if (a1.dtype !== 'float32' || b.dtype !== 'float32') fail('E_DTYPE', `${describeNode(node)}: A and B must be float32`);
  if (b.shape.length !== 2) p.fail(node, `B must be 2-D, got [${b.shape.join(', ')}]`);
  if (a1.shape.length < 1) p.fail(node, 'A must have at least 1 dimension');
  const packed = p.cached(`gemm:${node.name}`, () => ops.packGemmF32(b));
  const a = toNchw(p, a1);
  const squeeze = a.shape.length === 1;
  const rows = squeeze ? [1, a.shape[0]] : a.shape;
  const av = squeeze ? p.alias(`${node.name}#a2d`, a, rows) : a;
  const outShape = squeeze ? [packed.n] : [...a.shape.slice(0, -1), packed.n];
  const out = p.output(node.outputs[0], 'float32', outShape);
  const activation = fusedActivation(node);
  return p.step(node.name, [av], [out], (ins, outs, program) => {
    const o = squeeze ? { ...outs[0], shape: [1, packed.n] } : outs[0];
    ops.gemmF32Into(ins[0], packed, o as never, { activation }, program);
  });
};

const gemm: Handler = (p, node, [a0, b0, c0]) => {
  const a1 = toNchw(p, need(node, a0, 'A'));
  if (attrInt(node, 'transA', 0) !== 0) p.fail(node, 'transA = 1 is not supported');
  const b = constant(p, node, b0, 'B');
  const c = c0 ? constant(p, node, c0, 'C') : null;
  const transB = attrInt(node, 'transB', 0) === 1;
  const n = transB ? b.shape[0] : b.shape[1];
  if (c && !(c.size === 1 || (c.size === n && (c.shape.length === 1 || c.shape[0] === 1)))) p.fail(node, `C [${c.shape.join(', ')}] must broadcast along the rows (1 or N values)`);
  const packed = p.cached(`gemm:${node.name}`, () => ops.packGemmF32(b, { transB, bias: c, alpha: attrFloat(node, 'alpha', 1), beta: attrFloat(node, 'beta', 1) }));
  if (a1.shape.length !== 2) p.fail(node, `A must be 2-D, got [${a1.shape.join(', ')}]`);
  const out = p.output(node.outputs[0], 'float32', [a1.shape[0], packed.n]);
  const activation = fusedActivation(node);
  return p.step(node.name, [a1], [out], (ins, outs, program) => ops.gemmF32Into(ins[0], packed, outs[0], { activation }, program));
};

function ints(t: Tensor | undefined): Int32Array {
  return t ? Int32Array.from(t.data as ArrayLike<number>) : new Int32Array(1);
}

const qlinearConv: Handler = (p, node, inputs) => {
  const [x0, xs, xz, w0, ws, wz, ys, yz, b0] = inputs;
  const x1 = need(node, x0, 'x');
  rank4(p, node, x1);
  if (x1.dtype !== 'uint8' && x1.dtype !== 'int8') fail('E_DTYPE', `${describeNode(node)}: x must be uint8 or int8, got ${x1.dtype}`);
  const w = constant(p, node, w0, 'w');
  const groups = attrInt(node, 'group', 1);
  const wZp = ints(wz ? constant(p, node, wz, 'w_zero_point') : undefined);
  const packed = p.cached(`qconv:${node.name}`, () => ops.packConvInt8(w, { groups, wZeroPoint: wZp.length === 1 ? wZp[0] : wZp }));
  const sx = (constant(p, node, xs, 'x_scale').data as Float32Array)[0];
  const sw = constant(p, node, ws, 'w_scale').data as Float32Array;
  const sy = (constant(p, node, ys, 'y_scale').data as Float32Array)[0];
  const yzT = yz ? constant(p, node, yz, 'y_zero_point') : undefined;
  const outType = (yzT ? yzT.dtype : x1.dtype) as 'int8' | 'uint8';
  const yZp = yzT ? ints(yzT)[0] : 0;
  const xZp = xz ? ints(constant(p, node, xz, 'x_zero_point'))[0] : 0;
  const bias = b0 ? ints(constant(p, node, b0, 'B')) : undefined;
  const g = geometry(node, x1.shape, [w.shape[2], w.shape[3]]);
  const x = toNhwc(p, x1);
  const [n, oh, ow, m] = ops.convInt8OutputShape([x1.shape[0], x1.shape[2], x1.shape[3], x1.shape[1]], packed, g);
  const out = p.output(node.outputs[0], outType, [n, m, oh, ow], 'nhwc');
  // lowbit's fused form (fuse-qdq.ts): HardSwish between the convolution and
  // its quantization, applied in the output stage before the clamp.
  if (node.domain === 'lowbit' && node.attrs['lowbit.activation'] !== 'hardswish') p.fail(node, `lowbit.activation must be 'hardswish', got ${String(node.attrs['lowbit.activation'])}`);
  const hardSwish = node.domain === 'lowbit' ? { yScale: sy } : undefined;
  const [min, max] = clampRange(node, sy, yZp, outType);
  const stage = p.cached(`qstage:${node.name}`, () => new OutputStage({
    mode: 'fp32', scale: Array.from(sw, (s) => Math.fround(Math.fround(sx * s) / sy)), zeroPoint: yZp, outType, bias, min, max, hardSwish,
  }));
  return p.step(node.name, [x], [out], (ins, outs, program) => ops.convInt8Into(ins[0], packed, outs[0], { ...g, xZeroPoint: xZp, stage }, program));
};

const convInteger: Handler = (p, node, [x0, w0, xz, wz]) => {
  const x1 = need(node, x0, 'x');
  rank4(p, node, x1);
  const w = constant(p, node, w0, 'w');
  const groups = attrInt(node, 'group', 1);
  const wZp = ints(wz ? constant(p, node, wz, 'w_zero_point') : undefined);
  const packed = p.cached(`qconv:${node.name}`, () => ops.packConvInt8(w, { groups, wZeroPoint: wZp.length === 1 ? wZp[0] : wZp }));
  const xZp = xz ? ints(constant(p, node, xz, 'x_zero_point'))[0] : 0;
  const g = geometry(node, x1.shape, [w.shape[2], w.shape[3]]);
  const x = toNhwc(p, x1);
  const [n, oh, ow, m] = ops.convInt8OutputShape([x1.shape[0], x1.shape[2], x1.shape[3], x1.shape[1]], packed, g);
  const out = p.output(node.outputs[0], 'int32', [n, m, oh, ow], 'nhwc');
  return p.step(node.name, [x], [out], (ins, outs, program) => ops.convInt8Into(ins[0], packed, outs[0], { ...g, xZeroPoint: xZp, stage: null }, program));
};

export const convHandlers: Record<string, Handler> = {
  Conv: conv,
  ConvTranspose: convTranspose,
  MatMul: matMul,
  Gemm: gemm,
  QLinearConv: qlinearConv,
  ConvInteger: convInteger,
};

/** lowbit-domain forms: QLinearConv with a fused HardSwish. */
export const lowbitConvHandlers: Record<string, Handler> = {
  QLinearConv: qlinearConv,
};

