// The fp32 "everything else" ops against onnxruntime-node on the same inputs:
// elementwise binary (broadcasting edge cases, int32), unary activations, the
// 8-bit lookup table, Softmax / LogSoftmax (opset 11 and 13), Reduce*,
// BatchNormalization (NCHW and NHWC), Cast, MaxPool / AveragePool / global
// pools (NCHW and NHWC, float and 8-bit), Transpose, Concat, Split, Slice,
// Pad, Resize (every mode), Gather, Expand, Tile — the SIMD-backed ones on
// every kernel path this machine has.
import { strict as assert } from 'node:assert';
import { cpu, IsaName, ops, Tensor } from '../lib';
import { assertClose, permute, runNode } from './helpers/single-node';
import { Rng } from './helpers/random';

const isas = (): IsaName[] => cpu.available();

function randomTensor(rng: Rng, shape: number[], lo = -4, hi = 4): Tensor<'float32'> {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor('float32', rng.floats(n, lo, hi), shape);
}

function randomInt32(rng: Rng, shape: number[], lo: number, hi: number): Tensor<'int32'> {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor('int32', Int32Array.from({ length: n }, () => rng.int(lo, hi)), shape);
}

function randomBytes(rng: Rng, dtype: 'int8' | 'uint8', shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(dtype, rng.bytes(n, dtype === 'int8', 'mixed'), shape);
}

const NCHW_TO_NHWC = [0, 2, 3, 1];
const NHWC_TO_NCHW = [0, 3, 1, 2];

function forEachIsa(body: (isa: IsaName) => Promise<void>): () => Promise<void> {
  return async () => {
    const original = cpu.isa;
    try {
      for (const isa of isas()) {
        cpu.setIsa(isa);
        await body(isa);
      }
    } finally {
      cpu.setIsa(original);
    }
  };
}

describe('fp32 ops vs onnxruntime-node', function () {
  describe('elementwise binary', function () {
    const pairs: [number[], number[]][] = [
      [[2, 3, 4, 5], [2, 3, 4, 5]],
      [[2, 3, 4, 5], [5]],
      [[2, 3, 4, 5], [3, 1, 1]],      // per channel, NCHW
      [[2, 4, 5, 3], [3]],            // per channel, NHWC
      [[1, 3, 1, 5], [2, 1, 4, 1]],   // both broadcast
      [[], [3, 4]],                   // scalar a
      [[3, 4], []],                   // scalar b
      [[1], [7]],
      [[2, 1, 5], [6, 1]],
      [[17, 19], [17, 1]],
      [[1, 64, 56, 56], [1, 64, 1, 1]],  // large: the thread split
      [[0, 3], [3]],                  // empty
      [[7, 1, 1, 1, 1, 3], [1, 2, 3, 4, 5, 1]],
    ];
    const floatOps = ['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Pow'] as const;
    const name = (op: string) => op.toLowerCase() as ops.BinaryOpName;

    it('float32 ops with every broadcast pattern, every path (exact; Pow within 1e-6)', forEachIsa(async (isa) => {
      const rng = new Rng(11);
      for (const op of floatOps) {
        for (const [sa, sb] of pairs) {
          const a = randomTensor(rng, sa, op === 'Pow' ? 0.1 : -4, 4);
          const b = randomTensor(rng, sb, op === 'Pow' ? -2 : -4, op === 'Pow' ? 2 : 4);
          const want = (await runNode({ op, inputs: [{ name: 'a', value: a }, { name: 'b', value: b }] })).y;
          const got = ops.binaryOp(name(op), a, b);
          assertClose(got, want, op === 'Pow' ? 1e-6 : 0, 0, `${isa} ${op} [${sa}] [${sb}]`);
        }
      }
    }));

    it('NaN propagates through Max and Min (numpy semantics)', function () {
      const a = new Tensor('float32', [NaN, 1, 2, NaN], [4]);
      const b = new Tensor('float32', [1, NaN, 3, NaN], [4]);
      for (const f of [ops.max, ops.min]) {
        const y = Array.from(f(a, b).data as Float32Array);
        assert.ok(Number.isNaN(y[0]) && Number.isNaN(y[1]) && Number.isNaN(y[3]));
      }
      assert.equal((ops.max(a, b).data as Float32Array)[2], 3);
      assert.deepEqual(Array.from(ops.max(new Tensor('float32', [1, 5], [2]), new Tensor('float32', [4, 2], [2]), new Tensor('float32', [3], [1])).data as Float32Array), [4, 5]);
      assert.deepEqual(Array.from(ops.sum(new Tensor('float32', [1, 5], [2])).data as Float32Array), [1, 5]);
    });

    it('int32 Add, Sub, Mul, Div (truncating), Max, Min, exact', async function () {
      const rng = new Rng(12);
      for (const op of ['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min'] as const) {
        for (const [sa, sb] of pairs.slice(0, 10)) {
          const a = randomInt32(rng, sa, -100000, 100000);
          const b = randomInt32(rng, sb, 1, 3000);
          if (op !== 'Div') (b.data as Int32Array).forEach((v, i, arr) => { arr[i] = rng.next() < 0.5 ? -v : v; });
          const want = (await runNode({ op, inputs: [{ name: 'a', value: a }, { name: 'b', value: b }] })).y;
          assertClose(ops.binaryOp(name(op), a, b), want, 0, 0, `int32 ${op} [${sa}] [${sb}]`);
        }
      }
      // Division by zero does not trap: 0.
      assert.deepEqual(Array.from(ops.div(new Tensor('int32', [7, -7], [2]), new Tensor('int32', [0, 0], [2])).data as Int32Array), [0, 0]);
    });

    it('int8 and uint8 Add, Sub, Mul, Div, Max, Min wrap like onnxruntime', async function () {
      const rng = new Rng(15);
      for (const dtype of ['int8', 'uint8'] as const) {
        for (const op of ['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min'] as const) {
          for (const [sa, sb] of [[[3, 4, 5], [3, 4, 5]], [[3, 4, 5], [5]], [[2, 3, 1], [1, 7]]] as [number[], number[]][]) {
            const a = randomBytes(rng, dtype, sa), b = randomBytes(rng, dtype, sb);
            if (op === 'Div') (b.data as Int8Array).forEach((v, i, arr) => { if (v === 0) arr[i] = 3; });
            const want = (await runNode({ op, inputs: [{ name: 'a', value: a }, { name: 'b', value: b }], opset: 14 })).y;
            assertClose(ops.binaryOp(name(op), a, b), want, 0, 0, `${dtype} ${op} [${sa}] [${sb}]`);
          }
        }
      }
    });

    it('PRelu with per-channel and scalar slopes', forEachIsa(async (isa) => {
      const rng = new Rng(13);
      for (const [sx, ss] of [[[2, 3, 4, 5], [3, 1, 1]], [[2, 3, 4, 5], [5]], [[2, 3], [1]], [[1, 8, 7, 9], [8, 1, 1]]] as [number[], number[]][]) {
        const x = randomTensor(rng, sx), s = randomTensor(rng, ss, 0, 0.5);
        const want = (await runNode({ op: 'PRelu', inputs: [{ name: 'x', value: x }, { name: 's', value: s }] })).y;
        assertClose(ops.prelu(x, s), want, 0, 0, `${isa} prelu`);
      }
    }));

    it('a fused clip equals Add then Clip', forEachIsa(async (isa) => {
      const rng = new Rng(14);
      const a = randomTensor(rng, [2, 16, 9, 9], -8, 8), b = randomTensor(rng, [16, 1, 1], -8, 8);
      const sum = (await runNode({ op: 'Add', inputs: [{ name: 'a', value: a }, { name: 'b', value: b }] })).y;
      const want = (await runNode({ op: 'Clip', inputs: [{ name: 'x', value: sum }, { name: 'lo', value: new Tensor('float32', [0], []) }, { name: 'hi', value: new Tensor('float32', [6], []) }] })).y;
      assertClose(ops.add(a, b, { clip: { min: 0, max: 6 } }), want, 0, 0, `${isa} add+clip`);
    }));
  });

  describe('unary', function () {
    type Case = { op: string; fn: (x: Tensor) => Tensor; attrs?: Record<string, number | string>; lo?: number; hi?: number; rtol?: number; atol?: number; opset?: number };
    const cases: Case[] = [
      { op: 'Relu', fn: ops.relu },
      { op: 'LeakyRelu', fn: (x) => ops.leakyRelu(x, 0.13), attrs: { alpha: 0.13 }, rtol: 1e-7 },
      // onnxruntime's Sigmoid and Tanh are rational approximations: compare absolutely (outputs are in [-1, 1]).
      { op: 'Sigmoid', fn: ops.sigmoid, lo: -30, hi: 30, rtol: 2e-6, atol: 4e-7 },
      { op: 'HardSigmoid', fn: (x) => ops.hardSigmoid(x, 0.25, 0.4), attrs: { alpha: 0.25, beta: 0.4 }, atol: 1e-7 },
      { op: 'HardSwish', fn: ops.hardSwish, lo: -8, hi: 8, rtol: 1e-6, atol: 1e-7, opset: 14 },
      { op: 'Neg', fn: ops.neg },
      { op: 'Abs', fn: ops.abs },
      { op: 'Sqrt', fn: ops.sqrt, lo: 0, hi: 100 },
      { op: 'Reciprocal', fn: ops.reciprocal, lo: 0.1, hi: 10 },
      { op: 'Floor', fn: ops.floor },
      { op: 'Ceil', fn: ops.ceil },
      { op: 'Round', fn: ops.round, lo: -5, hi: 5 },
      { op: 'Exp', fn: ops.exp, lo: -80, hi: 80, rtol: 2e-6 },
      { op: 'Log', fn: ops.log, lo: 0.01, hi: 100, rtol: 1e-6, atol: 1e-7 },
      { op: 'Tanh', fn: ops.tanh, lo: -10, hi: 10, rtol: 2e-6, atol: 4e-7 },
      // onnxruntime's Erf (and Gelu) use a polynomial erf: absolute errors near 2e-7.
      { op: 'Erf', fn: ops.erf, lo: -4, hi: 4, rtol: 1e-6, atol: 5e-7 },
      { op: 'Softplus', fn: ops.softplus, lo: -20, hi: 30, rtol: 1e-6, atol: 1e-7 },
      { op: 'Elu', fn: (x) => ops.elu(x, 0.7), attrs: { alpha: 0.7 }, rtol: 1e-6, atol: 1e-7 },
      { op: 'Gelu', fn: (x) => ops.gelu(x), opset: 20, rtol: 1e-6, atol: 1e-6 },
      { op: 'Gelu', fn: (x) => ops.gelu(x, 'tanh'), attrs: { approximate: 'tanh' }, opset: 20, rtol: 1e-6, atol: 1e-6 },
    ];
    it('every activation, every path, sizes 1..1000 and a large one', forEachIsa(async (isa) => {
      const rng = new Rng(21);
      for (const c of cases) {
        for (const shape of [[1], [7], [3, 17], [2, 3, 5, 11], [1, 32, 64, 64]]) {
          const x = randomTensor(rng, shape, c.lo ?? -6, c.hi ?? 6);
          if (c.op === 'Round') (x.data as Float32Array).forEach((v, i, a) => { if (i % 3 === 0) a[i] = Math.round(v * 2) / 2; });
          const want = (await runNode({ op: c.op, inputs: [{ name: 'x', value: x }], attributes: c.attrs, opset: c.opset })).y;
          assertClose(c.fn(x), want, c.rtol ?? 0, c.atol ?? 0, `${isa} ${c.op} [${shape}]`);
        }
      }
    }));

    it('Relu, Neg and Abs on int32, int8 and uint8', async function () {
      const rng = new Rng(23);
      for (const dtype of ['int32', 'int8'] as const) {
        const x = dtype === 'int32' ? randomInt32(rng, [6, 9], -1000, 1000) : randomBytes(rng, dtype, [6, 9]);
        for (const [op, f] of [['Relu', ops.relu], ['Neg', ops.neg], ['Abs', ops.abs]] as const) {
          const want = (await runNode({ op, inputs: [{ name: 'x', value: x }], opset: 14 })).y;
          assertClose(f(x), want, 0, 0, `${op} ${dtype}`);
        }
      }
      const u = randomBytes(rng, 'uint8', [10]);
      assert.deepEqual(Array.from(ops.abs(u).data as Uint8Array), Array.from(u.data as Uint8Array));
      assert.deepEqual(Array.from(ops.neg(new Tensor('int8', [-128, 5], [2])).data as Int8Array), [-128, -5]);
    });

    it('Clip on float32, int32, int8 and uint8 (min > max gives max)', async function () {
      const rng = new Rng(22);
      for (const [lo, hi] of [[-1, 2], [0.5, Infinity], [-Infinity, -0.5], [3, 1]]) {
        const x = randomTensor(rng, [4, 9]);
        const inputs = [{ name: 'x', value: x }, { name: 'lo', value: new Tensor('float32', [lo], []) }, { name: 'hi', value: new Tensor('float32', [hi], []) }];
        const want = (await runNode({ op: 'Clip', inputs })).y;
        assertClose(ops.clip(x, lo, hi), want, 0, 0, `clip ${lo} ${hi}`);
      }
      for (const dtype of ['int8', 'uint8', 'int32'] as const) {
        for (const [lo, hi] of [[-5, 100], [10, 20], [30, 7]]) {
          const x = dtype === 'int32' ? randomInt32(rng, [5, 7], -1000, 1000) : randomBytes(rng, dtype, [5, 7]);
          const lo_ = dtype === 'uint8' ? Math.max(lo, 0) : lo;
          const b = (v: number) => new Tensor(dtype, [v], []);
          const want = (await runNode({ op: 'Clip', inputs: [{ name: 'x', value: x }, { name: 'lo', value: b(lo_) }, { name: 'hi', value: b(hi) }] })).y;
          assertClose(ops.clip(x, lo_, hi), want, 0, 0, `clip ${dtype} ${lo_} ${hi}`);
        }
      }
    });
  });

  describe('lut8: quantized unary ops on 8-bit data', function () {
    for (const dtype of ['uint8', 'int8'] as const) {
      for (const op of ['Sigmoid', 'HardSwish', 'Tanh', 'LeakyRelu'] as const) {
        it(`DequantizeLinear -> ${op} -> QuantizeLinear on ${dtype}: exact vs lowbit's own float path, within 1 step of onnxruntime`, forEachIsa(async (isa) => {
          const inQ = { dtype, scale: 0.0625, zeroPoint: dtype === 'uint8' ? 131 : -3 };
          const outQ = { dtype, scale: op === 'HardSwish' || op === 'LeakyRelu' ? 0.05 : 1 / 255, zeroPoint: dtype === 'uint8' ? (op === 'Tanh' ? 128 : 10) : (op === 'Tanh' ? 0 : -120) };
          const unary = ({ Sigmoid: 'sigmoid', HardSwish: 'hardSwish', Tanh: 'tanh', LeakyRelu: 'leakyRelu' } as const)[op];
          const table = ops.quantizedUnaryTable(unary, inQ, outQ, { alpha: 0.1 });
          const lo = dtype === 'int8' ? -128 : 0;
          const all = new Tensor(dtype, Array.from({ length: 256 }, (_, i) => lo + i), [256]);
          const rng = new Rng(31);
          const x = new Tensor(dtype, [...Array.from(all.data as ArrayLike<number>), ...rng.bytes(1000, dtype === 'int8')], [1256]);
          const got = ops.lut8(x, table);
          // lowbit's unfused path on the same data.
          const f = ops.unaryOp(unary, ops.dequantizeLinear(x, inQ.scale, inQ.zeroPoint), { alpha: 0.1 });
          const unfused = ops.quantizeLinear(f, outQ.scale, outQ.zeroPoint, { dtype });
          assert.deepEqual(Array.from(got.data as ArrayLike<number>), Array.from(unfused.data as ArrayLike<number>), `${isa} ${op} vs unfused`);
          const dq = (await runNode({ op: 'DequantizeLinear', inputs: [{ name: 'x', value: x }, { name: 's', value: new Tensor('float32', [inQ.scale], []) }, { name: 'z', value: new Tensor(dtype, [inQ.zeroPoint], []) }], outputs: [{ name: 'y', dtype: 'float32' }] })).y;
          const fy = (await runNode({ op, inputs: [{ name: 'x', value: dq }], attributes: op === 'LeakyRelu' ? { alpha: 0.1 } : undefined, opset: 14 })).y;
          const want = (await runNode({ op: 'QuantizeLinear', inputs: [{ name: 'x', value: fy }, { name: 's', value: new Tensor('float32', [outQ.scale], []) }, { name: 'z', value: new Tensor(dtype, [outQ.zeroPoint], []) }], outputs: [{ name: 'y', dtype }] })).y;
          const g = got.data as ArrayLike<number>, w = want.data as ArrayLike<number>;
          let off = 0;
          for (let i = 0; i < w.length; i++) {
            assert.ok(Math.abs(g[i] - w[i]) <= 1, `${isa} ${op} ${dtype}: x=${(x.data as ArrayLike<number>)[i]} got ${g[i]} want ${w[i]}`);
            if (g[i] !== w[i]) off++;
          }
          assert.ok(off <= w.length / 100, `${off} of ${w.length} values one step off`);
        }));
      }
    }
  });

  describe('softmax and reductions', function () {
    it('Softmax / LogSoftmax, opset 11 (2-D coercion) and 13 (one axis), every path', forEachIsa(async (isa) => {
      const rng = new Rng(41);
      for (const shape of [[2, 3, 4, 5], [3, 1000], [1, 7], [5]]) {
        const x = randomTensor(rng, shape, -20, 20);
        for (const opset of [11, 13]) {
          for (const axis of [...(shape.length > 1 ? [undefined] : []), 0, -1, ...(shape.length > 2 ? [1, 2] : [])]) {
            for (const op of ['Softmax', 'LogSoftmax'] as const) {
              const want = (await runNode({ op, inputs: [{ name: 'x', value: x }], attributes: axis === undefined ? undefined : { axis }, opset })).y;
              const got = (op === 'Softmax' ? ops.softmax : ops.logSoftmax)(x, { axis, opset });
              assertClose(got, want, 2e-6, op === 'Softmax' ? 1e-8 : 2e-6, `${isa} ${op} opset ${opset} axis ${axis} [${shape}]`);
            }
          }
        }
      }
    }));

    it('ReduceMean / Sum / Max / Min / Prod / L1 / L2 / SumSquare over axis sets, keepdims 0 and 1', async function () {
      const rng = new Rng(42);
      const x = randomTensor(rng, [3, 4, 5, 6], 0.5, 1.5);
      const onnxOp: Record<ops.ReduceOpName, string> = { mean: 'ReduceMean', sum: 'ReduceSum', max: 'ReduceMax', min: 'ReduceMin', prod: 'ReduceProd', l1: 'ReduceL1', l2: 'ReduceL2', sumSquare: 'ReduceSumSquare' };
      for (const op of Object.keys(onnxOp) as ops.ReduceOpName[]) {
        for (const axes of [[1], [2, 3], [0, 2], [-1], [0, 1, 2, 3], undefined]) {
          for (const keepdims of [0, 1]) {
            const attributes: Record<string, number | number[]> = { keepdims };
            if (axes !== undefined) attributes.axes = axes;
            const want = (await runNode({ op: onnxOp[op], inputs: [{ name: 'x', value: x }], attributes, opset: 11 })).y;
            assertClose(ops.reduce(op, x, { axes, keepdims: keepdims === 1 }), want, 2e-6, 0, `${op} axes ${axes} keepdims ${keepdims}`);
          }
        }
      }
      // opset 18: axes as an input; noop_with_empty_axes.
      const want = (await runNode({ op: 'ReduceMean', inputs: [{ name: 'x', value: x }, { name: 'axes', int64: [1, 3] }], attributes: { keepdims: 0 }, opset: 18 })).y;
      assertClose(ops.reduceMean(x, { axes: [1, 3], keepdims: false }), want, 2e-6, 0, 'opset 18');
      assertClose(ops.reduceMean(x, { noopWithEmptyAxes: true }), x, 0, 0, 'noop');
    });

    it('LayerNormalization over the last 1, 2 and 3 axes, with Mean and InvStdDev', async function () {
      const rng = new Rng(44);
      for (const [shape, axis] of [[[2, 3, 4, 5], -1], [[2, 3, 4, 5], 2], [[4, 80, 192], -1], [[3, 7], 0], [[2, 3, 4, 5], 1]] as [number[], number][]) {
        const x = randomTensor(rng, shape, -5, 5);
        const norm = shape.slice(axis < 0 ? axis + shape.length : axis);
        const scale = randomTensor(rng, norm, 0.5, 1.5), bias = randomTensor(rng, norm);
        const outs = [{ name: 'y', dtype: 'float32' }, { name: 'mean', dtype: 'float32' }, { name: 'inv', dtype: 'float32' }];
        const want = await runNode({ op: 'LayerNormalization', opset: 17, attributes: { axis, epsilon: 1e-4 }, inputs: [{ name: 'x', value: x }, { name: 's', value: scale }, { name: 'b', value: bias }], outputs: outs });
        const { statShape } = ops.layerNormLayout(shape, axis);
        const y = Tensor.zeros('float32', shape), mean = Tensor.zeros('float32', statShape), inv = Tensor.zeros('float32', statShape);
        ops.layerNormalizationInto(x, scale, bias, y, { axis, epsilon: 1e-4, mean, invStdDev: inv });
        assertClose(y, want.y, 1e-5, 1e-5, `layer norm [${shape}] axis ${axis}`);
        assertClose(mean, want.mean, 1e-5, 1e-6, 'mean');
        assertClose(inv, want.inv, 1e-5, 0, 'invStdDev');
        assertClose(ops.layerNormalization(x, scale, undefined, { axis, epsilon: 1e-4 }), ops.sub(y, bias), 1e-5, 1e-5, 'no bias');
      }
    });

    it('BatchNormalization, NCHW and NHWC, every path', forEachIsa(async (isa) => {
      const rng = new Rng(43);
      for (const shape of [[2, 3, 4, 5], [1, 16, 7, 7], [4, 5], [2, 33, 10]]) {
        const c = shape[1];
        const x = randomTensor(rng, shape);
        const scale = randomTensor(rng, [c], 0.5, 2), bias = randomTensor(rng, [c]), mean = randomTensor(rng, [c]), v = randomTensor(rng, [c], 0.1, 3);
        const want = (await runNode({ op: 'BatchNormalization', opset: 15, attributes: { epsilon: 1e-3 }, inputs: [{ name: 'x', value: x }, { name: 's', value: scale }, { name: 'b', value: bias }, { name: 'm', value: mean }, { name: 'v', value: v }] })).y;
        assertClose(ops.batchNormalization(x, scale, bias, mean, v, { epsilon: 1e-3 }), want, 1e-5, 1e-5, `${isa} bn nchw [${shape}]`);
        if (shape.length === 4) {
          const got = ops.batchNormalization(permute(x, NCHW_TO_NHWC), scale, bias, mean, v, { epsilon: 1e-3, layout: 'nhwc' });
          assertClose(permute(got, NHWC_TO_NCHW), want, 1e-5, 1e-5, `${isa} bn nhwc [${shape}]`);
        }
      }
    }));
  });

  describe('Cast', function () {
    it('float32 <-> int32 / int8 / uint8 (in range), integer wrap, exact', async function () {
      const rng = new Rng(51);
      const f = new Tensor('float32', Float32Array.from({ length: 200 }, () => Math.round(rng.next() * 2000 - 1000) / 8), [200]);
      const small = new Tensor('float32', Float32Array.from({ length: 200 }, () => rng.next() * 250 - 125), [200]);
      const pos = new Tensor('float32', Float32Array.from({ length: 200 }, () => rng.next() * 255), [200]);
      const ints = randomInt32(rng, [200], -100000, 100000);
      const cases: [Tensor, 'float32' | 'int32' | 'int8' | 'uint8', number][] = [
        [f, 'int32', 6], [small, 'int8', 3], [pos, 'uint8', 2], [ints, 'float32', 1], [ints, 'int8', 3], [ints, 'uint8', 2],
        [randomBytes(rng, 'int8', [50]), 'float32', 1], [randomBytes(rng, 'uint8', [50]), 'int32', 6], [randomBytes(rng, 'int8', [50]), 'uint8', 2],
      ];
      for (const [x, to, code] of cases) {
        const want = (await runNode({ op: 'Cast', inputs: [{ name: 'x', value: x }], attributes: { to: code }, outputs: [{ name: 'y', dtype: to }] })).y;
        assertClose(ops.cast(x, to), want, 0, 0, `${x.dtype} -> ${to}`);
      }
      assert.deepEqual(Array.from(ops.cast(new Tensor('float32', [NaN, 1e10, -1e10, 200.9], [4]), 'int8').data as Int8Array), [0, 127, -128, 127]);
    });
  });

  describe('pooling', function () {
    type PoolCase = { k: number[]; s?: number[]; p?: number[]; d?: number[]; ceil?: boolean; cip?: boolean; auto?: string };
    const cases: PoolCase[] = [
      { k: [2, 2], s: [2, 2] }, { k: [3, 3], s: [1, 1], p: [1, 1, 1, 1] }, { k: [3, 3], s: [2, 2], p: [1, 1, 1, 1] },
      { k: [3, 3], s: [2, 2], ceil: true }, { k: [3, 2], s: [2, 1], p: [1, 0, 0, 1], cip: true }, { k: [5, 5], s: [3, 3], p: [2, 2, 2, 2], ceil: true, cip: true },
      { k: [3, 3], s: [2, 2], auto: 'SAME_UPPER' }, { k: [2, 2], s: [1, 1], auto: 'SAME_LOWER' }, { k: [3, 3], s: [2, 2], auto: 'VALID' },
      { k: [2, 2], d: [2, 2] }, { k: [3, 3], d: [2, 1], p: [2, 1, 2, 1], s: [1, 2] }, { k: [1, 1], s: [2, 2] },
    ];
    const attrsOf = (c: PoolCase, avg: boolean): Record<string, number | number[] | string> => {
      const a: Record<string, number | number[] | string> = { kernel_shape: c.k };
      if (c.s) a.strides = c.s;
      if (c.p) a.pads = c.p;
      if (c.d) a.dilations = c.d;
      if (c.ceil) a.ceil_mode = 1;
      if (c.cip && avg) a.count_include_pad = 1;
      if (c.auto) a.auto_pad = c.auto;
      return a;
    };
    const optsOf = (c: PoolCase, layout: 'nchw' | 'nhwc'): ops.PoolOptions => ({
      kernelShape: c.k, strides: c.s, pads: c.p, dilations: c.d, ceilMode: c.ceil, countIncludePad: c.cip, autoPad: c.auto as ops.PoolOptions['autoPad'], layout,
    });

    it('MaxPool and AveragePool, NCHW and NHWC, every path', forEachIsa(async (isa) => {
      const rng = new Rng(61);
      for (const shape of [[2, 5, 9, 11], [1, 32, 12, 12], [1, 3, 7, 6]]) {
        const x = randomTensor(rng, shape);
        const xn = permute(x, NCHW_TO_NHWC);
        for (const c of cases) {
          for (const avg of [false, true]) {
            if (avg && c.d) continue;  // AveragePool dilations: opset 19
            const op = avg ? 'AveragePool' : 'MaxPool';
            const want = (await runNode({ op, inputs: [{ name: 'x', value: x }], attributes: attrsOf(c, avg), opset: 12 })).y;
            const f = avg ? ops.averagePool : ops.maxPool;
            // Sums of up to 25 values of |x| < 4 in another order: absolute rounding differences near 1e-6.
            assertClose(f(x, optsOf(c, 'nchw')), want, 1e-6, 2e-6, `${isa} ${op} nchw ${JSON.stringify(c)}`);
            assertClose(permute(f(xn, optsOf(c, 'nhwc')), NHWC_TO_NCHW), want, 1e-6, 2e-6, `${isa} ${op} nhwc ${JSON.stringify(c)}`);
          }
        }
      }
    }));

    it('AveragePool with dilations (opset 19) and 1-D pooling', async function () {
      const rng = new Rng(62);
      const x = randomTensor(rng, [1, 4, 10, 9]);
      for (const cip of [0, 1]) {
        const want = (await runNode({ op: 'AveragePool', opset: 19, inputs: [{ name: 'x', value: x }], attributes: { kernel_shape: [3, 2], dilations: [2, 3], pads: [1, 1, 2, 0], count_include_pad: cip } })).y;
        assertClose(ops.averagePool(x, { kernelShape: [3, 2], dilations: [2, 3], pads: [1, 1, 2, 0], countIncludePad: cip === 1 }), want, 1e-6, 2e-6, `dilated avg cip ${cip}`);
      }
      const x1 = randomTensor(rng, [2, 3, 20]);
      for (const op of ['MaxPool', 'AveragePool'] as const) {
        const want = (await runNode({ op, opset: 12, inputs: [{ name: 'x', value: x1 }], attributes: { kernel_shape: [3], strides: [2], pads: [1, 1] } })).y;
        const f = op === 'MaxPool' ? ops.maxPool : ops.averagePool;
        assertClose(f(x1, { kernelShape: [3], strides: [2], pads: [1, 1] }), want, 1e-6, 2e-6, `1-D ${op}`);
      }
    });

    it('MaxPool on uint8 and int8, NCHW and NHWC, exact', forEachIsa(async (isa) => {
      const rng = new Rng(63);
      for (const dtype of ['uint8', 'int8'] as const) {
        const x = randomBytes(rng, dtype, [2, 40, 9, 8]);
        for (const c of cases.slice(0, 6)) {
          const want = (await runNode({ op: 'MaxPool', inputs: [{ name: 'x', value: x }], attributes: attrsOf(c, false), opset: 12 })).y;
          assertClose(ops.maxPool(x, optsOf(c, 'nchw')), want, 0, 0, `${isa} ${dtype} nchw`);
          assertClose(permute(ops.maxPool(permute(x, NCHW_TO_NHWC), optsOf(c, 'nhwc')), NHWC_TO_NCHW), want, 0, 0, `${isa} ${dtype} nhwc`);
        }
      }
    }));

    it('GlobalAveragePool and GlobalMaxPool, NCHW and NHWC', forEachIsa(async (isa) => {
      const rng = new Rng(64);
      for (const shape of [[2, 5, 7, 7], [1, 130, 3, 4], [1, 3, 40, 40]]) {
        const x = randomTensor(rng, shape);
        for (const op of ['GlobalAveragePool', 'GlobalMaxPool'] as const) {
          const want = (await runNode({ op, inputs: [{ name: 'x', value: x }] })).y;
          const f = op === 'GlobalAveragePool' ? ops.globalAveragePool : ops.globalMaxPool;
          assertClose(f(x), want, 2e-6, 2e-6, `${isa} ${op} nchw`);
          assertClose(permute(f(permute(x, NCHW_TO_NHWC), { layout: 'nhwc' }), NHWC_TO_NCHW), want, 2e-6, 2e-6, `${isa} ${op} nhwc`);
        }
      }
    }));
  });

  describe('data movement', function () {
    it('Transpose: ranks 1..6, every dtype, every path', forEachIsa(async (isa) => {
      const rng = new Rng(71);
      const cases: [number[], number[] | undefined][] = [
        [[2, 3, 5, 7], [0, 2, 3, 1]], [[2, 5, 7, 3], [0, 3, 1, 2]], [[1, 3, 64, 65], [0, 2, 3, 1]], [[1, 33, 17, 24], [0, 3, 1, 2]],
        [[4, 5], undefined], [[7], [0]], [[2, 3, 4], [2, 0, 1]], [[2, 1, 3, 1, 4], [4, 3, 2, 1, 0]], [[2, 3, 2, 3, 2, 3], [5, 1, 3, 0, 2, 4]],
      ];
      for (const [shape, perm] of cases) {
        for (const dtype of ['float32', 'int32', 'int8', 'uint8'] as const) {
          const x = dtype === 'float32' ? randomTensor(rng, shape) : dtype === 'int32' ? randomInt32(rng, shape, -1e6, 1e6) : randomBytes(rng, dtype, shape);
          const want = (await runNode({ op: 'Transpose', inputs: [{ name: 'x', value: x }], attributes: perm ? { perm } : undefined })).y;
          assertClose(ops.transpose(x, perm), want, 0, 0, `${isa} ${dtype} [${shape}] perm ${perm}`);
        }
      }
    }));

    it('Concat along every axis, and Split', async function () {
      const rng = new Rng(72);
      for (const axis of [0, 1, 2, -1]) {
        const base = [2, 3, 4];
        const ax = axis < 0 ? axis + 3 : axis;
        const xs = [1, 3, 2].map((k) => randomTensor(rng, base.map((d, i) => (i === ax ? k : d))));
        const want = (await runNode({ op: 'Concat', inputs: xs.map((v, i) => ({ name: `x${i}`, value: v })), attributes: { axis } })).y;
        assertClose(ops.concat(xs, axis), want, 0, 0, `concat axis ${axis}`);
        const parts = ops.split(want, axis, [1, 3, 2]);
        parts.forEach((p, i) => assertClose(p, xs[i], 0, 0, `split axis ${axis} part ${i}`));
      }
      const u8 = [randomBytes(rng, 'uint8', [2, 5]), randomBytes(rng, 'uint8', [2, 0]), randomBytes(rng, 'uint8', [2, 1])];
      const want = (await runNode({ op: 'Concat', inputs: u8.map((v, i) => ({ name: `x${i}`, value: v })), attributes: { axis: 1 } })).y;
      assertClose(ops.concat(u8, 1), want, 0, 0, 'concat uint8 with an empty input');
      const x = randomTensor(rng, [2, 10, 3]);
      const outs = ['a', 'b', 'c'].map((name) => ({ name, dtype: 'float32' }));
      const got = await runNode({ op: 'Split', opset: 18, inputs: [{ name: 'x', value: x }], attributes: { axis: 1, num_outputs: 3 }, outputs: outs });
      ops.split(x, 1, 3).forEach((p, i) => assertClose(p, got[outs[i].name], 0, 0, `split num_outputs part ${i}`));
    });

    it('Slice with negative, out-of-range and stepped bounds', async function () {
      const rng = new Rng(73);
      const x = randomTensor(rng, [6, 7, 8]);
      const cases: { starts: number[]; ends: number[]; axes?: number[]; steps?: number[] }[] = [
        { starts: [1, 0], ends: [4, 7] }, { starts: [-3], ends: [-1], axes: [2] }, { starts: [5, 6], ends: [-100, 0], axes: [0, 1], steps: [-2, -3] },
        { starts: [0], ends: [1000], axes: [-1], steps: [3] }, { starts: [10], ends: [20], axes: [1] }, { starts: [2, 1, 0], ends: [3, 6, 8], steps: [1, 2, 1] },
        { starts: [-1], ends: [-1000000000], axes: [2], steps: [-1] },
      ];
      for (const c of cases) {
        const inputs = [{ name: 'x', value: x }, { name: 's', value: new Tensor('int32', c.starts, [c.starts.length]) }, { name: 'e', value: new Tensor('int32', c.ends, [c.ends.length]) }];
        if (c.axes || c.steps) inputs.push({ name: 'a', value: new Tensor('int32', c.axes ?? c.starts.map((_, i) => i), [c.starts.length]) });
        if (c.steps) inputs.push({ name: 'st', value: new Tensor('int32', c.steps, [c.steps.length]) });
        const want = (await runNode({ op: 'Slice', inputs })).y;
        assertClose(ops.slice(x, c), want, 0, 0, `slice ${JSON.stringify(c)}`);
      }
    });

    it('Pad: constant, reflect, edge, wrap; negative pads; axes', async function () {
      const rng = new Rng(74);
      const x = randomTensor(rng, [2, 3, 5, 4]);
      const cases: { pads: number[]; mode?: ops.PadMode; value?: number; axes?: number[]; opset?: number }[] = [
        { pads: [0, 0, 1, 2, 0, 0, 2, 1] }, { pads: [0, 0, 1, 2, 0, 0, 2, 1], value: 1.5 }, { pads: [0, 1, 2, 3, 0, 1, 3, 2], mode: 'reflect' },
        { pads: [1, 0, 2, 1, 1, 2, 0, 3], mode: 'edge' }, { pads: [0, 0, 2, 3, 0, 0, 4, 5], mode: 'wrap', opset: 19 },
        { pads: [0, 0, -1, 1, 0, 0, 2, -2] }, { pads: [2, 1, 3, 0], axes: [2, 3], mode: 'reflect', opset: 18 },
      ];
      for (const c of cases) {
        const inputs: { name: string; value?: Tensor; int64?: number[] }[] = [{ name: 'x', value: x }, { name: 'pads', int64: c.pads }];
        if (c.value !== undefined || c.axes) inputs.push(c.value !== undefined ? { name: 'v', value: new Tensor('float32', [c.value], []) } : { name: '' });
        if (c.axes) inputs.push({ name: 'axes', int64: c.axes });
        const want = (await runNode({ op: 'Pad', opset: c.opset ?? 13, inputs, attributes: c.mode ? { mode: c.mode } : undefined })).y;
        assertClose(ops.pad(x, c), want, 0, 0, `pad ${JSON.stringify(c)}`);
      }
      const u8 = randomBytes(rng, 'uint8', [3, 4]);
      const want = (await runNode({ op: 'Pad', inputs: [{ name: 'x', value: u8 }, { name: 'pads', int64: [1, 2, 0, 1] }, { name: 'v', value: new Tensor('uint8', [7], []) }] })).y;
      assertClose(ops.pad(u8, { pads: [1, 2, 0, 1], value: 7 }), want, 0, 0, 'pad uint8');
    });

    it('Gather, Expand and Tile', async function () {
      const rng = new Rng(75);
      const x = randomTensor(rng, [5, 6, 7]);
      for (const axis of [0, 1, -1]) {
        const n = x.shape[axis < 0 ? axis + 3 : axis];
        const idx = new Tensor('int32', Array.from({ length: 6 }, () => rng.int(-n, n - 1)), [2, 3]);
        const want = (await runNode({ op: 'Gather', inputs: [{ name: 'x', value: x }, { name: 'i', value: idx }], attributes: { axis } })).y;
        assertClose(ops.gather(x, idx, axis), want, 0, 0, `gather axis ${axis}`);
      }
      const scalarIdx = new Tensor('int32', [2], []);
      const want = (await runNode({ op: 'Gather', inputs: [{ name: 'x', value: x }, { name: 'i', value: scalarIdx }], attributes: { axis: 1 } })).y;
      assertClose(ops.gather(x, scalarIdx, 1), want, 0, 0, 'gather scalar index');
      const e = randomTensor(rng, [3, 1, 5]);
      const we = (await runNode({ op: 'Expand', inputs: [{ name: 'x', value: e }, { name: 's', int64: [2, 3, 4, 1] }] })).y;
      assertClose(ops.expand(e, [2, 3, 4, 1]), we, 0, 0, 'expand');
      const wt = (await runNode({ op: 'Tile', inputs: [{ name: 'x', value: e }, { name: 'r', int64: [2, 3, 1] }] })).y;
      assertClose(ops.tile(e, [2, 3, 1]), wt, 0, 0, 'tile');
    });
  });

  describe('Resize', function () {
    const rng = new Rng(81);
    const x = randomTensor(rng, [2, 3, 5, 7]);
    type RCase = { mode: ops.ResizeMode; ctm?: ops.CoordinateTransformationMode; nearest?: ops.NearestMode; scales?: number[]; sizes?: number[]; a?: number; exclude?: boolean };
    const cases: RCase[] = [];
    for (const nearest of ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'] as const) {
      for (const ctm of ['half_pixel', 'asymmetric', 'align_corners', 'pytorch_half_pixel'] as const) {
        cases.push({ mode: 'nearest', ctm, nearest, scales: [1, 1, 2, 3] });
        cases.push({ mode: 'nearest', ctm, nearest, sizes: [2, 3, 3, 4] });
      }
    }
    for (const ctm of ['half_pixel', 'asymmetric', 'align_corners', 'pytorch_half_pixel', 'half_pixel_symmetric'] as const) {
      // align_corners with scales whose output length (scale * 5, scale * 7) is
      // fractional: lowbit follows ONNX (the fractional length, see the
      // conformance cases *_align_corners), onnxruntime the integer size. Both
      // agree on integral lengths, so those are compared here.
      const aligned = ctm === 'align_corners';
      cases.push({ mode: 'linear', ctm, scales: [1, 1, 2, 2] }, { mode: 'linear', ctm, sizes: [2, 3, 3, 11] }, { mode: 'linear', ctm, scales: aligned ? [1, 1, 0.4, 3 / 7] : [1, 1, 0.5, 0.6] });
      cases.push({ mode: 'cubic', ctm, scales: aligned ? [1, 1, 2, 3] : [1, 1, 2, 1.5] }, { mode: 'cubic', ctm, sizes: [2, 3, 4, 5], a: -0.5, exclude: true });
    }
    it('nearest, linear and cubic, every coordinate transformation, NCHW and NHWC, every path', forEachIsa(async (isa) => {
      for (const c of cases) {
        const attributes: Record<string, number | string> = { mode: c.mode };
        if (c.ctm) attributes.coordinate_transformation_mode = c.ctm;
        if (c.nearest) attributes.nearest_mode = c.nearest;
        if (c.a !== undefined) attributes.cubic_coeff_a = c.a;
        if (c.exclude) attributes.exclude_outside = 1;
        const inputs: { name: string; value?: Tensor; int64?: number[]; float?: number[] }[] = [{ name: 'x', value: x }, { name: '' }, c.scales ? { name: 'scales', float: c.scales } : { name: '' }];
        if (c.sizes) inputs.push({ name: 'sizes', int64: c.sizes });
        const want = (await runNode({ op: 'Resize', opset: 19, inputs, attributes })).y;
        const options: ops.ResizeOptions = { mode: c.mode, coordinateTransformationMode: c.ctm, nearestMode: c.nearest, scales: c.scales, sizes: c.sizes, cubicCoeffA: c.a, excludeOutside: c.exclude };
        // Weighted sums of 4 (linear) or 16 (cubic) taps of |x| < 4, summed in another order.
        const tol = c.mode === 'nearest' ? 0 : c.mode === 'linear' ? 4e-6 : 1e-5;
        assertClose(ops.resize(x, options), want, tol, tol, `${isa} nchw ${JSON.stringify(c)}`);
        const nhwc = ops.resize(permute(x, NCHW_TO_NHWC), { ...options, layout: 'nhwc' });
        assertClose(permute(nhwc, NHWC_TO_NCHW), want, tol, tol, `${isa} nhwc ${JSON.stringify(c)}`);
      }
    }));

    it('nearest resize of uint8 data (an index map: any dtype)', async function () {
      const u8 = randomBytes(rng, 'uint8', [1, 4, 3, 3]);
      const want = (await runNode({ op: 'Resize', opset: 13, inputs: [{ name: 'x', value: u8 }, { name: '' }, { name: 'scales', float: [1, 1, 2, 2] }], attributes: { mode: 'nearest' } })).y;
      assertClose(ops.resize(u8, { scales: [1, 1, 2, 2] }), want, 0, 0, 'uint8 nearest');
    });
  });
});
