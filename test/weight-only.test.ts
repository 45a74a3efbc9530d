// Weight-only int4: the quantizer writes opset-21 int4 DequantizeLinear (per
// channel or blocked along K) that onnxruntime-node runs; lowbit runs each
// DequantizeLinear -> MatMul/Gemm on the int4-weight GEMM kernel, equal to
// onnxruntime within float rounding and identical on every ISA path.
import { strict as assert } from 'node:assert';
import { cpu } from '../lib';
import { importModel } from '../lib/graph/import';
import { quantizeWeightOnlyDetailed } from '../lib/quant/weight-only';
import { Session } from '../lib/runtime/session';
import { Tensor } from '../lib/tensor/tensor';
import { buildModel } from './helpers/onnx-builder';
import { ort } from './helpers/ort';
import { Rng } from './helpers/random';

const K = 200, H = 96, N = 12;

/** x [batch, K] -> MatMul [K, H] -> Relu -> Gemm (transB, C) -> [batch, N]: GEMM-heavy. */
function mlp(): Uint8Array {
  const rng = new Rng(8);
  return buildModel({
    nodes: [
      { op: 'MatMul', inputs: ['x', 'w1'], outputs: ['h'] },
      { op: 'Relu', inputs: ['h'], outputs: ['r'] },
      { op: 'Gemm', inputs: ['r', 'w2', 'b2'], outputs: ['y'], attributes: { transB: 1, beta: 0.5 } },
    ],
    inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', K] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', N] }],
    initializers: {
      w1: new Tensor('float32', rng.floats(K * H, -0.25, 0.25), [K, H]),
      w2: new Tensor('float32', rng.floats(N * H, -0.4, 0.4), [N, H]),
      b2: new Tensor('float32', rng.floats(N, -0.3, 0.3), [N]),
    },
    opset: 13,
  });
}

describe('weight-only int4', () => {
  const fp32 = mlp();
  for (const blockSize of [0, 32, 64, 128]) {
    describe(blockSize === 0 ? 'per channel' : `blocks of ${blockSize}`, () => {
      let model: Uint8Array;
      before(async () => {
        const r = await quantizeWeightOnlyDetailed(fp32, { blockSize });
        assert.deepEqual(r.quantized.length, 2);
        model = r.model;
      });

      it('writes an opset-21 model with int4 weights, at most 0.2x the fp32 file', () => {
        const g = importModel(model);
        assert.equal(g.opset, 21);
        assert.equal(g.int4.size, 2);
        assert.ok(model.length <= 0.2 * fp32.length, `${model.length} vs ${fp32.length}`);
      });

      it('runs both products on the int4 kernel, equal to onnxruntime-node within 1e-5 of the output range', async () => {
        const s = await Session.create(model);
        assert.equal(s.passes!.int4MatMuls, 2, JSON.stringify(s.passes));
        const rng = new Rng(blockSize + 1);
        for (const batch of [1, 5]) {
          const x = new Tensor('float32', rng.floats(batch * K, -1, 1), [batch, K]);
          const y = s.runSync({ x }).y.data as Float32Array;
          const o = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
          const yo = (await o.run({ x: new ort.Tensor('float32', x.data as Float32Array, [batch, K]) })).y.data as Float32Array;
          const range = Math.max(...Array.from(yo, Math.abs));
          for (let i = 0; i < y.length; i++) assert.ok(Math.abs(y[i] - yo[i]) <= 1e-5 * range, `batch ${batch} y[${i}]: ${y[i]} vs onnxruntime ${yo[i]}`);
          // And within int4's error of the fp32 model.
          const yf = Session.createSync(fp32).runSync({ x }).y.data as Float32Array;
          let err = 0, sig = 0;
          for (let i = 0; i < y.length; i++) {
            err += (y[i] - yf[i]) ** 2;
            sig += yf[i] ** 2;
          }
          assert.ok(10 * Math.log10(sig / err) > 15, `SQNR ${10 * Math.log10(sig / err)} dB`);
        }
      });

      it('gives identical bytes on every ISA path', () => {
        const x = new Tensor('float32', new Rng(3).floats(3 * K, -2, 2), [3, K]);
        const before = cpu.isa;
        const outs = cpu.available().map((isa) => {
          cpu.setIsa(isa);
          return Array.from(Session.createSync(model).runSync({ x }).y.data as Float32Array);
        });
        cpu.setIsa(before);
        for (const o of outs.slice(1)) assert.deepEqual(o, outs[0]);
      });
    });
  }

  it('keeps excluded nodes in fp32 and refuses bad options', async () => {
    const r = await quantizeWeightOnlyDetailed(fp32, { exclude: { opTypes: ['Gemm'] } });
    assert.equal(r.quantized.length, 1);
    await assert.rejects(quantizeWeightOnlyDetailed(fp32, { blockSize: 48 }), /blockSize must be/);
    await assert.rejects(quantizeWeightOnlyDetailed(fp32, { bits: 3 as never }), /bits must be 4 or 8/);
  });
});
