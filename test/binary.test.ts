// Binary ops against plain float references written here in JavaScript:
// sign(x) * sign(w) convolution with zeros at the border ('zero' padding) or
// +1 ('one' padding), the output transform in float32 (Math.fround after every
// operation), ONNX QuantizeLinear for int8, thresholds for bits. Every result
// must be equal, on every kernel path this machine runs, with 1 to 3 threads.
import { strict as assert } from 'node:assert';
import { cpu, ops, Tensor } from '../lib';
import type { BinaryOutputKind } from '../lib/ops/binary';
import { Rng } from './helpers/random';

const sign = (v: number) => (v < 0 ? -1 : 1);
const f32 = Math.fround;

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

interface Transform {
  output: BinaryOutputKind;
  alpha: Float32Array; // one per channel (expanded)
  beta: Float32Array;
  threshold: Float32Array;
  yScale: number;
  yZeroPoint: number;
  /** What the op is given: per tensor or per channel values. */
  options: Record<string, unknown>;
}

function makeTransform(rng: Rng, n: number, output: BinaryOutputKind, k: number, perTensor = false): Transform {
  const count = perTensor ? 1 : n;
  const alpha = Float32Array.from({ length: count }, (_, i) => (i % 5 === 3 ? -1 : 1) * (0.01 + rng.next() * 0.2));
  const beta = Float32Array.from({ length: count }, () => (rng.next() - 0.5) * 0.1 * k);
  const threshold = Float32Array.from({ length: count }, () => (rng.next() - 0.5) * 2);
  const yScale = 0.03125 + rng.next() * 0.1;
  const yZeroPoint = rng.int(-20, 20);
  const options: Record<string, unknown> = { output, alpha: Array.from(alpha), beta: perTensor ? beta[0] : beta };
  if (output === 'bit') options.threshold = Array.from(threshold);
  if (output === 'int8') Object.assign(options, { yScale, yZeroPoint });
  const expand = (a: Float32Array) => Float32Array.from({ length: n }, (_, i) => a[perTensor ? 0 : i]);
  return { output, alpha: expand(alpha), beta: expand(beta), threshold: expand(threshold), yScale: f32(yScale), yZeroPoint, options };
}

/** The output transform of value x (already float32) of channel c. */
function transform(t: Transform, x: number, c: number): number {
  const v = f32(f32(t.alpha[c] * x) + t.beta[c]);
  if (t.output === 'float32') return v;
  if (t.output === 'bit') return v < t.threshold[c] ? -1 : 1;
  let q = f32(v / t.yScale);
  if (Number.isNaN(q)) return t.yZeroPoint;
  q = Math.min(Math.max(q, -128 - t.yZeroPoint), 127 - t.yZeroPoint);
  return roundHalfEven(q) + t.yZeroPoint;
}

/** The values of an output tensor (bits as +1/-1), flat. */
function values(y: Tensor): number[] {
  if (y.dtype === 'bit') return (y.toArray() as unknown[]).flat(4) as number[];
  return Array.from(y.data as ArrayLike<number>);
}

function assertSame(got: number[], want: number[], what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i]) && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) {
      assert.fail(`${what}: element ${i} is ${got[i]}, the reference ${want[i]}`);
    }
  }
}

interface ConvCase {
  n: number; h: number; w: number; c: number; cout: number; kh: number; kw: number;
  stride: [number, number]; dilation: [number, number]; pads: [number, number, number, number];
  padding: 'zero' | 'one';
}

/** The float model: integer dots of sign(x) * sign(w), NHWC / OHWI. */
function convReference(x: Float32Array, w: Float32Array, p: ConvCase): { dots: Int32Array; oh: number; ow: number } {
  const oh = Math.floor((p.h + p.pads[0] + p.pads[2] - p.dilation[0] * (p.kh - 1) - 1) / p.stride[0]) + 1;
  const ow = Math.floor((p.w + p.pads[1] + p.pads[3] - p.dilation[1] * (p.kw - 1) - 1) / p.stride[1]) + 1;
  const xs = Int8Array.from(x, sign), ws = Int8Array.from(w, sign);
  const dots = new Int32Array(p.n * oh * ow * p.cout);
  for (let b = 0; b < p.n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
    for (let o = 0; o < p.cout; o++) {
      let d = 0;
      for (let i = 0; i < p.kh; i++) {
        const iy = oy * p.stride[0] + i * p.dilation[0] - p.pads[0];
        for (let j = 0; j < p.kw; j++) {
          const ix = ox * p.stride[1] + j * p.dilation[1] - p.pads[1];
          const wo = ((o * p.kh + i) * p.kw + j) * p.c;
          if (iy < 0 || ix < 0 || iy >= p.h || ix >= p.w) {
            if (p.padding === 'one') for (let c = 0; c < p.c; c++) d += ws[wo + c]; // x = +1
            continue; // zero padding: the border contributes 0
          }
          const xo = ((b * p.h + iy) * p.w + ix) * p.c;
          for (let c = 0; c < p.c; c++) d += xs[xo + c] * ws[wo + c];
        }
      }
      dots[((b * oh + oy) * ow + ox) * p.cout + o] = d;
    }
  }
  return { dots, oh, ow };
}

/** Floats around zero, with exact zeros, -0 and tiny values in the mix. */
function signedFloats(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => {
    const r = rng.next();
    if (r < 0.02) return 0;
    if (r < 0.04) return -0;
    if (r < 0.05) return -1e-42;
    return rng.next() * 4 - 2;
  });
}

describe('binary ops', function () {
  const original = { isa: cpu.isa, threads: cpu.threads };
  afterEach(() => {
    cpu.setIsa(original.isa);
    cpu.setThreads(original.threads);
  });

  describe('bitpack / bitunpack', function () {
    it('packs signs along the last axis (x < 0 -> -1; +0, -0 and NaN -> +1), tails zero', function () {
      const rng = new Rng(1);
      for (const isa of cpu.available()) {
        cpu.setIsa(isa);
        for (const cols of [1, 7, 8, 31, 63, 64, 65, 127, 1000]) {
          const x = signedFloats(rng, 3 * cols);
          x[0] = NaN;
          if (cols > 2) { x[1] = -Infinity; x[2] = Infinity; }
          const bits = ops.bitpack(new Tensor('float32', x, [3, cols]));
          assert.equal(bits.dtype, 'bit');
          assert.deepEqual(bits.shape, [3, cols]);
          const rowBytes = Math.ceil(cols / 64) * 8;
          for (let r = 0; r < 3; r++) {
            for (let i = 0; i < rowBytes * 8; i++) {
              const bit = ((bits.data as Uint8Array)[r * rowBytes + (i >> 3)] >> (i & 7)) & 1;
              const want = i < cols && x[r * cols + i] < 0 ? 1 : 0;
              assert.equal(bit, want, `${isa} cols=${cols} row ${r} bit ${i}`);
            }
          }
          const back = ops.bitunpack(bits);
          assert.deepEqual(Array.from(back.data as Float32Array), Array.from(x, sign));
          const s8 = new Tensor('int8', Int8Array.from(x, (v) => (Number.isNaN(v) ? 0 : Math.max(-128, Math.min(127, Math.trunc(v * 60))))), [3, cols]);
          assert.deepEqual(Array.from(ops.bitunpack(ops.bitpack(s8), 'int8').data as Int8Array), Array.from(s8.data as Int8Array, sign), `${isa} int8 cols=${cols}`);
        }
      }
    });

    it('handles higher ranks and empty tensors', function () {
      const x = new Tensor('float32', [1, -1, 2, -2, 0, -0, 3, -3], [2, 2, 2]);
      assert.deepEqual(ops.bitunpack(ops.bitpack(x)).toArray(), [[[1, -1], [1, -1]], [[1, 1], [1, -1]]]);
      assert.equal(ops.bitpack(new Tensor('float32', new Float32Array(0), [0, 5])).data.length, 0);
    });
  });

  describe('binaryConv2d', function () {
    const channels = [1, 7, 63, 64, 65, 127, 1000];
    const kinds: BinaryOutputKind[] = ['float32', 'int8', 'bit'];

    function runCase(rng: Rng, p: ConvCase, output: BinaryOutputKind, what: string, perTensor = false): void {
      const x = signedFloats(rng, p.n * p.h * p.w * p.c);
      const w = signedFloats(rng, p.cout * p.kh * p.kw * p.c);
      const { dots, oh, ow } = convReference(x, w, p);
      const t = makeTransform(rng, p.cout, output, p.kh * p.kw * p.c, perTensor);
      const want = Array.from(dots, (d, i) => transform(t, d, i % p.cout));
      const xt = new Tensor('float32', x, [p.n, p.h, p.w, p.c]);
      const wt = new Tensor('float32', w, [p.cout, p.kh, p.kw, p.c]);
      const geometry = { strides: p.stride, dilations: p.dilation, pads: p.pads, padding: p.padding };
      const xbits = ops.bitpack(xt);
      for (const isa of cpu.available()) {
        cpu.setIsa(isa);
        const layer = ops.packBinaryConv2d(wt, { ...geometry, ...t.options });
        const y = ops.binaryConv2d(xt, layer);
        assert.deepEqual(y.shape, [p.n, oh, ow, p.cout]);
        assert.equal(y.dtype, output);
        assertSame(values(y), want, `${isa} ${what} (float input)`);
        assertSame(values(ops.binaryConv2d(xbits, layer)), want, `${isa} ${what} (bit input)`);
      }
    }

    it('equals the float reference for every channel count, output kind and padding mode', function () {
      const rng = new Rng(2);
      for (const c of channels) {
        for (const output of kinds) {
          for (const padding of ['zero', 'one'] as const) {
            const cout = c === 1000 ? 9 : (c % 3 === 0 ? 65 : 7);
            const p: ConvCase = { n: 1, h: c === 1000 ? 5 : 7, w: 5, c, cout, kh: 3, kw: 3, stride: [1, 1], dilation: [1, 1], pads: [1, 1, 1, 1], padding };
            runCase(rng, p, output, `C=${c} Cout=${cout} ${output} ${padding}`);
          }
        }
      }
    });

    it('strides 2, dilation 2, asymmetric pads, odd sizes, rectangular and 1x1..7x7 kernels', function () {
      const rng = new Rng(3);
      const cases: Partial<ConvCase>[] = [
        { h: 9, w: 7, kh: 3, kw: 3, stride: [2, 2], pads: [1, 1, 1, 1] },
        { h: 9, w: 11, kh: 3, kw: 3, dilation: [2, 2], pads: [2, 2, 2, 2] },
        { h: 7, w: 9, kh: 3, kw: 3, stride: [2, 1], dilation: [1, 2], pads: [0, 2, 1, 0] },
        { h: 5, w: 5, kh: 1, kw: 1, stride: [2, 2] },
        { h: 5, w: 7, kh: 1, kw: 1, pads: [1, 0, 0, 1] },
        { h: 11, w: 9, kh: 5, kw: 5, stride: [2, 2], pads: [2, 2, 2, 2] },
        { h: 13, w: 11, kh: 7, kw: 7, stride: [2, 2], pads: [3, 3, 3, 3] },
        { h: 9, w: 9, kh: 7, kw: 7, dilation: [2, 1], pads: [6, 3, 6, 3] },
        { h: 7, w: 9, kh: 1, kw: 5, pads: [0, 2, 0, 2] },
        { h: 9, w: 5, kh: 5, kw: 3, stride: [1, 2], pads: [4, 0, 0, 2] },
        { h: 3, w: 3, kh: 3, kw: 3 },
      ];
      for (const [i, cs] of cases.entries()) {
        for (const padding of ['zero', 'one'] as const) {
          const c = channels[(i * 3 + (padding === 'one' ? 1 : 0)) % 6];
          const p: ConvCase = { n: 1 + (i % 2), h: 5, w: 5, c, cout: [1, 7, 64, 65, 33][i % 5], kh: 3, kw: 3, stride: [1, 1], dilation: [1, 1], pads: [0, 0, 0, 0], padding, ...cs };
          runCase(rng, p, kinds[i % 3], `case ${i} ${JSON.stringify(cs)} C=${c} ${padding}`, i % 4 === 0);
        }
      }
    });

    it('random shapes', function () {
      const rng = new Rng(4);
      for (let t = 0; t < 30; t++) {
        const kh = rng.int(1, 5), kw = rng.pick([kh, rng.int(1, 5)]);
        const stride: [number, number] = [rng.int(1, 2), rng.int(1, 2)];
        const dilation: [number, number] = [rng.int(1, 2), rng.int(1, 2)];
        const pads: [number, number, number, number] = [rng.int(0, kh), rng.int(0, kw), rng.int(0, kh), rng.int(0, kw)];
        const h = dilation[0] * (kh - 1) + 1 + 2 * rng.int(0, 4), w = dilation[1] * (kw - 1) + 1 + 2 * rng.int(0, 4);
        const p: ConvCase = { n: rng.int(1, 2), h, w, c: rng.pick(channels.slice(0, 6)), cout: rng.int(1, 70), kh, kw, stride, dilation, pads, padding: rng.pick(['zero', 'one'] as const) };
        runCase(rng, p, rng.pick(kinds), `random ${t} ${JSON.stringify(p)}`, rng.next() < 0.3);
      }
    });

    it('takes int8 input, OIHW float weights, bit weights and a preallocated output', function () {
      const rng = new Rng(5);
      const p: ConvCase = { n: 1, h: 6, w: 5, c: 10, cout: 4, kh: 3, kw: 2, stride: [1, 1], dilation: [1, 1], pads: [1, 0, 1, 1], padding: 'zero' };
      const x = signedFloats(rng, p.h * p.w * p.c), w = signedFloats(rng, p.cout * p.kh * p.kw * p.c);
      const { dots } = convReference(x, w, p);
      const geometry = { pads: p.pads };
      const oihw = new Float32Array(w.length);
      for (let o = 0; o < p.cout; o++) for (let i = 0; i < p.kh; i++) for (let j = 0; j < p.kw; j++) for (let c = 0; c < p.c; c++) {
        oihw[((o * p.c + c) * p.kh + i) * p.kw + j] = w[((o * p.kh + i) * p.kw + j) * p.c + c];
      }
      const x8 = new Tensor('int8', Int8Array.from(x, (v) => (v < 0 ? -5 : 5)), [1, p.h, p.w, p.c]);
      const wbits = ops.bitpack(new Tensor('float32', w, [p.cout, p.kh, p.kw, p.c]));
      const a = ops.binaryConv2d(x8, new Tensor('float32', oihw, [p.cout, p.c, p.kh, p.kw]), { ...geometry, weightLayout: 'OIHW' });
      const b = ops.binaryConv2d(x8, wbits, geometry);
      assert.deepEqual(Array.from(a.data as Float32Array), Array.from(dots));
      assert.deepEqual(Array.from(b.data as Float32Array), Array.from(dots));
      const layer = ops.packBinaryConv2d(wbits, { ...geometry, output: 'int8', yScale: 0.5, yZeroPoint: 3 });
      const out = Tensor.zeros('int8', layer.outputShape(x8.shape));
      assert.equal(ops.binaryConv2d(x8, layer, { out }), out);
      assert.deepEqual(Array.from(out.data as Int8Array), Array.from(dots, (d) => Math.max(-128, Math.min(127, roundHalfEven(d / 0.5) + 3))));
    });

    it('gives the same result with 1, 2 and 3 threads on every path', function () {
      const rng = new Rng(6);
      const x = new Tensor('float32', signedFloats(rng, 2 * 17 * 15 * 65), [2, 17, 15, 65]);
      const w = new Tensor('float32', signedFloats(rng, 70 * 9 * 65), [70, 3, 3, 65]);
      for (const isa of cpu.available()) {
        cpu.setIsa(isa);
        for (const output of kinds) {
          const layer = ops.packBinaryConv2d(w, { pads: 1, output, ...(output === 'int8' ? { yScale: 0.7 } : {}), alpha: 0.3, beta: -1 });
          const results = [1, 2, 3].map((threads) => {
            cpu.setThreads(threads);
            return Array.from(ops.binaryConv2d(x, layer).data as ArrayLike<number>);
          });
          assert.deepEqual(results[1], results[0], `${isa} ${output}: 2 threads`);
          assert.deepEqual(results[2], results[0], `${isa} ${output}: 3 threads`);
        }
      }
    });
  });

  describe('binaryGemm', function () {
    it('equals sum_k sign(a) * sign(w) with the output transform, on every path', function () {
      const rng = new Rng(7);
      for (const k of [1, 7, 63, 64, 65, 127, 1000]) {
        for (const [m, n] of [[1, 1], [5, 7], [13, 64], [49, 65]]) {
          const a = signedFloats(rng, m * k), w = signedFloats(rng, n * k);
          const output = (['float32', 'int8', 'bit'] as const)[(k + m) % 3];
          const t = makeTransform(rng, n, output, k, n === 7);
          const want: number[] = [];
          for (let i = 0; i < m; i++) for (let c = 0; c < n; c++) {
            let d = 0;
            for (let j = 0; j < k; j++) d += sign(a[i * k + j]) * sign(w[c * k + j]);
            want.push(transform(t, d, c));
          }
          const at = new Tensor('float32', a, [m, k]);
          for (const isa of cpu.available()) {
            cpu.setIsa(isa);
            const layer = ops.packBinaryGemm(new Tensor('float32', w, [n, k]), t.options);
            assertSame(values(ops.binaryGemm(at, layer)), want, `${isa} M=${m} N=${n} K=${k} ${output}`);
            assertSame(values(ops.binaryGemm(ops.bitpack(at).reshape([1, m, k]), layer)), want, `${isa} bit input`);
          }
        }
      }
    });
  });

  describe('binaryWeightGemm (BinaryConnect)', function () {
    it('float activations: the float32 sum in k order, on every path', function () {
      const rng = new Rng(8);
      for (const [m, n, k] of [[1, 1, 1], [3, 7, 64], [5, 16, 65], [7, 65, 300], [2, 130, 33]]) {
        const a = Float32Array.from({ length: m * k }, () => (rng.next() - 0.5) * 10);
        const w = signedFloats(rng, n * k);
        const output = (['float32', 'int8', 'bit'] as const)[(m + n) % 3];
        const t = makeTransform(rng, n, output, k);
        const want: number[] = [];
        for (let i = 0; i < m; i++) for (let c = 0; c < n; c++) {
          let acc = 0;
          for (let j = 0; j < k; j++) acc = f32(acc + (w[c * k + j] < 0 ? -a[i * k + j] : a[i * k + j]));
          want.push(transform(t, acc, c));
        }
        for (const isa of cpu.available()) {
          cpu.setIsa(isa);
          const y = ops.binaryWeightGemm(new Tensor('float32', a, [m, k]), new Tensor('float32', w, [n, k]), t.options);
          assertSame(values(y), want, `${isa} M=${m} N=${n} K=${k} ${output}`);
        }
      }
    });

    it('int8 and uint8 activations with a zero point: exact, on every path', function () {
      const rng = new Rng(9);
      for (const [m, n, k] of [[1, 1, 1], [4, 7, 64], [9, 65, 129], [17, 33, 1000]]) {
        for (const dtype of ['int8', 'uint8'] as const) {
          const signed = dtype === 'int8';
          const a = rng.bytes(m * k, signed, 'mixed');
          const zp = signed ? rng.int(-128, 127) : rng.int(0, 255);
          const w = new Tensor('int8', rng.bytes(n * k, true), [n, k]);
          const t = makeTransform(rng, n, 'float32', k);
          const want: number[] = [];
          for (let i = 0; i < m; i++) for (let c = 0; c < n; c++) {
            let acc = 0;
            for (let j = 0; j < k; j++) acc += (a[i * k + j] - zp) * sign((w.data as Int8Array)[c * k + j]);
            want.push(transform(t, acc, c));
          }
          const at = new Tensor(dtype, a, [m, k]);
          for (const isa of cpu.available()) {
            cpu.setIsa(isa);
            const layer = ops.packBinaryWeightGemm(w, t.options);
            assertSame(values(ops.binaryWeightGemm(at, layer, { aZeroPoint: zp })), want, `${isa} ${dtype} M=${m} N=${n} K=${k}`);
          }
        }
      }
    });
  });
});
