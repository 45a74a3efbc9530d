// Weight-only quantization: MatMul and Gemm weights to symmetric int4 (or
// int8), per output channel or in blocks along K; activations stay float32.
// Written as DequantizeLinear (opset 21: int4, block_size) feeding the
// MatMul/Gemm, which onnxruntime runs (as MatMulNBits where it can) and lowbit
// runs on its int4-weight GEMM kernel.
import { fail } from '../errors';
import { exportModel } from '../graph/export';
import { attrInt, Node } from '../graph/ir';
import { removeDeadNodes } from '../graph/passes';
import { upgradeOpset } from '../graph/upgrade';
import { Tensor } from '../tensor/tensor';
import { quantizeInt4 } from '../ops/int4';
import { quantizeWeights } from './scheme';
import { loadGraph } from './static';

export interface WeightOnlyOptions {
  /** 4 (default) or 8. */
  bits?: 4 | 8;
  /** int4: values per block along K, 32 (default), 64 or 128, or 0 for one scale per output channel. int8: per channel only. */
  blockSize?: number;
  /** Nodes left in fp32: by node name or op type ('MatMul', 'Gemm'). */
  exclude?: { names?: string[]; opTypes?: string[] };
}

export interface WeightOnlyResult {
  model: Uint8Array;
  quantized: string[];
  fp32Bytes: number;
}

export async function quantizeWeightOnlyDetailed(model: string | Uint8Array, o: WeightOnlyOptions = {}): Promise<WeightOnlyResult> {
  if (o === null || typeof o !== 'object') fail('E_ARG', 'quantizeWeightOnly: options must be an object');
  const bits = o.bits ?? 4;
  if (bits !== 4 && bits !== 8) fail('E_ARG', `quantizeWeightOnly: bits must be 4 or 8, got ${String(bits)}`);
  const blockSize = o.blockSize ?? (bits === 4 ? 32 : 0);
  if (![0, 32, 64, 128].includes(blockSize)) fail('E_ARG', `quantizeWeightOnly: blockSize must be 0 (per channel), 32, 64 or 128, got ${blockSize}`);
  if (bits === 8 && blockSize !== 0) fail('E_ARG', 'quantizeWeightOnly: int8 weights are per channel (blockSize 0)');
  const { graph: g, bytes } = loadGraph(model);
  upgradeOpset(g, 21);
  const names = new Set(o.exclude?.names ?? []), types = new Set(o.exclude?.opTypes ?? []);
  const quantized: string[] = [];
  const added: Node[] = [];
  let id = 0;
  for (const n of g.nodes) {
    if (n.domain !== '' || (n.opType !== 'MatMul' && n.opType !== 'Gemm') || names.has(n.name) || types.has(n.opType)) continue;
    const w = g.constants.get(n.inputs[1]);
    if (!w || w.dtype !== 'float32' || w.shape.length !== 2 || g.constants.has(n.inputs[0])) continue;
    // K runs along axis 0 of MatMul's B [K, N] and of Gemm's B unless transB ([N, K]).
    const kAxis: 0 | 1 = n.opType === 'Gemm' && attrInt(n, 'transB', 0) === 1 ? 1 : 0;
    const f32 = w.data as Float32Array;
    let data: Int8Array, scales: Tensor;
    if (bits === 4) {
      const q = quantizeInt4(w, { axis: kAxis, blockSize: blockSize as 0 | 32 | 64 | 128 });
      data = q.data.data as Int8Array;
      // Per channel: ONNX wants a 1-D scale along the output axis.
      scales = blockSize === 0 ? new Tensor('float32', q.scales.data as Float32Array, [q.scales.size]) : q.scales;
    } else {
      const q = quantizeWeights(f32, w.shape, 1 - kAxis);
      data = q.data;
      scales = new Tensor('float32', q.scales, [q.scales.length]);
    }
    const tag = `w${id++}`;
    const [wq, ws, wd] = [`${tag}_q`, `${tag}_s`, `${tag}_dq`];
    g.constants.set(wq, new Tensor('int8', data, [...w.shape]));
    if (bits === 4) g.int4.add(wq);
    g.constants.set(ws, scales);
    // Per channel: the scale runs along the output axis; blocked: along K.
    const attrs: Node['attrs'] = blockSize === 0 ? { axis: 1 - kAxis } : { axis: kAxis, block_size: blockSize };
    added.push({ name: `${tag}_dequantize`, opType: 'DequantizeLinear', domain: '', inputs: [wq, ws], outputs: [wd], attrs, attrTypes: { axis: 2, block_size: 2 } });
    n.inputs[1] = wd;
    quantized.push(n.name);
  }
  g.nodes.push(...added);
  g.sortTopologically();
  removeDeadNodes(g);
  return { model: exportModel(g, { producer: 'lowbit quantizeWeightOnly', irVersion: 10 }), quantized, fp32Bytes: bytes };
}

/** Weight-only int4 (or int8) quantization of MatMul/Gemm weights; returns the ONNX bytes. */
export async function quantizeWeightOnly(model: string | Uint8Array, o: WeightOnlyOptions = {}): Promise<Uint8Array> {
  return (await quantizeWeightOnlyDetailed(model, o)).model;
}
