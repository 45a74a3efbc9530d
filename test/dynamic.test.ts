// Dynamic quantization: DynamicQuantizeLinear against the ONNX formula, and
// quantizeDynamic on a MatMul/Gemm model built here: it agrees with fp32 within
// the stated tolerance, runs fused in lowbit, and onnxruntime-node runs the
// same file with the same result.
import { strict as assert } from 'node:assert';
import { cpu } from '../lib';
import { LowbitError } from '../lib/errors';
import * as ops from '../lib/ops';
import { quantizeDynamicDetailed } from '../lib/quant/dynamic';
import { Session } from '../lib/runtime/session';
import { Tensor } from '../lib/tensor/tensor';
import { buildModel } from './helpers/onnx-builder';
import { ort } from './helpers/ort';
import { Rng } from './helpers/random';

const K = 96, H = 64, N = 10;

/** x [batch, K] -> MatMul [K, H] -> Add bias -> Relu -> Gemm (transB, C) [N]. */
function mlp(): Uint8Array {
  const rng = new Rng(5);
  return buildModel({
    nodes: [
      { op: 'MatMul', inputs: ['x', 'w1'], outputs: ['h0'] },
      { op: 'Add', inputs: ['h0', 'b1'], outputs: ['h1'] },
      { op: 'Relu', inputs: ['h1'], outputs: ['h'] },
      { op: 'Gemm', inputs: ['h', 'w2', 'b2'], outputs: ['y'], attributes: { transB: 1, alpha: 0.5, beta: 2 } },
    ],
    inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', K] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', N] }],
    initializers: {
      w1: new Tensor('float32', rng.floats(K * H, -0.3, 0.3), [K, H]),
      b1: new Tensor('float32', rng.floats(H, -0.1, 0.1), [H]),
      w2: new Tensor('float32', rng.floats(N * H, -0.5, 0.5), [N, H]),
      b2: new Tensor('float32', rng.floats(N, -0.2, 0.2), [N]),
    },
    opset: 13,
  });
}

/** The ONNX reference of DynamicQuantizeLinear, in float32 steps. */
function referenceDql(x: Float32Array): { y: Uint8Array; scale: number; zp: number } {
  const f = Math.fround;
  let lo = 0, hi = 0;
  for (const v of x) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const scale = f(f(hi - lo) / 255);
  const rne = (v: number) => {
    const r = Math.round(v);
    return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  };
  const zp = Math.min(255, Math.max(0, rne(f(0 - f(lo / scale)))));
  const y = Uint8Array.from(x, (v) => Math.min(255, Math.max(0, rne(f(v / scale)) + zp)));
  return { y, scale, zp };
}

describe('dynamic quantization', () => {
  it('DynamicQuantizeLinear follows the ONNX formula on every ISA path', () => {
    const rng = new Rng(9);
    for (const [n, lo, hi] of [[1, -1, 1], [17, 0.5, 3], [1000, -7, 2], [4099, -0.01, 0.02]] as const) {
      const x = rng.floats(n, lo, hi);
      const want = referenceDql(x);
      const before = cpu.isa;
      for (const isa of cpu.available()) {
        cpu.setIsa(isa);
        const [y, s, z] = ops.dynamicQuantizeLinear(new Tensor('float32', x, [n]));
        assert.equal(s.data[0], want.scale, `${isa} scale`);
        assert.equal(z.data[0], want.zp, `${isa} zero point`);
        assert.deepEqual(Array.from(y.data), Array.from(want.y), `${isa} n=${n}`);
      }
      cpu.setIsa(before);
    }
  });

  it('ignores NaNs when it finds the range (they quantize to the zero point), and survives infinities', () => {
    const clean = Float32Array.from([-1.5, 0.25, 3, -0.75, 2]);
    const withNan = Float32Array.from([-1.5, NaN, 0.25, 3, NaN, -0.75, 2]);
    const want = referenceDql(clean);
    const [y, s, z] = ops.dynamicQuantizeLinear(new Tensor('float32', withNan, [7]));
    assert.equal(s.data[0], want.scale);
    assert.equal(z.data[0], want.zp);
    assert.deepEqual(Array.from(y.data), [want.y[0], want.zp, want.y[1], want.y[2], want.zp, want.y[3], want.y[4]]);
    // An infinite range has no uint8 form: every output is 0, no crash, no hang.
    const [yi] = ops.dynamicQuantizeLinear(new Tensor('float32', Float32Array.from([1, Infinity, -2]), [3]));
    assert.deepEqual(Array.from(yi.data), [0, 0, 0]);
  });

  it('an all-zero input gives scale 0, zero point 0 and zeros', () => {
    const [y, s, z] = ops.dynamicQuantizeLinear(new Tensor('float32', new Float32Array(5), [5]));
    assert.equal(s.data[0], 0);
    assert.equal(z.data[0], 0);
    assert.deepEqual(Array.from(y.data), [0, 0, 0, 0, 0]);
  });

  describe('quantizeDynamic on an MLP (MatMul + bias, Gemm with transB, alpha, beta)', () => {
    const fp32 = mlp();
    let q: Awaited<ReturnType<typeof quantizeDynamicDetailed>>;
    before(async () => {
      q = await quantizeDynamicDetailed(fp32);
    });

    it('quantizes both matrix products and shrinks the weights', () => {
      assert.equal(q.quantized.length, 2);
      assert.ok(q.model.length < 0.45 * fp32.length, `${q.model.length} vs ${fp32.length} bytes`);
    });

    it('runs each group as one fused step', () => {
      const s = Session.createSync(q.model);
      const steps = s.planFor({ x: [4, K] }).steps;
      assert.equal(steps.filter((l) => /#dynamic/.test(l)).length, 2, steps.join(', '));
      assert.ok(!steps.some((l) => /MatMulInteger|_cast|_mul$/.test(l)), steps.join(', '));
    });

    for (const batch of [1, 8]) {
      it(`batch ${batch}: within 2% of its output range of fp32, and equal to onnxruntime-node within 1e-5`, async () => {
        const rng = new Rng(20 + batch);
        const x = new Tensor('float32', rng.floats(batch * K, -1, 1), [batch, K]);
        const yf = (await Session.create(fp32)).runSync({ x }).y.data as Float32Array;
        const yq = (await Session.create(q.model)).runSync({ x }).y.data as Float32Array;
        const range = Math.max(...Array.from(yf, Math.abs));
        for (let i = 0; i < yf.length; i++) assert.ok(Math.abs(yq[i] - yf[i]) <= 0.02 * range, `y[${i}]: ${yq[i]} vs fp32 ${yf[i]}`);
        const o = await ort.InferenceSession.create(q.model, { intraOpNumThreads: 1 });
        const yo = (await o.run({ x: new ort.Tensor('float32', x.data as Float32Array, [batch, K]) })).y.data as Float32Array;
        for (let i = 0; i < yo.length; i++) assert.ok(Math.abs(yq[i] - yo[i]) <= 1e-5 * range, `y[${i}]: lowbit ${yq[i]} vs onnxruntime ${yo[i]}`);
      });
    }

    it('gives identical bytes on every ISA path', () => {
      const rng = new Rng(4);
      const x = new Tensor('float32', rng.floats(3 * K, -2, 2), [3, K]);
      const before = cpu.isa;
      const outs = cpu.available().map((isa) => {
        cpu.setIsa(isa);
        return Array.from(Session.createSync(q.model).runSync({ x }).y.data as Float32Array);
      });
      cpu.setIsa(before);
      for (const o of outs.slice(1)) assert.deepEqual(o, outs[0]);
    });

    it('leaves excluded nodes in fp32', async () => {
      const r = await quantizeDynamicDetailed(fp32, { exclude: { opTypes: ['Gemm'] } });
      assert.equal(r.quantized.length, 1);
    });
  });

  it('dynamicMatmul refuses bad operands with LowbitErrors', () => {
    const w = ops.packMatrix(new Tensor('int8', new Int8Array(8 * 4).fill(3), [8, 4]));
    const x = new Tensor('float32', new Float32Array(2 * 8).fill(0.5), [2, 8]);
    const code = (c: string) => (e: unknown) => e instanceof LowbitError && e.code === c;
    // x in [0, 0.5]: scale 0.5/255, zero point 0, every x quantizes to 255; acc = 8 * 255 * 3.
    const xScale = Math.fround(0.5 / 255);
    const want = Math.fround(8 * 255 * 3 * Math.fround(xScale * 0.5));
    assert.deepEqual(Array.from(ops.dynamicMatmul(x, w, 0.5).data), new Array(8).fill(want));
    assert.throws(() => ops.dynamicMatmul(new Tensor('float32', new Float32Array(6), [2, 3]), w, 0.5), code('E_SHAPE'));
    assert.throws(() => ops.dynamicMatmul(x, w, new Float32Array(3)), code('E_SHAPE'));
    assert.throws(() => ops.dynamicMatmul(x, w, 0.5, new Float32Array(5)), code('E_SHAPE'));
    assert.throws(() => ops.dynamicMatmul(x, w, NaN), code('E_RANGE'));
    const u8 = ops.packMatrix(new Tensor('uint8', new Uint8Array(8 * 4), [8, 4]));
    assert.throws(() => ops.dynamicMatmul(x, u8, 0.5), code('E_DTYPE'));
    assert.throws(() => ops.dynamicMatmul(x, {} as never, 0.5), code('E_ARG'));
  });

  it('rejects a model that is not bytes or a path', async () => {
    await assert.rejects(quantizeDynamicDetailed(42 as never), (e: unknown) => e instanceof LowbitError && e.code === 'E_ARG');
  });
});
