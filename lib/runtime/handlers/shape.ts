// Shape arithmetic and views: ops whose result is known at plan time (Shape,
// Gather over shapes, Cast/Slice/Concat/Unsqueeze on small integer constants)
// and ops that only reinterpret memory (Reshape, Flatten, Squeeze, Unsqueeze,
// Identity). None of them costs a kernel call when its input is in NCHW order.
import { attrInt, attrInts, describeNode, Node } from '../../graph/ir';
import { fail } from '../../errors';
import { arrayClass, DType } from '../../tensor/dtype';
import { Tensor } from '../../tensor/tensor';
import type { Handler, Planner } from '../planner';
import { elementCount, RtValue } from '../value';
import { toNchw } from './layout';

function need(node: Node, v: RtValue | undefined, what: string): RtValue {
  if (!v) fail('E_MODEL_INVALID', `${describeNode(node)}: input ${what} is missing`);
  return v;
}

function normAxis(node: Node, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) fail('E_MODEL_INVALID', `${describeNode(node)}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Integer values of a constant input (shapes, axes, indices). */
export function constInts(p: Planner, node: Node, v: RtValue | undefined, what: string): number[] {
  const x = need(node, v, what);
  if (!x.constant) p.fail(node, `input '${what}' must be known when the model is planned (it is computed from data)`);
  return Array.from(x.constant.data as ArrayLike<number>, Number);
}

/** Attribute or (opset >= N) input form of an integer list. */
function intsFrom(p: Planner, node: Node, inputs: (RtValue | undefined)[], index: number, attr: string): number[] | undefined {
  if (node.attrs[attr] !== undefined) return attrInts(node, attr);
  const v = inputs[index];
  return v ? constInts(p, node, v, attr) : undefined;
}

const reshape: Handler = (p, node, [x0, s]) => {
  const x = toNchw(p, need(node, x0, 'data'));
  const spec = node.attrs.shape !== undefined ? attrInts(node, 'shape') : constInts(p, node, s, 'shape');
  const allowZero = attrInt(node, 'allowzero', 0) === 1;
  const out = spec.map((d, i) => (d === 0 && !allowZero ? x.shape[i] : d));
  const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const infer = out.indexOf(-1);
  if (out.filter((d) => d === -1).length > 1) fail('E_MODEL_INVALID', `${describeNode(node)}: more than one -1 in the shape`);
  if (infer >= 0) out[infer] = known === 0 ? 0 : elementCount(x.shape) / known;
  if (elementCount(out) !== elementCount(x.shape) || out.some((d) => !Number.isInteger(d) || d < 0)) {
    fail('E_SHAPE', `${describeNode(node)}: cannot reshape [${x.shape.join(', ')}] to [${spec.join(', ')}]`);
  }
  return [p.alias(node.outputs[0], x, out)];
};

const flatten: Handler = (p, node, [x0]) => {
  const x = toNchw(p, need(node, x0, 'input'));
  const axis = attrInt(node, 'axis', 1);
  const a = axis < 0 ? axis + x.shape.length : axis;
  if (a < 0 || a > x.shape.length) fail('E_MODEL_INVALID', `${describeNode(node)}: axis ${axis} is out of range`);
  const outer = elementCount(x.shape.slice(0, a));
  return [p.alias(node.outputs[0], x, [outer, elementCount(x.shape.slice(a))])];
};

const squeeze: Handler = (p, node, inputs) => {
  const x = toNchw(p, need(node, inputs[0], 'data'));
  const axes = intsFrom(p, node, inputs, 1, 'axes');
  const drop = new Set((axes ?? x.shape.map((d: number, i: number) => (d === 1 ? i : -1)).filter((i: number) => i >= 0)).map((a: number) => normAxis(node, a, x.shape.length)));
  for (const a of drop) if (x.shape[a] !== 1) fail('E_SHAPE', `${describeNode(node)}: axis ${a} has size ${x.shape[a]}, not 1`);
  return [p.alias(node.outputs[0], x, x.shape.filter((_: number, i: number) => !drop.has(i)))];
};

const unsqueeze: Handler = (p, node, inputs) => {
  const x = toNchw(p, need(node, inputs[0], 'data'));
  const axes = intsFrom(p, node, inputs, 1, 'axes');
  if (!axes) fail('E_MODEL_INVALID', `${describeNode(node)}: axes are required`);
  const rank = x.shape.length + axes.length;
  const at = new Set(axes.map((a) => normAxis(node, a, rank)));
  const out: number[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) out.push(at.has(i) ? 1 : x.shape[k++]);
  return [p.alias(node.outputs[0], x, out)];
};

const identity: Handler = (p, node, [x0]) => {
  const x = need(node, x0, 'input');
  return [p.alias(node.outputs[0], x, x.shape, x.layout)];
};

const shape: Handler = (p, node, [x0]) => {
  const x = need(node, x0, 'data');
  const rank = x.shape.length;
  let start = attrInt(node, 'start', 0), end = attrInt(node, 'end', rank);
  start = Math.min(Math.max(start < 0 ? start + rank : start, 0), rank);
  end = Math.min(Math.max(end < 0 ? end + rank : end, 0), rank);
  const dims = x.shape.slice(start, Math.max(start, end));
  return [p.constant(node.outputs[0], new Tensor('int32', Int32Array.from(dims), [dims.length]))];
};

// ---- integer constant arithmetic (shape subgraphs) --------------------------

function constTensor(p: Planner, node: Node, v: RtValue | undefined, what: string): Tensor {
  const x = need(node, v, what);
  if (!x.constant) p.fail(node, `only runs on values known when the model is planned (shape arithmetic); '${what}' is computed from data`);
  return x.constant;
}

const ONNX_TO_DTYPE: Record<number, DType | undefined> = { 1: 'float32', 2: 'uint8', 3: 'int8', 6: 'int32', 7: 'int32', 9: 'uint8' };

/** Cast of a constant (plan time). Float to int truncates toward zero, as ONNX. */
export function castConstant(node: Node, t: Tensor, to: number): Tensor {
  const dtype = ONNX_TO_DTYPE[to];
  if (!dtype) fail('E_UNSUPPORTED_OP', `${describeNode(node)}: cast to ONNX type ${to} is not supported`);
  const src = t.data as ArrayLike<number>;
  const Ctor = arrayClass(dtype);
  const out = new Ctor(src.length);
  for (let i = 0; i < src.length; i++) out[i] = dtype === 'float32' ? src[i] : Math.trunc(src[i]);
  return new Tensor(dtype, out as never, [...t.shape]);
}

const gather: Handler = (p, node, [d, i]) => {
  const data = constTensor(p, node, d, 'data'), idx = constTensor(p, node, i, 'indices');
  const axis = normAxis(node, attrInt(node, 'axis', 0), data.shape.length);
  const outer = elementCount(data.shape.slice(0, axis)), n = data.shape[axis], inner = elementCount(data.shape.slice(axis + 1));
  const ind = Array.from(idx.data as ArrayLike<number>, (v) => (v < 0 ? v + n : v));
  if (ind.some((v) => v < 0 || v >= n)) fail('E_RANGE', `${describeNode(node)}: an index is out of range for size ${n}`);
  const src = data.data as ArrayLike<number>;
  const out = new (arrayClass(data.dtype))(outer * ind.length * inner);
  let o = 0;
  for (let a = 0; a < outer; a++) for (const j of ind) for (let b = 0; b < inner; b++) out[o++] = src[(a * n + j) * inner + b];
  const shape = [...data.shape.slice(0, axis), ...idx.shape, ...data.shape.slice(axis + 1)];
  return [p.constant(node.outputs[0], new Tensor(data.dtype, out as never, shape))];
};

/** Plan-time fallbacks for Cast/Slice/Concat on constants; data-path versions live in other handlers. */
export function castOfConstant(p: Planner, node: Node, x: RtValue): RtValue[] {
  return [p.constant(node.outputs[0], castConstant(node, x.constant!, attrInt(node, 'to')))];
}

export function sliceOfConstant(p: Planner, node: Node, inputs: (RtValue | undefined)[]): RtValue[] {
  const data = constTensor(p, node, inputs[0], 'data');
  const view = sliceView(p, node, inputs, data.shape);
  const src = data.data as ArrayLike<number>;
  const out = new (arrayClass(data.dtype))(elementCount(view.shape));
  const rank = data.shape.length;
  const strides = new Array<number>(rank).fill(1);
  for (let k = rank - 2; k >= 0; k--) strides[k] = strides[k + 1] * data.shape[k + 1];
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let s = 0;
    for (let k = 0; k < rank; k++) s += (view.starts[k] + idx[k] * view.steps[k]) * strides[k];
    out[o] = src[s];
    for (let k = rank - 1; k >= 0; k--) {
      if (++idx[k] < view.shape[k]) break;
      idx[k] = 0;
    }
  }
  return [p.constant(node.outputs[0], new Tensor(data.dtype, out as never, view.shape))];
}

/** Per-axis start/step and the output shape of an ONNX Slice. */
export function sliceView(p: Planner, node: Node, inputs: (RtValue | undefined)[], shape: readonly number[]): { starts: number[]; steps: number[]; shape: number[] } {
  const rank = shape.length;
  const starts = intsFrom(p, node, inputs, 1, 'starts') ?? fail('E_MODEL_INVALID', `${describeNode(node)}: starts are required`);
  const ends = intsFrom(p, node, inputs, 2, 'ends') ?? fail('E_MODEL_INVALID', `${describeNode(node)}: ends are required`);
  const axes = intsFrom(p, node, inputs, 3, 'axes') ?? starts.map((_, i) => i);
  const steps = (node.attrs.starts === undefined ? intsFrom(p, node, inputs, 4, 'steps') : undefined) ?? starts.map(() => 1);
  const outStart = new Array<number>(rank).fill(0), outStep = new Array<number>(rank).fill(1), outShape = [...shape];
  axes.forEach((axis0, i) => {
    const a = normAxis(node, axis0, rank), dim = shape[a], step = steps[i];
    if (step === 0) fail('E_MODEL_INVALID', `${describeNode(node)}: a step is 0`);
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    let s = starts[i] < 0 ? starts[i] + dim : starts[i];
    let e = ends[i] < 0 ? ends[i] + dim : ends[i];
    if (step > 0) {
      s = clamp(s, 0, dim);
      e = clamp(e, 0, dim);
    } else {
      s = clamp(s, -1, dim - 1);
      e = clamp(e, -1, dim - 1);
    }
    outStart[a] = s;
    outStep[a] = step;
    outShape[a] = Math.max(0, Math.ceil((e - s) / step));
  });
  return { starts: outStart, steps: outStep, shape: outShape };
}

export function concatOfConstants(p: Planner, node: Node, inputs: (RtValue | undefined)[]): RtValue[] {
  const ts = inputs.map((v, i) => constTensor(p, node, v, `inputs[${i}]`));
  const rank = ts[0].shape.length;
  const axis = normAxis(node, attrInt(node, 'axis'), rank);
  const outer = elementCount(ts[0].shape.slice(0, axis));
  const shape = [...ts[0].shape];
  shape[axis] = ts.reduce((a, t) => a + t.shape[axis], 0);
  const out = new (arrayClass(ts[0].dtype))(elementCount(shape));
  let o = 0;
  for (let a = 0; a < outer; a++) {
    for (const t of ts) {
      const run = elementCount(t.shape.slice(axis));
      const src = t.data as ArrayLike<number>;
      for (let k = 0; k < run; k++) out[o++] = src[a * run + k];
    }
  }
  return [p.constant(node.outputs[0], new Tensor(ts[0].dtype, out as never, shape))];
}

export const shapeHandlers: Record<string, Handler> = {
  Reshape: reshape,
  Flatten: flatten,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Identity: identity,
  Dropout: identity,
  Shape: shape,
  Gather: gather,
};
