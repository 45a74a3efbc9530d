// Data movement: Transpose, Concat, Split, Slice, Pad, Resize, Gather, Expand,
// Tile, and the NCHW <-> NHWC conversions the runner does at graph edges.
//
// The shape and attribute logic lives here as pure functions the runner calls
// at plan time (`...Shape`, `slicePlan`, `resizePlan`); the native side only
// moves bytes: transposes (2-D tiles for NCHW <-> NHWC), row copies (one step
// per Concat input or Split output), and per-axis index maps (Slice with any
// steps, Pad in every mode, nearest Resize, Expand, Tile: out[o] =
// x[map_0[o_0], ..., map_r[o_r]] or a fill value). Linear / cubic Resize runs
// separable taps over the two spatial axes.
import { fail } from '../errors';
import { native } from '../native';
import { integerRange } from '../tensor/dtype';
import { shapeSize, Tensor } from '../tensor/tensor';
import { broadcastShape } from './elementwise';
import { axisOf, expectOut, intList, invoke, native_, numberOption, operandInfo, OperandInfo, shapeString } from './operand';
import { describe, isTensor } from './params';
import type { Operand, Program } from './program';

const MAX_RANK = 6;

// ---------------------------------------------------------------- transpose

function checkPerm(perm: readonly number[], rank: number, op: string): number[] {
  const p = intList(perm, op, 'perm');
  if (p.length !== rank || [...p].sort((a, b) => a - b).some((v, i) => v !== i)) {
    fail('E_RANGE', `${op}: perm ${shapeString(p)} is not a permutation of the ${rank} axes`);
  }
  return p;
}

/** The shape of x transposed by perm (default: axes reversed, as ONNX). */
export function transposeShape(shape: readonly number[], perm?: readonly number[], op = 'transpose'): number[] {
  const p = perm === undefined ? shape.map((_, i) => shape.length - 1 - i) : checkPerm(perm, shape.length, op);
  return p.map((a) => shape[a]);
}

/** Drops unit axes and merges input axes that stay adjacent in the output (at most 6 remain for any real model). */
function collapseTranspose(shape: readonly number[], perm: readonly number[]): { shape: number[]; perm: number[] } {
  const groups: { first: number; last: number; size: number }[] = [];
  for (const a of perm) {
    if (shape[a] === 1) continue;
    const g = groups[groups.length - 1];
    if (g !== undefined && g.last + 1 === a) {
      g.last = a;
      g.size *= shape[a];
    } else {
      groups.push({ first: a, last: a, size: shape[a] });
    }
  }
  const order = groups.map((_, i) => i).sort((a, b) => groups[a].first - groups[b].first);
  const pos = new Array<number>(groups.length);
  order.forEach((g, k) => { pos[g] = k; });
  return { shape: order.map((g) => groups[g].size), perm: groups.map((_, g) => pos[g]) };
}

/**
 * out = x transposed: out axis i is axis perm[i] of x, whose memory order is
 * `shape` (default x's shape). Any dtype; any rank whose merged form has at most 6 axes.
 */
export function transposeInto(x: Operand, out: Operand, shape: readonly number[] | undefined, perm: readonly number[], program?: Program): void {
  const op = 'transpose';
  const xi = operandInfo(x, op, 'x');
  const s = shape === undefined ? [...xi.shape] : intList(shape, op, 'shape');
  if (shapeSize(s) !== xi.size) fail('E_SHAPE', `${op}: shape ${shapeString(s)} has ${shapeSize(s)} elements, x has ${xi.size}`);
  const p = checkPerm(perm, s.length, op);
  const oi = operandInfo(out, op, 'out');
  if (oi.dtype !== xi.dtype) fail('E_DTYPE', `${op}: out must be ${xi.dtype}, got ${oi.dtype}`);
  if (oi.size !== xi.size) fail('E_SHAPE', `${op}: out has ${oi.size} elements, x has ${xi.size}`);
  const c = collapseTranspose(s, p);
  if (c.shape.length > MAX_RANK) fail('E_UNSUPPORTED', `${op}: the permutation ${shapeString(p)} of ${shapeString(s)} needs more than ${MAX_RANK} axes`);
  invoke(native.transpose, [native_(x), native_(out), c.shape, c.perm], program);
}

/** ONNX Transpose (perm default: reversed axes). */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const xi = operandInfo(x, 'transpose', 'x');
  const p = perm === undefined ? xi.shape.map((_, i) => xi.shape.length - 1 - i) : checkPerm(perm, xi.shape.length, 'transpose');
  const out = Tensor.zeros(xi.dtype, transposeShape(xi.shape, p));
  transposeInto(x, out, xi.shape, p);
  return out;
}

/** [N, C, H, W] -> [N, H, W, C]. */
export function nchwToNhwc(x: Tensor): Tensor {
  if (x.rank !== 4) fail('E_SHAPE', `nchwToNhwc: x must be 4-D, got ${shapeString(x.shape)}`);
  return transpose(x, [0, 2, 3, 1]);
}

/** [N, H, W, C] -> [N, C, H, W]. */
export function nhwcToNchw(x: Tensor): Tensor {
  if (x.rank !== 4) fail('E_SHAPE', `nhwcToNchw: x must be 4-D, got ${shapeString(x.shape)}`);
  return transpose(x, [0, 3, 1, 2]);
}

// ---------------------------------------------------------------- concat / split

/** ONNX Concat's output shape. */
export function concatShape(shapes: readonly (readonly number[])[], axis: number, op = 'concat'): number[] {
  if (!Array.isArray(shapes) || shapes.length === 0) fail('E_ARG', `${op}: at least one input is needed`);
  const rank = shapes[0].length;
  if (rank === 0) fail('E_SHAPE', `${op}: scalars cannot be concatenated`);
  const ax = axisOf(axis, rank, op);
  const out = [...shapes[0]];
  for (let i = 1; i < shapes.length; i++) {
    const s: readonly number[] = shapes[i];
    if (s.length !== rank || s.some((d: number, k: number) => k !== ax && d !== out[k])) {
      fail('E_SHAPE', `${op}: input ${i} ${shapeString(s)} does not match input 0 ${shapeString(shapes[0])} outside axis ${ax}`);
    }
    out[ax] += s[ax];
  }
  return out;
}

/** ONNX Concat: one row-copy step per (non-empty) input. */
export function concatInto(inputs: readonly Operand[], out: Operand, axis: number, program?: Program): void {
  const op = 'concat';
  if (!Array.isArray(inputs) || inputs.length === 0) fail('E_ARG', `${op}: inputs must be a non-empty array`);
  const infos = inputs.map((x, i) => operandInfo(x, op, `inputs[${i}]`));
  const dtype = infos[0].dtype;
  infos.forEach((xi, i) => { if (xi.dtype !== dtype) fail('E_DTYPE', `${op}: inputs[${i}] is ${xi.dtype}, inputs[0] is ${dtype}`); });
  const shape = concatShape(infos.map((xi) => xi.shape), axis, op);
  const oi = expectOut(out, op, dtype, shape);
  const ax = axisOf(axis, shape.length, op);
  const outer = shapeSize(shape.slice(0, ax)), inner = shapeSize(shape.slice(ax + 1));
  let offset = 0;
  inputs.forEach((x, i) => {
    const block = infos[i].shape[ax] * inner;
    if (block > 0 && outer > 0) {
      invoke(native.copyRows, [native_(x), infos[i].size, 0, block, native_(out), oi.size, offset, shape[ax] * inner, outer, block], program);
    }
    offset += block;
  });
}

export function concat(inputs: readonly Tensor[], axis: number): Tensor {
  if (!Array.isArray(inputs) || inputs.length === 0) fail('E_ARG', 'concat: inputs must be a non-empty array');
  const infos = inputs.map((x, i) => operandInfo(x, 'concat', `inputs[${i}]`));
  const out = Tensor.zeros(infos[0].dtype, concatShape(infos.map((xi) => xi.shape), axis));
  concatInto(inputs, out, axis);
  return out;
}

/** ONNX Split's output shapes: explicit sizes, or `parts` equal parts (the last smaller, opset 18). */
export function splitShapes(shape: readonly number[], axis: number, split: readonly number[] | number, op = 'split'): number[][] {
  const ax = axisOf(axis, shape.length, op);
  const n = shape[ax];
  let sizes: number[];
  if (typeof split === 'number') {
    if (!Number.isInteger(split) || split < 1) fail('E_RANGE', `${op}: the number of outputs must be a positive integer, got ${split}`);
    const part = Math.ceil(n / split);
    sizes = Array.from({ length: split }, (_, i) => Math.max(0, Math.min(part, n - i * part)));
  } else {
    sizes = intList(split, op, 'split');
    if (sizes.some((s) => s < 0) || sizes.reduce((a, b) => a + b, 0) !== n) {
      fail('E_SHAPE', `${op}: split ${shapeString(sizes)} must be non-negative and sum to ${n}`);
    }
  }
  return sizes.map((s) => shape.map((d, i) => (i === ax ? s : d)));
}

/** ONNX Split: outputs' sizes along `axis` come from their shapes. */
export function splitInto(x: Operand, outs: readonly Operand[], axis: number, program?: Program): void {
  const op = 'split';
  const xi = operandInfo(x, op, 'x');
  if (!Array.isArray(outs) || outs.length === 0) fail('E_ARG', `${op}: outs must be a non-empty array`);
  const ax = axisOf(axis, xi.shape.length, op);
  const infos = outs.map((o, i) => operandInfo(o, op, `outs[${i}]`));
  const shapes = splitShapes(xi.shape, ax, infos.map((o) => o.shape[ax] ?? -1), op);
  const outer = shapeSize(xi.shape.slice(0, ax)), inner = shapeSize(xi.shape.slice(ax + 1));
  let offset = 0;
  outs.forEach((o, i) => {
    expectOut(o, op, xi.dtype, shapes[i]);
    const block = shapes[i][ax] * inner;
    if (block > 0 && outer > 0) {
      invoke(native.copyRows, [native_(x), xi.size, offset, xi.shape[ax] * inner, native_(o), infos[i].size, 0, block, outer, block], program);
    }
    offset += block;
  });
}

export function split(x: Tensor, axis: number, split: readonly number[] | number): Tensor[] {
  const xi = operandInfo(x, 'split', 'x');
  const outs = splitShapes(xi.shape, axis, split).map((s) => Tensor.zeros(xi.dtype, s));
  splitInto(x, outs, axis);
  return outs;
}

// ---------------------------------------------------------------- index maps

/** Runs one gatherAxes step: maps in x's memory order, -1 entries take `fill`. */
function gatherAxesInto(x: Operand, xi: OperandInfo, out: Operand, outShape: readonly number[], maps: readonly Int32Array[], fill: number, op: string, program?: Program): void {
  expectOut(out, op, xi.dtype, outShape);
  // Merge nothing (maps are per axis), but rank above 6 with unit axes can drop them.
  let inDims = [...xi.shape], outDims = [...outShape], m = [...maps];
  if (inDims.length > MAX_RANK) {
    const keep = inDims.map((d, i) => d !== 1 || outDims[i] !== 1);
    inDims = inDims.filter((_, i) => keep[i]);
    outDims = outDims.filter((_, i) => keep[i]);
    m = m.filter((_, i) => keep[i]);
    if (inDims.length > MAX_RANK) fail('E_UNSUPPORTED', `${op}: tensors of more than ${MAX_RANK} non-unit axes are not supported`);
  }
  const flat = new Int32Array(outDims.reduce((a, b) => a + b, 0));
  let at = 0;
  for (const map of m) {
    flat.set(map, at);
    at += map.length;
  }
  invoke(native.gatherAxes, [native_(x), native_(out), inDims, outDims, flat, fill], program);
}

function fillFor(dtype: string, value: number, op: string): number {
  if (typeof value !== 'number') fail('E_ARG', `${op}: the constant value must be a number`);
  if (dtype === 'float32') return value;
  const [lo, hi] = integerRange(dtype as 'int8' | 'uint8' | 'int32');
  if (!Number.isInteger(value) || value < lo || value > hi) fail('E_RANGE', `${op}: the constant value ${value} is not a ${dtype} value`);
  return value;
}

// ---------------------------------------------------------------- slice

export interface SliceOptions {
  starts: readonly number[];
  ends: readonly number[];
  /** Default: 0, 1, ... (one per start). */
  axes?: readonly number[];
  /** Default 1; negative steps walk backwards. */
  steps?: readonly number[];
}

/** Per-axis start and step of a slice, and the output shape (ONNX clamping rules). */
export function slicePlan(shape: readonly number[], options: SliceOptions, op = 'slice'): { outShape: number[]; starts: number[]; steps: number[] } {
  if (options === null || typeof options !== 'object') fail('E_ARG', `${op}: options must be {starts, ends, axes?, steps?}`);
  const starts = intListLoose(options.starts, op, 'starts');
  const ends = intListLoose(options.ends, op, 'ends');
  if (ends.length !== starts.length) fail('E_SHAPE', `${op}: starts has ${starts.length} values, ends has ${ends.length}`);
  const rank = shape.length;
  const axes = options.axes === undefined ? starts.map((_, i) => i) : intList(options.axes, op, 'axes').map((a) => axisOf(a, rank, op, 'axes'));
  const steps = options.steps === undefined ? starts.map(() => 1) : intListLoose(options.steps, op, 'steps');
  if (axes.length !== starts.length || steps.length !== starts.length) fail('E_SHAPE', `${op}: starts, ends, axes and steps must have the same length`);
  if (new Set(axes).size !== axes.length) fail('E_ARG', `${op}: axes name an axis twice`);
  const outShape = [...shape], first = shape.map(() => 0), step = shape.map(() => 1);
  axes.forEach((a, i) => {
    const n = shape[a], s = steps[i];
    if (s === 0) fail('E_RANGE', `${op}: steps[${i}] must not be 0`);
    let b = starts[i] < 0 ? starts[i] + n : starts[i];
    let e = ends[i] < 0 ? ends[i] + n : ends[i];
    if (s > 0) {
      b = Math.min(Math.max(b, 0), n);
      e = Math.min(Math.max(e, 0), n);
    } else {
      b = Math.min(Math.max(b, 0), n - 1);
      e = Math.min(Math.max(e, -1), n - 1);
    }
    outShape[a] = Math.max(0, Math.ceil((e - b) / s));
    first[a] = b;
    step[a] = s;
  });
  return { outShape, starts: first, steps: step };
}

/** ONNX Slice's output shape. */
export function sliceShape(shape: readonly number[], options: SliceOptions, op = 'slice'): number[] {
  return slicePlan(shape, options, op).outShape;
}

/** Integers that may be huge (ONNX uses INT64_MAX / INT64_MIN for "to the end"). */
function intListLoose(v: unknown, op: string, name: string): number[] {
  if (!Array.isArray(v) && !(ArrayBuffer.isView(v) && !(v instanceof DataView))) fail('E_ARG', `${op}: ${name} must be an array of integers`);
  return Array.from(v as ArrayLike<number | bigint>, (x, i) => {
    const n = Number(x);
    if (!Number.isFinite(n) || Math.floor(n) !== n) fail('E_RANGE', `${op}: ${name}[${i}] must be an integer, got ${String(x)}`);
    return Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, n));
  });
}

/** ONNX Slice (any steps, negative included). */
export function sliceInto(x: Operand, out: Operand, options: SliceOptions, program?: Program): void {
  const op = 'slice';
  const xi = operandInfo(x, op, 'x');
  const plan = slicePlan(xi.shape, options, op);
  const maps = plan.outShape.map((n, a) => Int32Array.from({ length: n }, (_, o) => plan.starts[a] + o * plan.steps[a]));
  gatherAxesInto(x, xi, out, plan.outShape, maps, 0, op, program);
}

export function slice(x: Tensor, options: SliceOptions): Tensor {
  const xi = operandInfo(x, 'slice', 'x');
  const out = Tensor.zeros(xi.dtype, slicePlan(xi.shape, options).outShape);
  sliceInto(x, out, options);
  return out;
}

// ---------------------------------------------------------------- pad

export type PadMode = 'constant' | 'reflect' | 'edge' | 'wrap';

export interface PadOptions {
  /** ONNX order: all begins, then all ends (one per axis, or per listed axis); negative values crop. */
  pads: readonly number[];
  /** Default 'constant'. */
  mode?: PadMode;
  /** The constant (default 0). */
  value?: number;
  /** Axes the pads apply to (default all). */
  axes?: readonly number[];
}

/** Per-axis [begin, end] pads and the output shape. */
export function padPlan(shape: readonly number[], options: PadOptions, op = 'pad'): { outShape: number[]; begins: number[]; ends: number[] } {
  if (options === null || typeof options !== 'object') fail('E_ARG', `${op}: options must be {pads, mode?, value?, axes?}`);
  const rank = shape.length;
  const axes = options.axes === undefined ? shape.map((_, i) => i) : intList(options.axes, op, 'axes').map((a) => axisOf(a, rank, op, 'axes'));
  if (new Set(axes).size !== axes.length) fail('E_ARG', `${op}: axes name an axis twice`);
  const pads = intList(options.pads, op, 'pads');
  if (pads.length !== 2 * axes.length) fail('E_SHAPE', `${op}: pads has ${pads.length} values, expected ${2 * axes.length}`);
  const begins = shape.map(() => 0), ends = shape.map(() => 0);
  axes.forEach((a, i) => {
    begins[a] = pads[i];
    ends[a] = pads[i + axes.length];
  });
  const outShape = shape.map((d, a) => d + begins[a] + ends[a]);
  outShape.forEach((d, a) => { if (d < 0) fail('E_SHAPE', `${op}: axis ${a} of ${shape[a]} with pads ${begins[a]}, ${ends[a]} is negative`); });
  return { outShape, begins, ends };
}

/** ONNX Pad's output shape. */
export function padShape(shape: readonly number[], options: PadOptions, op = 'pad'): number[] {
  return padPlan(shape, options, op).outShape;
}

function padIndex(i: number, n: number, mode: PadMode): number {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case 'constant': return -1;
    case 'edge': return i < 0 ? 0 : n - 1;
    case 'wrap': return ((i % n) + n) % n;
    case 'reflect': {
      if (n === 1) return 0;
      const period = 2 * (n - 1);
      let k = ((i % period) + period) % period;
      if (k >= n) k = period - k;
      return k;
    }
  }
}

/** ONNX Pad: constant, reflect, edge or wrap; negative pads crop. */
export function padInto(x: Operand, out: Operand, options: PadOptions, program?: Program): void {
  const op = 'pad';
  const xi = operandInfo(x, op, 'x');
  const mode = options?.mode ?? 'constant';
  if (!['constant', 'reflect', 'edge', 'wrap'].includes(mode)) fail('E_ARG', `${op}: mode must be constant, reflect, edge or wrap, got ${String(mode)}`);
  const plan = padPlan(xi.shape, options, op);
  const maps = plan.outShape.map((n, a) => {
    const size = xi.shape[a];
    if (size === 0 && mode !== 'constant' && n > 0) fail('E_SHAPE', `${op}: ${mode} padding needs a non-empty axis ${a}`);
    return Int32Array.from({ length: n }, (_, o) => padIndex(o - plan.begins[a], size, mode));
  });
  gatherAxesInto(x, xi, out, plan.outShape, maps, fillFor(xi.dtype, numberOption(options.value, op, 'value', 0), op), op, program);
}

export function pad(x: Tensor, options: PadOptions): Tensor {
  const xi = operandInfo(x, 'pad', 'x');
  const out = Tensor.zeros(xi.dtype, padPlan(xi.shape, options).outShape);
  padInto(x, out, options);
  return out;
}

// ---------------------------------------------------------------- expand / tile

/** ONNX Expand's output shape. */
export function expandShape(shape: readonly number[], target: readonly number[], op = 'expand'): number[] {
  return broadcastShape(shape, intList(target, op, 'shape'), op);
}

/** ONNX Tile's output shape. */
export function tileShape(shape: readonly number[], repeats: readonly number[], op = 'tile'): number[] {
  const r = intList(repeats, op, 'repeats');
  if (r.length !== shape.length || r.some((v) => v < 0)) fail('E_SHAPE', `${op}: repeats must have one non-negative value per axis of ${shapeString(shape)}`);
  return shape.map((d, a) => d * r[a]);
}

/** ONNX Expand: x broadcast to (numpy) `shape`. */
export function expandInto(x: Operand, out: Operand, shape: readonly number[], program?: Program): void {
  const op = 'expand';
  const xi = operandInfo(x, op, 'x');
  const target = broadcastShape(xi.shape, intList(shape, op, 'shape'), op);
  const rank = target.length;
  const inShape = [...new Array<number>(rank - xi.shape.length).fill(1), ...xi.shape];
  const maps = target.map((n, a) => Int32Array.from({ length: n }, (_, o) => (inShape[a] === 1 ? 0 : o)));
  gatherAxesInto(x, { ...xi, shape: inShape }, out, target, maps, 0, op, program);
}

export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const xi = operandInfo(x, 'expand', 'x');
  const out = Tensor.zeros(xi.dtype, broadcastShape(xi.shape, intList(shape, 'expand', 'shape'), 'expand'));
  expandInto(x, out, shape);
  return out;
}

/** ONNX Tile. */
export function tileInto(x: Operand, out: Operand, repeats: readonly number[], program?: Program): void {
  const op = 'tile';
  const xi = operandInfo(x, op, 'x');
  const outShape = tileShape(xi.shape, repeats, op);
  const maps = outShape.map((n, a) => Int32Array.from({ length: n }, (_, o) => o % xi.shape[a]));
  gatherAxesInto(x, xi, out, outShape, maps, 0, op, program);
}

export function tile(x: Tensor, repeats: readonly number[]): Tensor {
  const xi = operandInfo(x, 'tile', 'x');
  const out = Tensor.zeros(xi.dtype, tileShape(xi.shape, repeats));
  tileInto(x, out, repeats);
  return out;
}

// ---------------------------------------------------------------- gather

/** ONNX Gather's output shape: data[:axis] + indices + data[axis+1:]. */
export function gatherShape(dataShape: readonly number[], indicesShape: readonly number[], axis = 0, op = 'gather'): number[] {
  const ax = axisOf(axis, dataShape.length, op);
  return [...dataShape.slice(0, ax), ...indicesShape, ...dataShape.slice(ax + 1)];
}

/**
 * ONNX Gather along `axis` with int32 indices read at run time (negative
 * indices count from the end; an index outside the axis gives zeros in a
 * recorded step; the friendly form rejects it).
 */
export function gatherInto(x: Operand, indices: Operand, out: Operand, axis = 0, program?: Program): void {
  const op = 'gather';
  const xi = operandInfo(x, op, 'x');
  const ii = operandInfo(indices, op, 'indices', ['int32']);
  const shape = gatherShape(xi.shape, ii.shape, axis, op);
  expectOut(out, op, xi.dtype, shape);
  const ax = axisOf(axis, xi.shape.length, op);
  const outer = shapeSize(xi.shape.slice(0, ax)), inner = shapeSize(xi.shape.slice(ax + 1));
  invoke(native.gather, [native_(x), native_(indices), native_(out), outer, xi.shape[ax], inner, ii.size], program);
}

export function gather(x: Tensor, indices: Tensor | readonly number[], axis = 0): Tensor {
  const op = 'gather';
  const xi = operandInfo(x, op, 'x');
  const idx = isTensor(indices) ? indices : Array.isArray(indices) ? new Tensor('int32', Int32Array.from(indices), [indices.length]) : fail('E_ARG', `${op}: indices must be a Tensor or an array, got ${describe(indices)}`);
  const ii = operandInfo(idx, op, 'indices', ['int32']);
  const n = xi.shape[axisOf(axis, xi.shape.length, op)];
  for (const [i, v] of (idx.data as Int32Array).entries()) {
    if (v < -n || v >= n) fail('E_RANGE', `${op}: indices[${i}] = ${v} is outside [${-n}, ${n - 1}]`);
  }
  const out = Tensor.zeros(xi.dtype, gatherShape(xi.shape, ii.shape, axis, op));
  gatherInto(x, idx, out, axis);
  return out;
}

// ---------------------------------------------------------------- resize

export type ResizeMode = 'nearest' | 'linear' | 'cubic';
export type CoordinateTransformationMode = 'half_pixel' | 'half_pixel_symmetric' | 'pytorch_half_pixel' | 'align_corners' | 'asymmetric' | 'tf_crop_and_resize';
export type NearestMode = 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil';

export interface ResizeOptions {
  /** One per listed axis (or per axis); give scales or sizes. */
  scales?: readonly number[];
  sizes?: readonly number[];
  /** The axes scales / sizes / roi refer to (opset 18; default all). */
  axes?: readonly number[];
  /** tf_crop_and_resize: starts then ends, normalised, one pair per listed axis. */
  roi?: readonly number[];
  /** Default 'nearest'. */
  mode?: ResizeMode;
  /** Default 'half_pixel'. */
  coordinateTransformationMode?: CoordinateTransformationMode;
  /** Default 'round_prefer_floor'. */
  nearestMode?: NearestMode;
  /** Default -0.75. */
  cubicCoeffA?: number;
  excludeOutside?: boolean;
  /** Default 0. */
  extrapolationValue?: number;
  /** With sizes (opset 18): 'stretch' (default), 'not_larger', 'not_smaller'. */
  keepAspectRatioPolicy?: 'stretch' | 'not_larger' | 'not_smaller';
  /** Antialiasing filter when downsampling (linear, cubic; opset 18). */
  antialias?: boolean;
  /** Memory order of a 4-D x and out: 'nchw' (default) or 'nhwc'. Shapes and options stay in ONNX (NCHW) order. */
  layout?: 'nchw' | 'nhwc';
}

interface ResizeAxisPlan {
  inSize: number;
  outSize: number;
  scale: number;
  roiStart: number;
  roiEnd: number;
}

/** Per-axis sizes and scales of a Resize (logical, ONNX order). */
export function resizePlan(shape: readonly number[], options: ResizeOptions, op = 'resize'): ResizeAxisPlan[] {
  if (options === null || typeof options !== 'object') fail('E_ARG', `${op}: options must be an object`);
  const rank = shape.length;
  const axes = options.axes === undefined ? shape.map((_, i) => i) : intList(options.axes, op, 'axes').map((a) => axisOf(a, rank, op, 'axes'));
  if (new Set(axes).size !== axes.length) fail('E_ARG', `${op}: axes name an axis twice`);
  const hasScales = options.scales !== undefined && options.scales.length > 0;
  const hasSizes = options.sizes !== undefined && options.sizes.length > 0;
  if (hasScales === hasSizes) fail('E_ARG', `${op}: give exactly one of scales and sizes`);
  const ctm = options.coordinateTransformationMode ?? 'half_pixel';
  const roi = options.roi === undefined || options.roi.length === 0 ? undefined : Array.from(options.roi, Number);
  if (roi !== undefined && roi.length !== 2 * axes.length) fail('E_SHAPE', `${op}: roi has ${roi.length} values, expected ${2 * axes.length}`);
  const plan: ResizeAxisPlan[] = shape.map((d) => ({ inSize: d, outSize: d, scale: 1, roiStart: 0, roiEnd: 1 }));
  axes.forEach((a, i) => {
    if (roi !== undefined && ctm === 'tf_crop_and_resize') {
      plan[a].roiStart = roi[i];
      plan[a].roiEnd = roi[i + axes.length];
    }
  });
  if (hasScales) {
    const scales = Array.from(options.scales!, Number);
    if (scales.length !== axes.length) fail('E_SHAPE', `${op}: scales has ${scales.length} values, expected ${axes.length}`);
    axes.forEach((a, i) => {
      const s = Math.fround(scales[i]);
      if (!(s > 0) || !Number.isFinite(s)) fail('E_RANGE', `${op}: scales[${i}] must be a positive number, got ${scales[i]}`);
      plan[a].scale = s;
      const p = plan[a];
      p.outSize = Math.floor(p.inSize * (ctm === 'tf_crop_and_resize' ? p.roiEnd - p.roiStart : 1) * s);
    });
  } else {
    const sizes = intList(options.sizes!, op, 'sizes');
    if (sizes.length !== axes.length) fail('E_SHAPE', `${op}: sizes has ${sizes.length} values, expected ${axes.length}`);
    sizes.forEach((s, i) => { if (s < 0) fail('E_RANGE', `${op}: sizes[${i}] must be non-negative, got ${s}`); });
    const policy = options.keepAspectRatioPolicy ?? 'stretch';
    if (policy === 'stretch') {
      axes.forEach((a, i) => {
        plan[a].outSize = sizes[i];
        plan[a].scale = sizes[i] / plan[a].inSize;
      });
    } else if (policy === 'not_larger' || policy === 'not_smaller') {
      const ratios = axes.map((a, i) => sizes[i] / plan[a].inSize);
      const s = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
      axes.forEach((a) => {
        plan[a].scale = s;
        plan[a].outSize = Math.floor(s * plan[a].inSize + 0.5);
      });
    } else {
      fail('E_ARG', `${op}: keepAspectRatioPolicy must be stretch, not_larger or not_smaller, got ${String(policy)}`);
    }
  }
  return plan;
}

/** ONNX Resize's output shape (ONNX order). */
export function resizeShape(shape: readonly number[], options: ResizeOptions, op = 'resize'): number[] {
  return resizePlan(shape, options, op).map((p) => p.outSize);
}

/** The source coordinate of output position x along one axis (ONNX's formulas, in double). */
function originalCoordinate(x: number, p: ResizeAxisPlan, ctm: CoordinateTransformationMode): number {
  const { inSize, outSize, scale } = p;
  switch (ctm) {
    // The resized length as ONNX defines it: scale * input length, which is
    // fractional when scales (not sizes) give a non-integral size. (onnxruntime
    // uses the integer output size there; the two agree whenever scale * input
    // length is an integer, as with sizes or 2x upsampling.)
    case 'align_corners': {
      const length = scale * inSize;
      return length === 1 ? 0 : (x * (inSize - 1)) / (length - 1);
    }
    case 'asymmetric': return x / scale;
    case 'pytorch_half_pixel': return scale * inSize === 1 ? -0.5 : (x + 0.5) / scale - 0.5;
    case 'half_pixel_symmetric': {
      const adjustment = outSize / (scale * inSize);
      const offset = (inSize / 2) * (1 - adjustment);
      return offset + (x + 0.5) / scale - 0.5;
    }
    case 'tf_crop_and_resize': {
      const span = (p.roiEnd - p.roiStart) * (inSize - 1);
      const v = outSize === 1 ? span / 2 : (x * span) / (outSize - 1);
      return v + p.roiStart * (inSize - 1);
    }
    default: return (x + 0.5) / scale - 0.5;
  }
}

/** x's nearest input index (or -1: outside, tf_crop_and_resize). */
function nearestIndex(xo: number, n: number, mode: NearestMode, ctm: CoordinateTransformationMode): number {
  if (ctm === 'tf_crop_and_resize' && (xo < 0 || xo > n - 1)) return -1;
  let i: number;
  if (Number.isInteger(xo)) i = xo;
  else {
    const f = Math.floor(xo), r = xo - f;
    switch (mode) {
      case 'round_prefer_ceil': i = r >= 0.5 ? f + 1 : f; break;
      case 'floor': i = f; break;
      case 'ceil': i = f + 1; break;
      default: i = r > 0.5 ? f + 1 : f; break;
    }
  }
  return Math.min(Math.max(i, 0), n - 1);
}

/** Taps (relative to the base index) and weights of one position, ONNX reference style. */
function filterTaps(mode: ResizeMode, ratio: number, scale: number, a: number, antialias: boolean): { start: number; w: number[] } {
  if (mode === 'linear') {
    if (!antialias || scale >= 1) return { start: 0, w: [1 - ratio, ratio] };
    const start = Math.floor(-1 / scale) + 1, footprint = 2 - 2 * start;
    const w = Array.from({ length: footprint }, (_, j) => Math.min(1, Math.max(0, 1 - Math.abs((start + j - ratio) * scale))));
    const sum = w.reduce((p, q) => p + q, 0);
    return { start, w: w.map((v) => v / sum) };
  }
  const cubic = (t: number): number => {
    const x = Math.abs(t), x2 = x * x, x3 = x2 * x;
    if (x <= 1) return (a + 2) * x3 - (a + 3) * x2 + 1;
    if (x < 2) return a * x3 - 5 * a * x2 + 8 * a * x - 4 * a;
    return 0;
  };
  if (!antialias || scale >= 1) {
    const r = ratio;
    return {
      start: -1,
      w: [
        ((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a,
        ((a + 2) * r - (a + 3)) * r * r + 1,
        ((a + 2) * (1 - r) - (a + 3)) * (1 - r) * (1 - r) + 1,
        ((a * (2 - r) - 5 * a) * (2 - r) + 8 * a) * (2 - r) - 4 * a,
      ],
    };
  }
  const start = Math.floor(-2 / scale) + 1, end = 2 - start;
  const w = Array.from({ length: end - start }, (_, j) => cubic(scale * (start + j - ratio)));
  const sum = w.reduce((p, q) => p + q, 0);
  return { start, w: w.map((v) => v / sum) };
}

/** The separable taps of one axis for linear / cubic resizing. */
function resizeAxisTaps(p: ResizeAxisPlan, options: ResizeOptions, ctm: CoordinateTransformationMode, op: string): { taps: number; index: Int32Array; weight: Float32Array; outside: Uint8Array } {
  const mode = options.mode as ResizeMode;
  const a = numberOption(options.cubicCoeffA, op, 'cubicCoeffA', -0.75);
  const antialias = options.antialias ?? false;
  const perPos: { base: number; start: number; w: number[]; outside: boolean }[] = [];
  for (let x = 0; x < p.outSize; x++) {
    const xo = originalCoordinate(x, p, ctm);
    const outside = ctm === 'tf_crop_and_resize' && (xo < 0 || xo > p.inSize - 1);
    // ONNX prefers the pixel on the left: an integer coordinate has ratio 1 from base xo - 1.
    const base = Number.isInteger(xo) ? xo - 1 : Math.floor(xo);
    const ratio = Number.isInteger(xo) ? 1 : xo - base;
    const f = filterTaps(mode, ratio, p.scale, a, antialias);
    perPos.push({ base, start: f.start, w: f.w, outside });
  }
  const taps = perPos.reduce((m, q) => Math.max(m, q.w.length), 1);
  if (taps > 64) fail('E_UNSUPPORTED', `${op}: antialiased downsampling by ${p.scale} needs ${taps} taps per axis (at most 64)`);
  const index = new Int32Array(p.outSize * taps), weight = new Float32Array(p.outSize * taps), outside = new Uint8Array(p.outSize);
  perPos.forEach((q, x) => {
    outside[x] = q.outside ? 1 : 0;
    let w = q.w;
    if (options.excludeOutside) {
      w = w.map((v, j) => {
        const i = q.base + q.start + j;
        return i < 0 || i >= p.inSize ? 0 : v;
      });
      const sum = w.reduce((s, v) => s + v, 0);
      if (sum !== 0) w = w.map((v) => v / sum);
    }
    for (let j = 0; j < taps; j++) {
      const i = q.base + q.start + j;
      index[x * taps + j] = Math.min(Math.max(i, 0), p.inSize - 1);
      weight[x * taps + j] = j < w.length ? w[j] : 0;
    }
  });
  return { taps, index, weight, outside };
}

/**
 * ONNX Resize. nearest: any rank and dtype (an index map per axis); linear /
 * cubic: float32, resizing the last two ONNX axes (H, W) only.
 */
export function resizeInto(x: Operand, out: Operand, options: ResizeOptions, program?: Program): void {
  const op = 'resize';
  const xi = operandInfo(x, op, 'x');
  const layout = options?.layout ?? 'nchw';
  if (layout !== 'nchw' && layout !== 'nhwc') fail('E_ARG', `${op}: layout must be 'nchw' or 'nhwc', got ${String(layout)}`);
  if (layout === 'nhwc' && xi.shape.length !== 4) fail('E_SHAPE', `${op}: layout 'nhwc' needs a 4-D x, got ${shapeString(xi.shape)}`);
  // Logical (ONNX) shape of x.
  const toLogical = (s: readonly number[]) => (layout === 'nhwc' ? [s[0], s[3], s[1], s[2]] : [...s]);
  const toPhysical = (s: readonly number[]) => (layout === 'nhwc' ? [s[0], s[2], s[3], s[1]] : [...s]);
  const plan = resizePlan(toLogical(xi.shape), options, op);
  const outLogical = plan.map((p) => p.outSize);
  const mode = options.mode ?? 'nearest';
  const ctm = options.coordinateTransformationMode ?? 'half_pixel';
  const modes: readonly string[] = ['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_crop_and_resize'];
  if (!modes.includes(ctm)) fail('E_ARG', `${op}: coordinateTransformationMode must be one of ${modes.join(', ')}, got ${String(ctm)}`);
  if (mode === 'nearest') {
    const nm = options.nearestMode ?? 'round_prefer_floor';
    if (!['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'].includes(nm)) fail('E_ARG', `${op}: nearestMode must be round_prefer_floor, round_prefer_ceil, floor or ceil, got ${String(nm)}`);
    const maps = plan.map((p) => Int32Array.from({ length: p.outSize }, (_, o) => (p.inSize === 0 ? -1 : nearestIndex(originalCoordinate(o, p, ctm), p.inSize, nm, ctm))));
    const fill = numberOption(options.extrapolationValue, op, 'extrapolationValue', 0);
    const phys = layout === 'nhwc' ? [maps[0], maps[2], maps[3], maps[1]] : maps;
    gatherAxesInto(x, xi, out, toPhysical(outLogical), phys, xi.dtype === 'float32' ? fill : Math.round(fill), op, program);
    return;
  }
  if (mode !== 'linear' && mode !== 'cubic') fail('E_ARG', `${op}: mode must be nearest, linear or cubic, got ${String(mode)}`);
  if (xi.dtype !== 'float32') fail('E_DTYPE', `${op}: ${mode} resizing needs float32 data, got ${xi.dtype}`);
  const rank = plan.length;
  if (rank < 2) fail('E_UNSUPPORTED', `${op}: ${mode} resizing needs at least 2 axes`);
  for (let a = 0; a < rank - 2; a++) {
    const p = plan[a];
    if (p.outSize !== p.inSize || p.roiStart !== 0 || p.roiEnd !== 1) {
      fail('E_UNSUPPORTED', `${op}: ${mode} resizing of axis ${a} (only the last two axes, H and W)`);
    }
  }
  expectOut(out, op, 'float32', toPhysical(outLogical));
  const n = shapeSize(plan.slice(0, rank - 2).map((p) => p.inSize));
  const ry = resizeAxisTaps(plan[rank - 2], options, ctm, op);
  const rx = resizeAxisTaps(plan[rank - 1], options, ctm, op);
  const [h, w] = [plan[rank - 2].inSize, plan[rank - 1].inSize];
  const dims = layout === 'nhwc' ? [plan[0].inSize, plan[1].inSize, h, w] : [n, 1, h, w];
  invoke(native.resize2d, [layout, native_(x), native_(out), dims, ry, rx, numberOption(options.extrapolationValue, op, 'extrapolationValue', 0)], program);
}

export function resize(x: Tensor, options: ResizeOptions): Tensor {
  const xi = operandInfo(x, 'resize', 'x');
  const layout = options?.layout ?? 'nchw';
  const logical = layout === 'nhwc' && xi.shape.length === 4 ? [xi.shape[0], xi.shape[3], xi.shape[1], xi.shape[2]] : [...xi.shape];
  const o = resizeShape(logical, options);
  const out = Tensor.zeros(xi.dtype, layout === 'nhwc' && o.length === 4 ? [o[0], o[2], o[3], o[1]] : o);
  resizeInto(x, out, options);
  return out;
}

