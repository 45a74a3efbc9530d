// QDQ models: DequantizeLinear -> op -> QuantizeLinear groups become the int8
// operator they stand for (QLinearConv, QLinearMatMul), the way onnxruntime
// treats QDQ models, so they run on the int8 kernels with a fused requantization.
import { Graph, Node } from '../ir';
import { clipBounds } from './fuse-activations';

function only(consumers: Map<string, Node[]>, g: Graph, value: string): Node | undefined {
  const c = consumers.get(value) ?? [];
  return c.length === 1 && !g.isGraphOutput(value) ? c[0] : undefined;
}

function isConst(g: Graph, name: string | undefined): boolean {
  return name !== undefined && name !== '' && g.constants.has(name);
}

/** A DequantizeLinear whose scale and zero point are constants (per tensor unless `perAxisOk`). */
function dq(g: Graph, producers: Map<string, Node>, value: string, perAxisOk: boolean): Node | undefined {
  const n = producers.get(value);
  if (!n || n.opType !== 'DequantizeLinear' || n.domain !== '') return undefined;
  if (!isConst(g, n.inputs[1]) || (n.inputs[2] && !isConst(g, n.inputs[2]))) return undefined;
  if (n.attrs.block_size !== undefined && n.attrs.block_size !== 0) return undefined;
  const scale = g.constants.get(n.inputs[1])!;
  if (scale.size !== 1 && !perAxisOk) return undefined;
  const x = g.constants.get(n.inputs[0]);
  const dtype = x ? x.dtype : undefined;
  if (dtype !== undefined && dtype !== 'int8' && dtype !== 'uint8') return undefined;
  return n;
}

/** Unary ops that become an 8-bit lookup table between DequantizeLinear and QuantizeLinear. */
const TABLE_OPS: Record<string, string> = {
  Relu: 'relu', Clip: 'clip', Sigmoid: 'sigmoid', HardSigmoid: 'hardSigmoid', HardSwish: 'hardSwish',
  LeakyRelu: 'leakyRelu', Tanh: 'tanh', Exp: 'exp', Elu: 'elu', Softplus: 'softplus', Neg: 'neg', Abs: 'abs',
};

/**
 * DequantizeLinear -> unary op -> QuantizeLinear (per-tensor parameters) ->
 * one lowbit.Lut8 node: the 256 possible inputs mapped once, exactly as the
 * three float ops would map them.
 */
export function fuseQuantizedUnary(g: Graph): number {
  let count = 0;
  const producers = g.producers();
  let consumers = g.consumers();
  for (const u of [...g.nodes]) {
    const op = u.domain === '' ? TABLE_OPS[u.opType] : undefined;
    if (!op) continue;
    // The DequantizeLinear may have other readers (one DQ shared by the
    // consumers of a Q is how onnxruntime's quantizer writes a fan-out): it
    // stays for them, and dead-node removal drops it otherwise.
    const d = dq(g, producers, u.inputs[0], false);
    if (!d) continue;
    const q = only(consumers, g, u.outputs[0]);
    if (!q || q.opType !== 'QuantizeLinear' || !isConst(g, q.inputs[1]) || g.constants.get(q.inputs[1])!.size !== 1) continue;
    const attrs: Node['attrs'] = { 'lowbit.op': op };
    if (u.opType === 'Clip') {
      const b = clipBounds(g, u);
      if (!b) continue;
      attrs['lowbit.min'] = b[0];
      attrs['lowbit.max'] = b[1];
    }
    for (const k of ['alpha', 'beta']) if (u.attrs[k] !== undefined) attrs[`lowbit.${k}`] = u.attrs[k];
    const lut: Node = {
      name: `${u.name}#lut`, opType: 'Lut8', domain: 'lowbit',
      inputs: [d.inputs[0], d.inputs[1], d.inputs[2] ?? '', q.inputs[1], q.inputs[2] ?? ''],
      outputs: [q.outputs[0]], attrs,
    };
    g.nodes.splice(g.nodes.indexOf(u), 1, lut);
    g.nodes = g.nodes.filter((n) => n !== q);
    consumers = g.consumers();
    count++;
  }
  return count;
}

export function fuseQdq(g: Graph): number {
  let count = 0;
  const producers = g.producers();
  let consumers = g.consumers();
  for (const op of [...g.nodes]) {
    if (op.domain !== '' || (op.opType !== 'Conv' && op.opType !== 'MatMul')) continue;
    const xdq = dq(g, producers, op.inputs[0], false);
    const wdq = dq(g, producers, op.inputs[1], true);
    if (!xdq || !wdq || !isConst(g, wdq.inputs[0])) continue;
    const w = g.constants.get(wdq.inputs[0])!;
    if (w.dtype !== 'int8' && w.dtype !== 'uint8') continue;
    // Per-axis weight scales must be along the output channels.
    const wScale = g.constants.get(wdq.inputs[1])!;
    if (wScale.size !== 1) {
      const axis = (wdq.attrs.axis as number | undefined) ?? 1;
      const outAxis = op.opType === 'Conv' ? 0 : 1;
      const rank = w.shape.length;
      if ((axis < 0 ? axis + rank : axis) !== outAxis) continue;
    }
    // Optional bias: DQ(int32 bias) with scale = xScale * wScale, zero point 0.
    let bias = '';
    if (op.opType === 'Conv' && op.inputs[2]) {
      const bdq = producers.get(op.inputs[2]);
      if (!bdq || bdq.opType !== 'DequantizeLinear' || !isConst(g, bdq.inputs[0]) || g.constants.get(bdq.inputs[0])!.dtype !== 'int32') continue;
      bias = bdq.inputs[0];
    }
    // The output: an optional Relu/Clip (a clamp of the 8-bit result) or, for
    // a Conv, HardSwish (applied to the accumulators in float before they are
    // quantized: lowbit's quantizer puts no QuantizeLinear between the two),
    // then QuantizeLinear.
    let next = only(consumers, g, op.outputs[0]);
    let act: Node | undefined;
    if (next && next.domain === '' && (next.opType === 'Relu' || next.opType === 'Clip' || (next.opType === 'HardSwish' && op.opType === 'Conv'))) {
      if (next.opType === 'Clip' && !clipBounds(g, next)) continue;
      act = next;
      next = only(consumers, g, next.outputs[0]);
    }
    if (!next || next.opType !== 'QuantizeLinear' || !isConst(g, next.inputs[1]) || !next.inputs[2] || !isConst(g, next.inputs[2])) continue;
    if (g.constants.get(next.inputs[1])!.size !== 1) continue;
    const q = next;
    const attrs: Node['attrs'] = {};
    for (const [k, v] of Object.entries(op.attrs)) attrs[k] = v;
    const hardSwish = act?.opType === 'HardSwish';
    if (hardSwish) {
      attrs['lowbit.activation'] = 'hardswish';
    } else if (act) {
      const [lo, hi] = act.opType === 'Relu' ? [0, Infinity] : clipBounds(g, act)!;
      attrs['lowbit.min'] = lo;
      attrs['lowbit.max'] = hi;
    }
    const inputs = [xdq.inputs[0], xdq.inputs[1], xdq.inputs[2] ?? '', wdq.inputs[0], wdq.inputs[1], wdq.inputs[2] ?? '', q.inputs[1], q.inputs[2]];
    if (bias) inputs.push(bias);
    const fused: Node = {
      name: `${op.name}#qdq`,
      opType: op.opType === 'Conv' ? 'QLinearConv' : 'QLinearMatMul',
      // With HardSwish it is no longer ONNX's QLinearConv: lowbit's own.
      domain: hardSwish ? 'lowbit' : '',
      inputs,
      outputs: [q.outputs[0]],
      attrs,
    };
    g.nodes.splice(g.nodes.indexOf(op), 1, fused);
    g.nodes = g.nodes.filter((n) => n !== q && n !== act);
    consumers = g.consumers();
    count++;
  }
  return count;
}

/**
 * A DequantizeLinear the int8 elementwise ops can read directly: per-tensor
 * constant parameters and a known 8-bit input type (from its zero point or
 * its constant input; int32 DequantizeLinear is a bias, not an activation).
 */
function dq8(g: Graph, producers: Map<string, Node>, value: string): Node | undefined {
  const d = dq(g, producers, value, false);
  if (!d) return undefined;
  const zp = d.inputs[2] ? g.constants.get(d.inputs[2]) : undefined;
  const x = g.constants.get(d.inputs[0]);
  const dtype = zp?.dtype ?? x?.dtype;
  if (dtype !== 'int8' && dtype !== 'uint8') return undefined;
  if (zp && zp.size !== 1) return undefined;
  return d;
}

/** A per-tensor QuantizeLinear reading `value` (its only reader), after an optional Relu/Clip. */
function quantizedOutput(g: Graph, consumers: Map<string, Node[]>, value: string): { q: Node; act?: Node } | undefined {
  let next = only(consumers, g, value);
  let act: Node | undefined;
  if (next && next.domain === '' && (next.opType === 'Relu' || next.opType === 'Clip')) {
    if (next.opType === 'Clip' && !clipBounds(g, next)) return undefined;
    act = next;
    next = only(consumers, g, next.outputs[0]);
  }
  if (!next || next.opType !== 'QuantizeLinear' || next.domain !== '' || !isConst(g, next.inputs[1])) return undefined;
  if (g.constants.get(next.inputs[1])!.size !== 1) return undefined;
  if (next.inputs[2]) {
    const zp = g.constants.get(next.inputs[2]);
    if (!zp || zp.size !== 1 || (zp.dtype !== 'int8' && zp.dtype !== 'uint8')) return undefined;
  }
  return { q: next, act };
}

const QLINEAR_OPS: Record<string, string> = { Add: 'QLinearAdd', Mul: 'QLinearMul', GlobalAveragePool: 'QLinearGlobalAveragePool' };

/**
 * DequantizeLinear -> Add / Mul / GlobalAveragePool [-> Relu / Clip] ->
 * QuantizeLinear (per-tensor activations) -> onnxruntime's int8 contrib op
 * (com.microsoft QLinearAdd, QLinearMul, QLinearGlobalAveragePool; inputs in
 * its order), so the data stays 8-bit between the int8 convolutions. A fused
 * Relu/Clip makes it the 'lowbit' form of the same op with attributes
 * lowbit.min / lowbit.max (the output clamp).
 */
export function fuseQuantizedElementwise(g: Graph): number {
  let count = 0;
  const producers = g.producers();
  let consumers = g.consumers();
  for (const op of [...g.nodes]) {
    const opType = op.domain === '' ? QLINEAR_OPS[op.opType] : undefined;
    if (!opType) continue;
    const pool = op.opType === 'GlobalAveragePool';
    if (op.inputs.length !== (pool ? 1 : 2) || op.outputs.length !== 1) continue;
    const dqs = op.inputs.map((v) => dq8(g, producers, v));
    if (dqs.some((d) => !d)) continue;
    const out = quantizedOutput(g, consumers, op.outputs[0]);
    if (!out) continue;
    const { q, act } = out;
    const attrs: Node['attrs'] = {};
    if (pool) attrs.channels_last = 0;
    if (act) {
      const [lo, hi] = act.opType === 'Relu' ? [0, Infinity] : clipBounds(g, act)!;
      attrs['lowbit.min'] = lo;
      attrs['lowbit.max'] = hi;
    }
    const inputs: string[] = [];
    for (const d of dqs) inputs.push(d!.inputs[0], d!.inputs[1], d!.inputs[2] ?? '');
    inputs.push(q.inputs[1], q.inputs[2] ?? '');
    const fused: Node = { name: `${op.name}#qlinear`, opType, domain: act ? 'lowbit' : 'com.microsoft', inputs, outputs: [q.outputs[0]], attrs };
    g.nodes.splice(g.nodes.indexOf(op), 1, fused);
    g.nodes = g.nodes.filter((n) => n !== q && n !== act);
    consumers = g.consumers();
    count++;
  }
  return count;
}

/** Ops that only select or move values: on 8-bit data they give exactly the quantized float result. */
const SELECTING_OPS = new Set(['MaxPool', 'GlobalMaxPool']);

/** Two constant scalars (one value each) of the same type and value. */
function sameScalar(g: Graph, a: string | undefined, b: string | undefined): boolean {
  const x = a ? g.constants.get(a) : undefined, y = b ? g.constants.get(b) : undefined;
  return !!x && !!y && x.size === 1 && y.size === 1 && x.dtype === y.dtype && x.data[0] === y.data[0];
}

/**
 * DequantizeLinear -> MaxPool -> QuantizeLinear with the same scale and zero
 * point -> MaxPool on the 8-bit values: max commutes with a monotonic
 * dequantization, and requantizing a dequantized value with the same
 * parameters gives it back, so the result is bit for bit the three float ops'.
 * (onnxruntime's quantizer writes MaxPool this way: output parameters = input's.)
 */
export function fuseQuantizedSelect(g: Graph): number {
  let count = 0;
  const producers = g.producers();
  let consumers = g.consumers();
  for (const op of [...g.nodes]) {
    if (op.domain !== '' || !SELECTING_OPS.has(op.opType)) continue;
    if (op.outputs.length > 1 && op.outputs[1] !== '') continue;  // MaxPool's Indices
    const d = dq8(g, producers, op.inputs[0]);
    if (!d) continue;
    const q = only(consumers, g, op.outputs[0]);
    if (!q || q.opType !== 'QuantizeLinear' || q.domain !== '') continue;
    // Same scale and the same stored zero point (so the same 8-bit type).
    if (!sameScalar(g, d.inputs[1], q.inputs[1]) || !sameScalar(g, d.inputs[2], q.inputs[2])) continue;
    const fused: Node = { ...op, name: `${op.name}#q8`, inputs: [d.inputs[0]], outputs: [q.outputs[0]] };
    g.nodes.splice(g.nodes.indexOf(op), 1, fused);
    g.nodes = g.nodes.filter((n) => n !== q);
    consumers = g.consumers();
    count++;
  }
  return count;
}
