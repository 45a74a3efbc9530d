// Elementwise ops, normalisation, reductions, pooling and data movement.
// Elementwise ops and pooling follow their input's layout (an NHWC chain stays
// NHWC; per-channel constants are laid out to match); ops that index axes
// (Softmax, Reduce*, Transpose, Slice, Pad, Gather...) run in NCHW order.
import { fail } from '../../errors';
import { attrFloat, attrInt, attrInts, attrString, describeNode, Node } from '../../graph/ir';
import * as ops from '../../ops';
import type { BinaryOpName, UnaryOpName, UnaryParams } from '../../ops/elementwise';
import { Tensor } from '../../tensor/tensor';
import type { Handler, Planner } from '../planner';
import { broadcastShapes } from '../tensor-utils';
import { elementCount, Layout, RtValue } from '../value';
import { toNchw, toNhwc } from './layout';
import { castConstant, castOfConstant, concatOfConstants, constInts, sliceOfConstant, sliceView } from './shape';
import { clipBounds } from '../../graph/passes/fuse-activations';

function need(node: Node, v: RtValue | undefined, what: string): RtValue {
  if (!v) fail('E_MODEL_INVALID', `${describeNode(node)}: input ${what} is missing`);
  return v;
}

/** A constant widened to rank 4 so it can be laid out NHWC next to a 4-D operand. */
function asRank4(p: Planner, v: RtValue): RtValue {
  const shape = [...new Array<number>(4 - v.shape.length).fill(1), ...v.shape];
  return { ...p.constant(`${v.name}#r4`, new Tensor(v.dtype, v.constant!.data as never, shape)), layout: 'nhwc' };
}

/** The layout an elementwise op over these operands runs in, and the operands in it. */
function elementwiseOperands(p: Planner, xs: RtValue[]): { layout: Layout; values: RtValue[] } {
  const nhwc = xs.some((x) => !x.constant && x.shape.length === 4 && x.layout === 'nhwc');
  const fits = xs.every((x) => (x.constant ? x.shape.length <= 4 : x.shape.length === 4));
  if (nhwc && fits) return { layout: 'nhwc', values: xs.map((x) => (x.constant ? asRank4(p, x) : toNhwc(p, x))) };
  return { layout: 'nchw', values: xs.map((x) => toNchw(p, x)) };
}

function binary(op: BinaryOpName): Handler {
  return (p, node, inputs) => {
    const xs = inputs.map((v, i) => need(node, v, `${i}`));
    if (xs.length < 2 && op !== 'add' && op !== 'max' && op !== 'min') fail('E_MODEL_INVALID', `${describeNode(node)}: needs two inputs`);
    // Variadic Sum/Max/Min: a chain of binary steps.
    if (op === 'pow' && xs[0].dtype === 'float32' && xs[1].dtype === 'int32') {
      xs[1] = xs[1].constant ? p.constant(`${xs[1].name}#f32`, castConstant(node, xs[1].constant, 1)) : castStep(p, xs[1], 'float32');
    }
    if (op === 'pow' && xs[0].dtype !== 'float32' && xs[1].dtype !== xs[0].dtype) p.fail(node, `Pow of an ${xs[0].dtype} base by a ${xs[1].dtype} exponent is not supported`);
    let acc = xs[0];
    if (xs.length === 1) return [p.alias(node.outputs[0], acc, acc.shape, acc.layout)];
    for (let i = 1; i < xs.length; i++) {
      const { layout, values } = elementwiseOperands(p, [acc, xs[i]]);
      const shape = broadcastShapes(acc.shape, xs[i].shape);
      if (!shape) fail('E_SHAPE', `${describeNode(node)}: [${acc.shape.join(', ')}] and [${xs[i].shape.join(', ')}] do not broadcast`);
      if (acc.dtype !== xs[i].dtype) fail('E_DTYPE', `${describeNode(node)}: inputs are ${acc.dtype} and ${xs[i].dtype}`);
      const name = i === xs.length - 1 ? node.outputs[0] : `${node.outputs[0]}#${i}`;
      const out = i === xs.length - 1 ? p.output(name, acc.dtype, shape, layout) : p.temp(name, acc.dtype, shape, layout);
      [acc] = p.step(node.name, values, [out], (ins, outs, program) => ops.binaryOpInto(op, ins[0], ins[1], outs[0], {}, program));
    }
    return [acc];
  };
}

function unary(op: UnaryOpName, params: (p: Planner, n: Node, inputs: (RtValue | undefined)[]) => UnaryParams = () => ({})): Handler {
  return (p, node, inputs) => {
    const x = need(node, inputs[0], 'X');
    const prm = params(p, node, inputs);
    const out = p.output(node.outputs[0], x.dtype, x.shape, x.layout);
    return p.step(node.name, [x], [out], (ins, outs, program) => ops.unaryOpInto(op, ins[0], outs[0], prm, program));
  };
}

const clipParams = (p: Planner, n: Node, inputs: (RtValue | undefined)[]): UnaryParams => {
  if (inputs.length <= 1) return { min: attrFloat(n, 'min', -Infinity), max: attrFloat(n, 'max', Infinity) };
  const bound = (v: RtValue | undefined, what: string) => {
    if (!v) return undefined;
    if (!v.constant) p.fail(n, `${what} must be a constant`);
    return Number((v.constant.data as ArrayLike<number>)[0]);
  };
  return { min: bound(inputs[1], 'min') ?? -Infinity, max: bound(inputs[2], 'max') ?? Infinity };
};

const batchNorm: Handler = (p, node, inputs) => {
  const x = need(node, inputs[0], 'X');
  const params = [1, 2, 3, 4].map((i) => {
    const v = need(node, inputs[i], ['', 'scale', 'B', 'input_mean', 'input_var'][i]);
    if (!v.constant) p.fail(node, 'scale, bias, mean and variance must be constants');
    return v.constant!.data as Float32Array;
  });
  if (attrInt(node, 'training_mode', 0) !== 0) p.fail(node, 'training mode is not supported');
  const epsilon = attrFloat(node, 'epsilon', 1e-5);
  const layout: Layout = x.shape.length === 4 ? x.layout : 'nchw';
  const xv = layout === 'nchw' ? toNchw(p, x) : x;
  const out = p.output(node.outputs[0], 'float32', x.shape, layout);
  return p.step(node.name, [xv], [out], (ins, outs, program) => ops.batchNormalizationInto(ins[0], params[0], params[1], params[2], params[3], outs[0], { layout, epsilon }, program));
};

function softmax(log: boolean): Handler {
  return (p, node, [x0]) => {
    const x = toNchw(p, need(node, x0, 'input'));
    const axis = node.attrs.axis !== undefined ? attrInt(node, 'axis') : undefined;
    const opset = p.graph.opset;
    const out = p.output(node.outputs[0], 'float32', x.shape);
    return p.step(node.name, [x], [out], (ins, outs, program) => (log ? ops.logSoftmaxInto : ops.softmaxInto)(ins[0], outs[0], { axis, opset }, program));
  };
}

function reduce(op: ops.ReduceOpName): Handler {
  return (p, node, inputs) => {
    const x = toNchw(p, need(node, inputs[0], 'data'));
    const axes = node.attrs.axes !== undefined ? attrInts(node, 'axes') : inputs[1] ? constInts(p, node, inputs[1], 'axes') : undefined;
    const options = { axes, keepdims: attrInt(node, 'keepdims', 1) === 1, noopWithEmptyAxes: attrInt(node, 'noop_with_empty_axes', 0) === 1 };
    const out = p.output(node.outputs[0], 'float32', ops.reduceShape(x.shape, options), 'nchw');
    return p.step(node.name, [x], [out], (ins, outs, program) => ops.reduceInto(op, ins[0], outs[0], options, program));
  };
}

function castStep(p: Planner, x: RtValue, to: 'float32' | 'int32'): RtValue {
  const out = p.temp(x.name, to, x.shape, x.layout);
  return p.step(`cast(${x.name})`, [x], [out], (ins, outs, program) => ops.castInto(ins[0], outs[0], program))[0];
}

const ONNX_CAST: Record<number, 'float32' | 'int32' | 'int8' | 'uint8' | undefined> = { 1: 'float32', 2: 'uint8', 3: 'int8', 6: 'int32', 7: 'int32' };

const cast: Handler = (p, node, [x0]) => {
  const x = need(node, x0, 'input');
  if (x.constant) return castOfConstant(p, node, x);
  const to = ONNX_CAST[attrInt(node, 'to')];
  if (!to) p.fail(node, `cast to ONNX type ${attrInt(node, 'to')} is not supported`);
  const out = p.output(node.outputs[0], to!, x.shape, x.layout);
  return p.step(node.name, [x], [out], (ins, outs, program) => ops.castInto(ins[0], outs[0], program));
};

function pool(kind: 'max' | 'average'): Handler {
  return (p, node, [x0]) => {
    const x1 = need(node, x0, 'X');
    if (node.outputs.length > 1 && node.outputs[1] !== '') p.fail(node, 'the Indices output is not supported');
    const layout: Layout = x1.shape.length === 4 ? 'nhwc' : 'nchw';
    const x = layout === 'nhwc' ? toNhwc(p, x1) : toNchw(p, x1);
    const options: ops.PoolOptions = {
      kernelShape: attrInts(node, 'kernel_shape'),
      strides: node.attrs.strides !== undefined ? attrInts(node, 'strides') : undefined,
      pads: node.attrs.pads !== undefined ? attrInts(node, 'pads') : undefined,
      dilations: node.attrs.dilations !== undefined ? attrInts(node, 'dilations') : undefined,
      autoPad: attrString(node, 'auto_pad', 'NOTSET') as ops.PoolOptions['autoPad'],
      ceilMode: attrInt(node, 'ceil_mode', 0) === 1,
      countIncludePad: attrInt(node, 'count_include_pad', 0) === 1,
      layout,
    };
    const phys = layout === 'nhwc' ? [x1.shape[0], x1.shape[2], x1.shape[3], x1.shape[1]] : [...x1.shape];
    const g = ops.poolShape(phys, options);
    const shape = layout === 'nhwc' ? [g.outShape[0], g.outShape[3], g.outShape[1], g.outShape[2]] : g.outShape;
    const out = p.output(node.outputs[0], x1.dtype, shape, layout);
    return p.step(node.name, [x], [out], (ins, outs, program) => (kind === 'max' ? ops.maxPoolInto : ops.averagePoolInto)(ins[0], outs[0], options, program));
  };
}

function globalPool(kind: 'max' | 'average'): Handler {
  return (p, node, [x0]) => {
    const x1 = need(node, x0, 'X');
    const layout: Layout = x1.shape.length === 4 ? 'nhwc' : 'nchw';
    const x = layout === 'nhwc' ? toNhwc(p, x1) : toNchw(p, x1);
    const shape = [x1.shape[0], x1.shape[1], ...x1.shape.slice(2).map(() => 1)];
    const out = p.output(node.outputs[0], x1.dtype, shape, layout);
    return p.step(node.name, [x], [out], (ins, outs, program) => (kind === 'max' ? ops.globalMaxPoolInto : ops.globalAveragePoolInto)(ins[0], outs[0], { layout }, program));
  };
}

const transpose: Handler = (p, node, [x0]) => {
  const x = toNchw(p, need(node, x0, 'data'));
  const perm = node.attrs.perm !== undefined ? attrInts(node, 'perm') : x.shape.map((_, i) => x.shape.length - 1 - i);
  const shape = ops.transposeShape(x.shape, perm);
  if (x.shape.length === 4 && perm.join() === '0,2,3,1') {
    // NCHW -> NHWC is a layout change: the planner's own copy, shared with convolutions.
    const nhwc = toNhwc(p, x);
    return [p.alias(node.outputs[0], nhwc, shape, 'nchw')];
  }
  const out = p.output(node.outputs[0], x.dtype, shape);
  return p.step(node.name, [x], [out], (ins, outs, program) => ops.transposeInto(ins[0], outs[0], x.shape, perm, program));
};

const concat: Handler = (p, node, inputs) => {
  const xs = inputs.map((v, i) => need(node, v, `${i}`));
  if (xs.every((x) => x.constant)) return concatOfConstants(p, node, inputs);
  const rank = xs[0].shape.length;
  let axis = attrInt(node, 'axis');
  if (axis < 0) axis += rank;
  const shape = ops.concatShape(xs.map((x) => x.shape), axis);
  // Channel concatenation of 4-D values stays NHWC (physical axis 3).
  if (rank === 4 && axis === 1 && xs.some((x) => x.layout === 'nhwc' && !x.constant)) {
    const values = xs.map((x) => (x.constant ? { ...x, layout: 'nhwc' as Layout } : toNhwc(p, x)));
    const out = p.output(node.outputs[0], xs[0].dtype, shape, 'nhwc');
    return p.step(node.name, values, [out], (ins, outs, program) => ops.concatInto(ins, outs[0], 3, program));
  }
  const values = xs.map((x) => toNchw(p, x));
  const out = p.output(node.outputs[0], xs[0].dtype, shape);
  return p.step(node.name, values, [out], (ins, outs, program) => ops.concatInto(ins, outs[0], axis, program));
};

const slice: Handler = (p, node, inputs) => {
  const x0 = need(node, inputs[0], 'data');
  if (x0.constant) return sliceOfConstant(p, node, inputs);
  const x = toNchw(p, x0);
  const view = sliceView(p, node, inputs, x.shape);
  const axes = x.shape.map((_, i) => i);
  const options = { starts: view.starts, ends: view.starts.map((s, i) => s + view.steps[i] * view.shape[i]), axes, steps: view.steps };
  // ends computed from the planned view: for negative steps an end of -1 means "before 0", which ONNX spells -(dim+1).
  options.ends = options.ends.map((e, i) => (e < 0 ? -x.shape[i] - 1 : e));
  const out = p.output(node.outputs[0], x.dtype, view.shape);
  return p.step(node.name, [x], [out], (ins, outs, program) => ops.sliceInto(ins[0], outs[0], options, program));
};

const pad: Handler = (p, node, inputs) => {
  const x = toNchw(p, need(node, inputs[0], 'data'));
  const pads = node.attrs.pads !== undefined ? attrInts(node, 'pads') : constInts(p, node, inputs[1], 'pads');
  const value = node.attrs.value !== undefined ? attrFloat(node, 'value') : inputs[2] ? constInts(p, node, inputs[2], 'constant_value')[0] : 0;
  const axes = inputs[3] ? constInts(p, node, inputs[3], 'axes') : undefined;
  const options = { pads, mode: attrString(node, 'mode', 'constant') as ops.PadMode, value, axes };
  const out = p.output(node.outputs[0], x.dtype, ops.padPlan(x.shape, options).outShape);
  return p.step(node.name, [x], [out], (ins, outs, program) => ops.padInto(ins[0], outs[0], options, program));
};

const resize: Handler = (p, node, inputs) => {
  const x1 = need(node, inputs[0], 'X');
  const legacy = p.graph.opset < 11; // Resize-10 / Upsample: (X, scales)
  const scalesV = legacy ? inputs[1] : inputs[2], sizesV = legacy ? undefined : inputs[3];
  const floats = (v: RtValue | undefined) => {
    if (v && !v.constant) p.fail(node, `${v.name} (roi/scales) must be a constant`);
    return v && v.constant!.size > 0 ? Array.from(v.constant!.data as Float32Array) : undefined;
  };
  const scales = floats(scalesV), sizes = sizesV ? constInts(p, node, sizesV, 'sizes') : undefined;
  const roi = !legacy && inputs[1] ? floats(inputs[1]) : undefined;
  const layout: Layout = x1.shape.length === 4 ? x1.layout : 'nchw';
  const x = layout === 'nhwc' ? x1 : toNchw(p, x1);
  const mode = attrString(node, 'mode', 'nearest') as ops.ResizeMode;
  const options: ops.ResizeOptions = {
    scales: sizes && sizes.length > 0 ? undefined : scales,
    sizes: sizes && sizes.length > 0 ? sizes : undefined,
    axes: node.attrs.axes !== undefined ? attrInts(node, 'axes') : undefined,
    roi,
    mode,
    coordinateTransformationMode: attrString(node, 'coordinate_transformation_mode', legacy ? 'asymmetric' : 'half_pixel') as ops.CoordinateTransformationMode,
    nearestMode: attrString(node, 'nearest_mode', legacy ? 'floor' : 'round_prefer_floor') as ops.NearestMode,
    cubicCoeffA: attrFloat(node, 'cubic_coeff_a', -0.75),
    excludeOutside: attrInt(node, 'exclude_outside', 0) === 1,
    extrapolationValue: attrFloat(node, 'extrapolation_value', 0),
    keepAspectRatioPolicy: attrString(node, 'keep_aspect_ratio_policy', 'stretch') as ops.ResizeOptions['keepAspectRatioPolicy'],
    antialias: attrInt(node, 'antialias', 0) === 1,
    layout,
  };
  const out = p.output(node.outputs[0], x.dtype, ops.resizeShape(x1.shape, options), layout);
  return p.step(node.name, [x], [out], (ins, outs, program) => ops.resizeInto(ins[0], outs[0], options, program));
};

const gather: Handler = (p, node, [d, i]) => {
  const data = need(node, d, 'data'), idx = need(node, i, 'indices');
  const axis = attrInt(node, 'axis', 0);
  const x = toNchw(p, data);
  const out = p.output(node.outputs[0], x.dtype, ops.gatherShape(x.shape, idx.shape, axis));
  return p.step(node.name, [x, idx], [out], (ins, outs, program) => ops.gatherInto(ins[0], ins[1], outs[0], axis, program));
};

const expand: Handler = (p, node, [x0, s]) => {
  const x = toNchw(p, need(node, x0, 'input'));
  const shape = broadcastShapes(x.shape, constInts(p, node, s, 'shape'));
  if (!shape) fail('E_SHAPE', `${describeNode(node)}: cannot expand [${x.shape.join(', ')}]`);
  const out = p.output(node.outputs[0], x.dtype, shape);
  return p.step(node.name, [x], [out], (ins, outs, program) => ops.expandInto(ins[0], outs[0], shape, program));
};

const tile: Handler = (p, node, [x0, r]) => {
  const x = toNchw(p, need(node, x0, 'input'));
  const repeats = constInts(p, node, r, 'repeats');
  const out = p.output(node.outputs[0], x.dtype, x.shape.map((d, k) => d * repeats[k]));
  return p.step(node.name, [x], [out], (ins, outs, program) => ops.tileInto(ins[0], outs[0], repeats, program));
};

const constantOfShape: Handler = (p, node, [s]) => {
  const shape = constInts(p, node, s, 'input');
  const v = node.attrs.value instanceof Tensor ? node.attrs.value : new Tensor('float32', [0], [1]);
  const Ctor = (v.data as ArrayBufferView).constructor as new (n: number) => { fill(x: number): unknown };
  const data = new Ctor(elementCount(shape));
  data.fill(Number((v.data as ArrayLike<number>)[0]));
  return [p.constant(node.outputs[0], new Tensor(v.dtype, data as never, shape))];
};

const size: Handler = (p, node, [x]) => [p.constant(node.outputs[0], new Tensor('int32', [elementCount(need(node, x, 'data').shape)], []))];

export const elementwiseHandlers: Record<string, Handler> = {
  Add: binary('add'), Sub: binary('sub'), Mul: binary('mul'), Div: binary('div'), Pow: binary('pow'),
  Max: binary('max'), Min: binary('min'), Sum: binary('add'), PRelu: binary('prelu'),
  Relu: unary('relu'),
  LeakyRelu: unary('leakyRelu', (_p, n) => ({ alpha: attrFloat(n, 'alpha', 0.01) })),
  Clip: unary('clip', clipParams),
  Sigmoid: unary('sigmoid'),
  HardSigmoid: unary('hardSigmoid', (_p, n) => ({ alpha: attrFloat(n, 'alpha', 0.2), beta: attrFloat(n, 'beta', 0.5) })),
  HardSwish: unary('hardSwish'),
  Neg: unary('neg'), Abs: unary('abs'), Sqrt: unary('sqrt'), Reciprocal: unary('reciprocal'),
  Floor: unary('floor'), Ceil: unary('ceil'), Round: unary('round'), Exp: unary('exp'), Log: unary('log'),
  Tanh: unary('tanh'), Erf: unary('erf'), Softplus: unary('softplus'),
  Elu: unary('elu', (_p, n) => ({ alpha: attrFloat(n, 'alpha', 1) })),
  Gelu: (p, n, i) => unary(attrString(n, 'approximate', 'none') === 'tanh' ? 'geluTanh' : 'gelu')(p, n, i),
  BatchNormalization: batchNorm,
  Softmax: softmax(false), LogSoftmax: softmax(true),
  ReduceMean: reduce('mean'), ReduceSum: reduce('sum'), ReduceMax: reduce('max'), ReduceMin: reduce('min'),
  ReduceProd: reduce('prod'), ReduceL1: reduce('l1'), ReduceL2: reduce('l2'), ReduceSumSquare: reduce('sumSquare'),
  Cast: cast,
  MaxPool: pool('max'), AveragePool: pool('average'),
  GlobalAveragePool: globalPool('average'), GlobalMaxPool: globalPool('max'),
  Transpose: transpose, Concat: concat, Slice: slice, Pad: pad, Resize: resize,
  Expand: expand, Tile: tile, ConstantOfShape: constantOfShape, Size: size,

};

export { castConstant, clipBounds, gather as gatherData };
