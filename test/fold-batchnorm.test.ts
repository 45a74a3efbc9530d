// BatchNormalization after a Gemm folds into its weights and bias (the Conv
// case is covered by the classifier, which has 35 of them): outputs equal
// onnxruntime-node's on the unfolded model, and what cannot fold is left alone.
import { strict as assert } from 'node:assert';
import * as ort from 'onnxruntime-node';
import { exportModel } from '../lib/graph/export';
import { importModel } from '../lib/graph/import';
import { foldBatchNorm } from '../lib/graph/passes';
import { Session } from '../lib/runtime/session';
import { Tensor } from '../lib/tensor/tensor';
import { buildModel } from './helpers/onnx-builder';
import { Rng } from './helpers/random';

const M = 5, K = 12, N = 7;

function gemmBn(o: { transB: boolean; c?: number[]; alpha?: number; beta?: number; keepH?: boolean }): Uint8Array {
  const rng = new Rng(11);
  const r = (n: number, lo = -1, hi = 1) => Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.next());
  const initializers: Record<string, Tensor> = {
    w: new Tensor('float32', r(K * N), o.transB ? [N, K] : [K, N]),
    gamma: new Tensor('float32', r(N, 0.5, 2), [N]),
    beta: new Tensor('float32', r(N), [N]),
    mean: new Tensor('float32', r(N), [N]),
    var: new Tensor('float32', r(N, 0.1, 3), [N]),
  };
  const inputs = ['x', 'w'];
  if (o.c) {
    const size = o.c.reduce((a, b) => a * b, 1);
    initializers.c = new Tensor('float32', r(size), o.c);
    inputs.push('c');
  }
  // (alpha and beta only when not 1: the builder writes a whole number as an INT attribute)
  const attributes: Record<string, number> = { transB: o.transB ? 1 : 0 };
  if (o.alpha !== undefined) attributes.alpha = o.alpha;
  if (o.beta !== undefined) attributes.beta = o.beta;
  return buildModel({
    nodes: [
      { op: 'Gemm', inputs, outputs: ['h'], attributes },
      { op: 'BatchNormalization', inputs: ['h', 'gamma', 'beta', 'mean', 'var'], outputs: ['y'], attributes: { epsilon: 1e-3 } },
    ],
    inputs: [{ name: 'x', dtype: 'float32', shape: [M, K] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [M, N] }, ...(o.keepH ? [{ name: 'h', dtype: 'float32', shape: [M, N] }] : [])],
    initializers,
  });
}

describe('BatchNormalization folded into Gemm', () => {
  const x = Float32Array.from({ length: M * K }, (_, i) => Math.sin(0.7 * i));
  const cases: { name: string; transB: boolean; c?: number[]; alpha?: number; beta?: number; keepH?: boolean; folds: boolean }[] = [
    { name: 'B [K, N], no C', transB: false, folds: true },
    { name: 'B [N, K] (transB), C [N], alpha 0.5, beta 2.5', transB: true, c: [N], alpha: 0.5, beta: 2.5, folds: true },
    { name: 'C [1, N]', transB: false, c: [1, N], beta: 0.75, folds: true },
    { name: 'C one value', transB: true, c: [1], folds: true },
    { name: 'the Gemm output is also a model output: not folded', transB: false, c: [N], keepH: true, folds: false },
  ];
  for (const c of cases) {
    it(`${c.name}: equals onnxruntime-node on the unfolded model`, async () => {
      const bytes = gemmBn(c);
      const s = await Session.create(bytes);
      assert.equal(s.passes!.batchNormsFolded, c.folds ? 1 : 0);
      const got = s.runSync({ x: new Tensor('float32', x, [M, K]) }).y.data as Float32Array;
      const o = await ort.InferenceSession.create(bytes);
      const want = (await o.run({ x: new ort.Tensor('float32', x, [M, K]) })).y.data as Float32Array;
      got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) <= 1e-5 * (1 + Math.abs(want[i])), `y[${i}] = ${v}, onnxruntime-node ${want[i]}`));
      if (!c.folds) return;
      // The folded graph, exported, is a model onnxruntime-node runs the same (Gemm's beta stays a float).
      const g = importModel(bytes);
      assert.equal(foldBatchNorm(g), 1);
      assert.deepEqual(g.nodes.map((n) => n.opType), ['Gemm']);
      const folded = await ort.InferenceSession.create(exportModel(g));
      const again = (await folded.run({ x: new ort.Tensor('float32', x, [M, K]) })).y.data as Float32Array;
      again.forEach((v, i) => assert.ok(Math.abs(v - want[i]) <= 1e-5 * (1 + Math.abs(want[i])), `folded y[${i}] = ${v}, unfolded ${want[i]}`));
    });
  }
});
