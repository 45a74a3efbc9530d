// Dynamic quantization: int8 weights for MatMul and Gemm, activations quantized
// at run time from their own range. Written as standard ONNX (the graph
// onnxruntime's quantize_dynamic writes), so onnxruntime runs it too:
//   DynamicQuantizeLinear(x) -> MatMulInteger(xq, Wq, xz) -> Cast(float)
//     -> Mul(., Mul(xs, Ws)) [-> Add(., bias)]
// lowbit runs each such group as one native step (lowbit.DynamicMatMul).
// Conv is left in fp32: a run-time range pass over every feature map costs more
// than the int8 convolution saves with lowbit's fp32 conv kernels.
import { fail } from '../errors';
import { exportModel } from '../graph/export';
import { attrFloat, attrInt, Graph, Node } from '../graph/ir';
import { removeDeadNodes } from '../graph/passes';
import { upgradeOpset } from '../graph/upgrade';
import { Tensor } from '../tensor/tensor';
import { quantizeWeights } from './scheme';
import { loadGraph } from './static';

export interface DynamicOptions {
  /** Per-output-column weight scales (default true). */
  perChannel?: boolean;
  /** 7-bit weights. */
  reduceRange?: boolean;
  /** Nodes left in fp32: by node name or op type ('MatMul', 'Gemm'). */
  exclude?: { names?: string[]; opTypes?: string[] };
}

export interface DynamicResult {
  model: Uint8Array;
  /** The nodes quantized, by name. */
  quantized: string[];
  fp32Bytes: number;
}

/** B as a [K, N] float32 matrix (Gemm's transB undone), or undefined when it is not a usable constant. */
function weightMatrix(g: Graph, n: Node): { data: Float32Array; k: number; n: number } | undefined {
  const w = g.constants.get(n.inputs[1]);
  if (!w || w.dtype !== 'float32' || w.shape.length !== 2 || g.constants.has(n.inputs[0])) return undefined;
  const [r, c] = w.shape;
  const src = w.data as Float32Array;
  if (n.opType === 'Gemm' && attrInt(n, 'transB', 0) === 1) {
    const t = new Float32Array(r * c);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = src[i * c + j];
    return { data: t, k: c, n: r };
  }
  return { data: src, k: r, n: c };
}

/** Gemm's C as a [N] bias times beta, or undefined (no C, or a C that is not a constant vector). */
function gemmBias(g: Graph, n: Node, cols: number): Float32Array | null | undefined {
  if (!n.inputs[2]) return null;
  const c = g.constants.get(n.inputs[2]);
  if (!c || c.dtype !== 'float32' || c.size !== cols || c.shape[c.shape.length - 1] !== cols) return undefined;
  const beta = attrFloat(n, 'beta', 1);
  return Float32Array.from(c.data as Float32Array, (v) => Math.fround(v * beta));
}

export async function quantizeDynamicDetailed(model: string | Uint8Array, o: DynamicOptions = {}): Promise<DynamicResult> {
  if (o === null || typeof o !== 'object') fail('E_ARG', 'quantizeDynamic: options must be an object');
  const { graph: g, bytes } = loadGraph(model);
  // DynamicQuantizeLinear is opset 11.
  if (g.opset < 11) upgradeOpset(g, 13);
  const names = new Set(o.exclude?.names ?? []), types = new Set(o.exclude?.opTypes ?? []);
  const quantized: string[] = [];
  let id = 0;
  const added: Node[] = [];
  for (const n of [...g.nodes]) {
    if (n.domain !== '' || (n.opType !== 'MatMul' && n.opType !== 'Gemm') || names.has(n.name) || types.has(n.opType)) continue;
    if (n.opType === 'Gemm' && attrInt(n, 'transA', 0) !== 0) continue;
    const w = weightMatrix(g, n);
    if (!w) continue;
    const bias = n.opType === 'Gemm' ? gemmBias(g, n, w.n) : null;
    if (bias === undefined) continue;
    const alpha = n.opType === 'Gemm' ? attrFloat(n, 'alpha', 1) : 1;
    const q = quantizeWeights(w.data, [w.k, w.n], o.perChannel ?? true ? 1 : undefined, o.reduceRange);
    const tag = `d${id++}`;
    const [wq, ws] = [`${tag}_w`, `${tag}_ws`];
    g.constants.set(wq, new Tensor('int8', q.data, [w.k, w.n]));
    g.constants.set(ws, new Tensor('float32', Float32Array.from(q.scales, (s) => Math.fround(s * alpha)), q.scales.length === 1 ? [] : [q.scales.length]));
    const x = n.inputs[0];
    const [xq, xs, xz, acc, accf, sc] = ['q', 's', 'z', 'acc', 'f', 'sc'].map((s) => `${tag}_${s}`);
    const out = n.outputs[0];
    const y = bias ? `${tag}_y` : out;
    added.push(
      { name: `${tag}_quantize`, opType: 'DynamicQuantizeLinear', domain: '', inputs: [x], outputs: [xq, xs, xz], attrs: {} },
      { name: `${tag}_matmul`, opType: 'MatMulInteger', domain: '', inputs: [xq, wq, xz], outputs: [acc], attrs: {} },
      { name: `${tag}_cast`, opType: 'Cast', domain: '', inputs: [acc], outputs: [accf], attrs: { to: 1 }, attrTypes: { to: 2 } },
      { name: `${tag}_scale`, opType: 'Mul', domain: '', inputs: [xs, ws], outputs: [sc], attrs: {} },
      { name: `${tag}_mul`, opType: 'Mul', domain: '', inputs: [accf, sc], outputs: [y], attrs: {} },
    );
    if (bias) {
      const b = `${tag}_b`;
      g.constants.set(b, new Tensor('float32', bias, [w.n]));
      added.push({ name: `${tag}_bias`, opType: 'Add', domain: '', inputs: [y, b], outputs: [out], attrs: {} });
    }
    g.nodes.splice(g.nodes.indexOf(n), 1);
    quantized.push(n.name);
  }
  g.nodes.push(...added);
  g.sortTopologically();
  removeDeadNodes(g);
  return { model: exportModel(g, { producer: 'lowbit quantizeDynamic' }), quantized, fp32Bytes: bytes };
}

/** Dynamic quantization of a model's MatMul and Gemm nodes; returns the ONNX bytes. */
export async function quantizeDynamic(model: string | Uint8Array, o: DynamicOptions = {}): Promise<Uint8Array> {
  return (await quantizeDynamicDetailed(model, o)).model;
}
