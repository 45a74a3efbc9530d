// Binary layers of the `ai.lowbit` domain (docs/binary.md): BinaryConv and
// BinaryGemm. Weights are packed once per session; convolutions run
// channels-last. A layer with output "sign" writes packed bits, and the next
// binary layer reads them as they are; the float ±1 tensor the ONNX graph
// speaks of is made (one unpack step) only for a reader that is not a binary
// layer, or a graph output.
import { LowbitError, fail } from '../../errors';
import { attrInt, attrInts, attrString, describeNode, Graph, Node } from '../../graph/ir';
import * as ops from '../../ops';
import type { BinaryConv2dOptions, BinaryOutputOptions } from '../../ops/binary';
import { convAutoPads, type AutoPad } from '../../ops/conv';
import type { Tensor } from '../../tensor/tensor';
import type { Handler, Planner } from '../planner';
import type { RtValue } from '../value';
import { toNchw, toNhwc } from './layout';

export const BINARY_DOMAIN = 'ai.lowbit';

/** The packed-bits form of a graph value whose float ±1 form readers other than binary layers see. */
const bitForms = new WeakMap<RtValue, RtValue>();

function invalid(node: Node, message: string): never {
  fail('E_MODEL_INVALID', `${describeNode(node)}: ${message}`);
}

function need(node: Node, v: RtValue | undefined, what: string): RtValue {
  if (!v) invalid(node, `input ${what} is missing`);
  return v;
}

/** Runs `make`, reporting what the ops reject about the node's attributes or weights as an invalid model. */
function pack<T>(node: Node, make: () => T): T {
  try {
    return make();
  } catch (err) {
    if (err instanceof LowbitError) invalid(node, err.message);
    throw err;
  }
}

/** A FLOATS attribute (a single FLOAT is accepted too): 1 or n finite values. */
function floatsAttr(node: Node, name: string, n: number): number[] | undefined {
  const v = node.attrs[name];
  if (v === undefined) return undefined;
  const list = typeof v === 'number' ? [v] : v;
  if (!Array.isArray(list) || list.some((x) => typeof x !== 'number')) invalid(node, `attribute '${name}' must be a list of floats`);
  if (list.length !== 1 && list.length !== n) invalid(node, `attribute '${name}' has ${list.length} values, expected 1 or ${n} (one per output channel)`);
  return list as number[];
}

function numberAttr(node: Node, name: string): number | undefined {
  const v = node.attrs[name];
  if (v !== undefined && typeof v !== 'number') invalid(node, `attribute '${name}' must be a number`);
  return v;
}

const ONNX_OUTPUT: Record<string, ops.BinaryOutputKind> = { float: 'float32', int8: 'int8', sign: 'bit' };

/** The output transform attributes (alpha, beta, output, threshold, y_scale, y_zero_point) as ops options. */
function outputOptions(node: Node, n: number): BinaryOutputOptions {
  const name = attrString(node, 'output', 'float');
  const output = Object.prototype.hasOwnProperty.call(ONNX_OUTPUT, name) ? ONNX_OUTPUT[name] : invalid(node, `attribute 'output' must be "float", "int8" or "sign", got "${name}"`);
  const o: BinaryOutputOptions = { output, alpha: floatsAttr(node, 'alpha', n), beta: floatsAttr(node, 'beta', n) };
  const threshold = floatsAttr(node, 'threshold', n);
  const yScale = numberAttr(node, 'y_scale'), yZeroPoint = numberAttr(node, 'y_zero_point');
  if (threshold !== undefined) {
    if (output !== 'bit') invalid(node, `attribute 'threshold' applies to output "sign" only (output is "${name}")`);
    o.threshold = threshold;
  }
  if (output === 'int8') {
    if (yScale === undefined) invalid(node, `output "int8" needs the attribute 'y_scale'`);
    o.yScale = yScale;
    if (yZeroPoint !== undefined) o.yZeroPoint = yZeroPoint;
  } else if (yScale !== undefined || yZeroPoint !== undefined) {
    invalid(node, `attributes 'y_scale' and 'y_zero_point' apply to output "int8" only (output is "${name}")`);
  }
  return o;
}

/** Weights: a float32 or int8 initializer of the given rank (only its signs are used). */
function weights(p: Planner, node: Node, v: RtValue | undefined, what: string, shape: string): Tensor {
  const w = need(node, v, what);
  if (!w.constant) p.fail(node, `${what} must be an initializer (a constant)`);
  if (w.dtype !== 'float32' && w.dtype !== 'int8') invalid(node, `${what} must be float32 or int8 (its signs are the weights), got ${w.dtype}`);
  if (w.shape.length !== shape.split(',').length) invalid(node, `${what} must be ${shape}, got [${w.shape.join(', ')}]`);
  if (w.shape.some((d) => d === 0)) invalid(node, `${what} must not be empty, got [${w.shape.join(', ')}]`);
  return w.constant;
}

function activation(p: Planner, node: Node, x: RtValue): void {
  if (x.constant) p.fail(node, 'the input is a constant; binary layers run on computed activations only');
}

/** Whether `reader` reads `name` (its first input, only there) as packed bits of this rank. */
function readsBits(reader: Node, name: string, rank: number): boolean {
  if (reader.domain !== BINARY_DOMAIN || reader.inputs[0] !== name || reader.inputs.indexOf(name, 1) > 0) return false;
  if (reader.opType === 'BinaryConv') return rank === 4;
  return reader.opType === 'BinaryGemm' && rank !== 4 && (reader.attrs.input_mode ?? 'sign') === 'sign';
}

/**
 * The node's output for a layer that wrote `bits`: the bits themselves when
 * every reader is a binary layer, else the float ±1 values (one unpack step)
 * with the bits kept beside them for the binary readers.
 */
function signOutput(p: Planner, node: Node, bits: RtValue, graph: Graph): RtValue[] {
  const name = node.outputs[0];
  const readers = graph.nodes.filter((n) => n.inputs.includes(name));
  if (!graph.isGraphOutput(name) && readers.length > 0 && readers.every((r) => readsBits(r, name, bits.shape.length))) {
    p.values.set(name, bits);
    return [bits];
  }
  const signs = p.output(name, 'float32', bits.shape, bits.layout);
  bitForms.set(signs, bits);
  return p.step(`${node.name}#signs`, [bits], [signs], (ins, outs, program) => ops.bitunpackInto(ins[0], outs[0], program));
}

/** A layer's input: its packed bits when a binary layer made them (and the layout fits), else the value itself. */
function signsOf(x: RtValue, rank4: boolean): RtValue {
  if (x.dtype === 'bit') return x;
  const bits = bitForms.get(x);
  return bits && (bits.shape.length === 4) === rank4 ? bits : x;
}

const binaryConv: Handler = (p, node, [x0, w0]) => {
  const x1 = signsOf(need(node, x0, 'X'), true);
  if (node.inputs.length > 2) invalid(node, `has ${node.inputs.length} inputs; BinaryConv takes X and W (fold a bias into 'beta')`);
  if (x1.shape.length !== 4) p.fail(node, `X must be 4-D [N, C, H, W], got [${x1.shape.join(', ')}]`);
  if (x1.dtype !== 'float32' && x1.dtype !== 'int8' && x1.dtype !== 'bit') invalid(node, `X must be float32 or int8, got ${x1.dtype}`);
  activation(p, node, x1);
  const w = weights(p, node, w0, 'W', '[M, C, kH, kW]');
  const [m, c, kh, kw] = w.shape;
  if (x1.shape[1] !== c) invalid(node, `X has ${x1.shape[1]} channels ([${x1.shape.join(', ')}]), W [${w.shape.join(', ')}] expects ${c}`);
  const kernel = attrInts(node, 'kernel_shape', [kh, kw]);
  if (kernel.length !== 2 || kernel[0] !== kh || kernel[1] !== kw) invalid(node, `kernel_shape [${kernel.join(', ')}] disagrees with W [${w.shape.join(', ')}]`);
  if (kh > 64 || kw > 64) p.fail(node, `kernel ${kh}x${kw} is above the 64x64 limit`);
  const group = attrInt(node, 'group', 1);
  if (group !== 1) p.fail(node, `group = ${group}: binary convolutions run with group = 1 only`);
  const strides = attrInts(node, 'strides', [1, 1]), dilations = attrInts(node, 'dilations', [1, 1]);
  if (strides.length !== 2 || dilations.length !== 2) invalid(node, 'strides and dilations must have 2 values (a 2-D convolution)');
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  if (!['NOTSET', 'VALID', 'SAME_UPPER', 'SAME_LOWER'].includes(autoPad)) invalid(node, `auto_pad must be NOTSET, VALID, SAME_UPPER or SAME_LOWER, got "${autoPad}"`);
  if (autoPad !== 'NOTSET' && node.attrs.pads !== undefined) invalid(node, `has both auto_pad = "${autoPad}" and pads`);
  if ([...strides, ...dilations].some((s) => !Number.isInteger(s) || s < 1)) invalid(node, `strides [${strides.join(', ')}] and dilations [${dilations.join(', ')}] must be positive`);
  const pads = autoPad === 'NOTSET' ? attrInts(node, 'pads', [0, 0, 0, 0]) : convAutoPads(autoPad as AutoPad, [x1.shape[2], x1.shape[3]], [kh, kw], strides, dilations);
  if (pads.length !== 4) invalid(node, `pads must have 4 values [top, left, bottom, right], got ${pads.length}`);
  const padMode = attrString(node, 'pad_mode', 'zero');
  if (padMode !== 'zero' && padMode !== 'one') invalid(node, `pad_mode must be "zero" or "one", got "${padMode}"`);
  const options: BinaryConv2dOptions = { ...outputOptions(node, m), strides, dilations, pads, padding: padMode, weightLayout: 'OIHW' };
  // Geometry that depends on the input (auto_pad) is part of the key.
  const layer = p.cached(`binaryConv:${node.name}:${pads.join(',')}`, () => pack(node, () => ops.packBinaryConv2d(w, options)));
  const [n, oh, ow] = layer.outputShape([x1.shape[0], x1.shape[2], x1.shape[3], c]);
  if (!(oh > 0 && ow > 0)) invalid(node, `the ${kh}x${kw} kernel (dilations ${dilations.join('x')}) does not fit the padded input [${x1.shape.join(', ')}]`);
  const x = x1.dtype === 'bit' ? x1 : toNhwc(p, x1);
  const shape = [n, m, oh, ow];
  const out = layer.output === 'bit' ? p.temp(`${node.outputs[0]}#bits`, 'bit', shape, 'nhwc') : p.output(node.outputs[0], layer.output, shape, 'nhwc');
  p.step(node.name, [x], [out], (ins, outs, program) => ops.binaryConv2dInto(ins[0], layer, outs[0], program));
  return layer.output === 'bit' ? signOutput(p, node, out, p.graph) : [out];
};

const binaryGemm: Handler = (p, node, [a0, b0]) => {
  if (node.inputs.length > 2) invalid(node, `has ${node.inputs.length} inputs; BinaryGemm takes A and B (fold a bias into 'beta')`);
  const mode = attrString(node, 'input_mode', 'sign');
  if (mode !== 'sign' && mode !== 'real') invalid(node, `input_mode must be "sign" or "real", got "${mode}"`);
  const a0v = need(node, a0, 'A');
  const a1 = mode === 'sign' ? signsOf(a0v, false) : a0v;
  if (a1.shape.length < 1) invalid(node, 'A must have at least one dimension');
  const allowed = mode === 'sign' ? ['float32', 'int8', 'bit'] : ['float32', 'int8', 'uint8'];
  if (!allowed.includes(a1.dtype)) invalid(node, `A must be ${allowed.filter((d) => d !== 'bit').join(' or ')} with input_mode "${mode}", got ${a1.dtype}`);
  activation(p, node, a1);
  const b = weights(p, node, b0, 'B', '[N, K]');
  const [nOut, k] = b.shape;
  const a = a1.dtype === 'bit' ? a1 : toNchw(p, a1);
  if (a.shape[a.shape.length - 1] !== k) invalid(node, `A is [${a.shape.join(', ')}], its last axis must be K = ${k} (B is [N, K] = [${b.shape.join(', ')}])`);
  const options = outputOptions(node, nOut);
  const shape = [...a.shape.slice(0, -1), nOut];
  const outOf = (kind: ops.BinaryOutputKind) => (kind === 'bit' ? p.temp(`${node.outputs[0]}#bits`, 'bit', shape, 'nchw') : p.output(node.outputs[0], kind, shape));
  let out: RtValue;
  if (mode === 'sign') {
    if (node.attrs.a_zero_point !== undefined) invalid(node, `attribute 'a_zero_point' applies to input_mode "real" only`);
    const layer = p.cached(`binaryGemm:${node.name}`, () => pack(node, () => ops.packBinaryGemm(b, options)));
    out = outOf(layer.output);
    p.step(node.name, [a], [out], (ins, outs, program) => ops.binaryGemmInto(ins[0], layer, outs[0], program));
  } else {
    const layer = p.cached(`binaryWeightGemm:${node.name}`, () => pack(node, () => ops.packBinaryWeightGemm(b, options)));
    const zp = numberAttr(node, 'a_zero_point');
    if (zp !== undefined && a.dtype === 'float32') invalid(node, `attribute 'a_zero_point' applies to int8/uint8 A only (A is float32)`);
    const lo = a.dtype === 'int8' ? -128 : 0, hi = a.dtype === 'int8' ? 127 : 255;
    if (zp !== undefined && !(Number.isInteger(zp) && zp >= lo && zp <= hi)) invalid(node, `a_zero_point = ${zp} is outside the ${a.dtype} range [${lo}, ${hi}]`);
    out = outOf(layer.output);
    const runOptions = zp === undefined ? {} : { aZeroPoint: zp };
    p.step(node.name, [a], [out], (ins, outs, program) => ops.binaryWeightGemmInto(ins[0], layer, outs[0], runOptions, program));
  }
  return out.dtype === 'bit' ? signOutput(p, node, out, p.graph) : [out];
};

export const binaryHandlers: Record<string, Handler> = {
  BinaryConv: binaryConv,
  BinaryGemm: binaryGemm,
};
