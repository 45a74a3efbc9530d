// Runs one ONNX node in onnxruntime-node on lowbit Tensors: the oracle for the
// fp32 op tests. int64 constant inputs (Pad's pads, Resize's sizes, ...) are
// added as initializers, which Tensor (no int64) cannot hold.
import { strict as assert } from 'node:assert';
import { onnx } from '../../lib/graph/onnx';
import { Tensor } from '../../lib/tensor/tensor';
import { buildModel } from './onnx-builder';
import { createSession, ort } from './ort';

export interface NodeRun {
  op: string;
  /** Inputs in order; a name of '' leaves an optional input out. */
  inputs: { name: string; value?: Tensor; int64?: readonly number[]; float?: readonly number[] }[];
  outputs?: { name: string; dtype: string }[];
  attributes?: Record<string, number | number[] | string>;
  opset?: number;
}

const sessions = new Map<string, ort.InferenceSession>();

function modelOf(run: NodeRun): Uint8Array {
  const graphInputs = run.inputs.filter((i) => i.name !== '' && i.value !== undefined);
  const outputs = run.outputs ?? [{ name: 'y', dtype: graphInputs[0]?.value?.dtype ?? 'float32' }];
  const bytes = buildModel({
    opset: run.opset ?? 13,
    nodes: [{ op: run.op, inputs: run.inputs.map((i) => i.name), outputs: outputs.map((o) => o.name), attributes: run.attributes }],
    inputs: graphInputs.map((i) => ({ name: i.name, dtype: i.value!.dtype, shape: [...i.value!.shape] })),
    outputs: outputs.map((o) => ({ name: o.name, dtype: o.dtype, shape: [] })),
  });
  const consts = run.inputs.filter((i) => i.int64 !== undefined || i.float !== undefined);
  if (consts.length === 0) return stripOutputShapes(bytes);
  const model = onnx.ModelProto.decode(bytes);
  for (const c of consts) {
    const t = c.int64 !== undefined
      ? onnx.TensorProto.create({ name: c.name, dims: [c.int64.length], dataType: 7, int64Data: c.int64.map((v) => v) })
      : onnx.TensorProto.create({ name: c.name, dims: [c.float!.length], dataType: 1, floatData: [...c.float!] });
    model.graph!.initializer!.push(t);
  }
  return stripOutputShapes(onnx.ModelProto.encode(model).finish());
}

/** Output shapes are left unknown (rank included), so ORT infers them. */
function stripOutputShapes(bytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  for (const o of model.graph!.output!) o.type!.tensorType!.shape = undefined;
  return onnx.ModelProto.encode(model).finish();
}

/** Runs the node; returns its outputs by name as lowbit Tensors. */
export async function runNode(run: NodeRun): Promise<Record<string, Tensor>> {
  const bytes = modelOf(run);
  const key = Buffer.from(bytes).toString('base64');
  let session = sessions.get(key);
  if (!session) {
    session = await createSession(bytes);
    if (sessions.size > 200) sessions.clear();
    sessions.set(key, session);
  }
  const feeds: Record<string, ort.Tensor> = {};
  for (const i of run.inputs) {
    if (i.name === '' || i.value === undefined) continue;
    const t = i.value;
    feeds[i.name] = new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, [...t.shape]);
  }
  const res = await session.run(feeds);
  const out: Record<string, Tensor> = {};
  for (const [name, v] of Object.entries(res)) {
    const dtype = v.type === 'float32' ? 'float32' : v.type === 'int32' ? 'int32' : v.type === 'int8' ? 'int8' : v.type === 'uint8' ? 'uint8' : undefined;
    if (dtype === undefined) throw new Error(`unexpected output type ${v.type}`);
    out[name] = new Tensor(dtype, v.data as Float32Array, [...v.dims]);
  }
  return out;
}

/** Shapes equal and |got - want| <= rtol * |want| + atol everywhere (NaN matches NaN). */
export function assertClose(got: Tensor, want: Tensor, rtol = 0, atol = 0, what = ''): void {
  assert.deepEqual([...got.shape], [...want.shape], `${what} shape`);
  assert.equal(got.dtype, want.dtype, `${what} dtype`);
  const g = got.data as ArrayLike<number>, w = want.data as ArrayLike<number>;
  for (let i = 0; i < w.length; i++) {
    const a = g[i], b = w[i];
    if (Number.isNaN(a) || Number.isNaN(b)) {
      if (!(Number.isNaN(a) && Number.isNaN(b))) assert.fail(`${what} element ${i}: got ${a}, want ${b}`);
      continue;
    }
    if (a === b) continue;
    if (!(Math.abs(a - b) <= rtol * Math.abs(b) + atol)) assert.fail(`${what} element ${i}: got ${a}, want ${b} (rtol ${rtol}, atol ${atol})`);
  }
}

/** [N, C, H, W] <-> [N, H, W, C] in plain JS (independent of lowbit's transpose). */
export function permute(t: Tensor, perm: readonly number[]): Tensor {
  const shape = perm.map((p) => t.shape[p]);
  const rank = shape.length;
  const inStride = new Array<number>(rank);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) {
    inStride[d] = s;
    s *= t.shape[d];
  }
  const src = t.data as ArrayLike<number>;
  const Ctor = (t.data as ArrayBufferView).constructor as new (n: number) => { [i: number]: number };
  const out = new Ctor(s);
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < s; o++) {
    let off = 0;
    for (let d = 0; d < rank; d++) off += idx[d] * inStride[perm[d]];
    out[o] = src[off];
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return new Tensor(t.dtype, out as never, shape);
}
