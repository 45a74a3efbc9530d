// fp32 Conv, ConvTranspose, MatMul and Gemm against onnxruntime-node on the same
// inputs (models built in memory, NCHW for ORT; lowbit runs NHWC and the test
// transposes), on every kernel path this machine has; fused activations against
// ORT's activation nodes; recording through a Program; LowbitErrors for bad input.
// Tolerance: |lowbit - ort| <= 1e-4 * (1 + |ort|).
import { strict as assert } from 'node:assert';
import { cpu, IsaName, LowbitError, ops, Tensor } from '../lib';
import type { Activation, AutoPad } from '../lib/ops';
import { buildModel, NodeSpec } from './helpers/onnx-builder';
import { createSession, runOrt } from './helpers/ort';
import { Rng } from './helpers/random';

function close(got: Float32Array, want: Float32Array, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= 1e-4 * (1 + Math.abs(want[i])))) {
      assert.fail(`${what}: [${i}] lowbit ${got[i]} vs ort ${want[i]} (diff ${d})`);
    }
  }
}

function nchwToNhwc(x: Tensor): Tensor {
  const [n, c, h, w] = x.shape;
  const src = x.data as Float32Array, dst = new Float32Array(src.length);
  for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) dst[(b * h * w + p) * c + ch] = src[(b * c + ch) * h * w + p];
  return new Tensor('float32', dst, [n, h, w, c]);
}

function nhwcToNchw(x: Tensor): Tensor {
  const [n, h, w, c] = x.shape;
  const src = x.data as Float32Array, dst = new Float32Array(src.length);
  for (let b = 0; b < n; b++) for (let p = 0; p < h * w; p++) for (let ch = 0; ch < c; ch++) dst[(b * c + ch) * h * w + p] = src[(b * h * w + p) * c + ch];
  return new Tensor('float32', dst, [n, c, h, w]);
}

function randomTensor(rng: Rng, shape: number[], lo = -1, hi = 1): Tensor {
  return new Tensor('float32', rng.floats(shape.reduce((a, b) => a * b, 1), lo, hi), shape);
}

interface ConvCase {
  n: number; c: number; h: number; w: number; m: number; kh: number; kw: number; group: number;
  pads: number[]; strides: number[]; dilations: number[]; bias: boolean; autoPad?: AutoPad;
}

function convAttributes(cs: ConvCase): Record<string, number | number[] | string> {
  const attrs: Record<string, number | number[] | string> = {
    kernel_shape: [cs.kh, cs.kw], strides: cs.strides, dilations: cs.dilations, group: cs.group,
  };
  if (cs.autoPad !== undefined && cs.autoPad !== 'NOTSET') attrs.auto_pad = cs.autoPad;
  else attrs.pads = cs.pads;
  return attrs;
}

/** ORT Conv (+ optional activation nodes after it) on NCHW x. */
async function ortConv(cs: ConvCase, x: Tensor, w: Tensor, b: Tensor | null, post: NodeSpec[] = [],
                       extra: Record<string, Tensor> = {}, opset = 14): Promise<Float32Array> {
  const model = buildModel({
    opset,
    nodes: [{ op: 'Conv', inputs: b ? ['x', 'w', 'b'] : ['x', 'w'], outputs: [post.length ? 'conv' : 'y'], attributes: convAttributes(cs) }, ...post],
    inputs: [{ name: 'x', dtype: 'float32', shape: [...x.shape] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 'M', 'OH', 'OW'] }],
    initializers: { w, ...(b ? { b } : {}), ...extra },
  });
  const session = await createSession(model);
  const out = (await runOrt(session, { x })).y.data as Float32Array;
  await session.release();
  return out;
}

function convCases(rng: Rng): ConvCase[] {
  const out: ConvCase[] = [];
  const base = { n: 1, pads: [0, 0, 0, 0], strides: [1, 1], dilations: [1, 1], bias: true };
  // The classifier's layers.
  out.push({ ...base, c: 3, h: 48, w: 192, m: 8, kh: 3, kw: 3, group: 1, pads: [1, 1, 1, 1], strides: [2, 2] });
  out.push({ ...base, c: 8, h: 24, w: 96, m: 8, kh: 3, kw: 3, group: 8, pads: [1, 1, 1, 1], strides: [2, 1] });
  out.push({ ...base, c: 32, h: 6, w: 96, m: 32, kh: 5, kw: 5, group: 32, pads: [2, 2, 2, 2], strides: [2, 1] });
  out.push({ ...base, c: 88, h: 3, w: 96, m: 88, kh: 5, kw: 5, group: 88, pads: [2, 2, 2, 2] });
  out.push({ ...base, c: 32, h: 2, w: 96, m: 200, kh: 1, kw: 1, group: 1, bias: false });
  out.push({ ...base, c: 200, h: 1, w: 1, m: 50, kh: 1, kw: 1, group: 1 });
  // Edge shapes.
  for (let i = 0; i < 36; i++) {
    const c = rng.pick([1, 3, 7, 8, 16, 17, 64, 65]);
    const depthwise = i % 3 === 0;
    const group = depthwise ? c : (c % 2 === 0 && i % 2 === 0 ? 2 : 1);
    const m = depthwise ? c : group * rng.pick([1, 3, 4, 8, 9, 33]);
    const kh = rng.pick([1, 3, 5, 7]), kw = i % 5 === 0 ? rng.pick([1, 3]) : kh;
    const dil = rng.pick([1, 1, 2]);
    const h = rng.pick([1, 3, 5, 8, 11]), w = rng.pick([1, 4, 7, 12]);
    const pads = [rng.int(0, kh - 1), rng.int(0, kw - 1), rng.int(0, kh - 1), rng.int(0, kw - 1)];
    // Keep the padded input at least one dilated filter big.
    while (h + pads[0] + pads[2] < (kh - 1) * dil + 1) pads[2]++;
    while (w + pads[1] + pads[3] < (kw - 1) * dil + 1) pads[3]++;
    out.push({ n: rng.pick([1, 2]), c, h, w, m, kh, kw, group, pads, strides: [rng.pick([1, 2]), rng.pick([1, 2])],
      dilations: [dil, dil], bias: i % 4 !== 1 });
  }
  return out;
}

const isas = (): IsaName[] => cpu.available();

describe('fp32 conv2d vs onnxruntime-node', function () {
  const original = cpu.isa;
  after(() => cpu.setIsa(original));
  const rng = new Rng(1234);
  const cases = convCases(rng);

  it(`matches ORT Conv on ${cases.length} shapes (groups, depthwise, pads, strides, dilations), every path`, async () => {
    for (const cs of cases) {
      const x = randomTensor(rng, [cs.n, cs.c, cs.h, cs.w]);
      const w = randomTensor(rng, [cs.m, cs.c / cs.group, cs.kh, cs.kw]);
      const b = cs.bias ? randomTensor(rng, [cs.m]) : null;
      const want = await ortConv(cs, x, w, b);
      for (const isa of isas()) {
        cpu.setIsa(isa);
        const what = `${isa} ${JSON.stringify(cs)}`;
        // The ONNX-exact NCHW convenience.
        const y = ops.conv2dNchw(x, w, b, { pads: cs.pads, strides: cs.strides, dilations: cs.dilations, group: cs.group });
        close(y.data as Float32Array, want, what);
        // The NHWC op with weights packed once.
        const packed = ops.packConv2d(w, b, { groups: cs.group });
        assert.equal(packed.depthwise, cs.group === cs.c && cs.m === cs.c);
        const yn = ops.conv2d(nchwToNhwc(x), packed, { pads: cs.pads, strides: cs.strides, dilations: cs.dilations });
        close(nhwcToNchw(yn).data as Float32Array, want, `${what} nhwc`);
      }
    }
  });

  it('matches ORT auto_pad SAME_UPPER / SAME_LOWER / VALID through convAutoPads', async () => {
    for (const autoPad of ['SAME_UPPER', 'SAME_LOWER', 'VALID'] as AutoPad[]) {
      for (const [h, w, k, s] of [[7, 8, 3, 2], [5, 5, 4, 1], [9, 6, 5, 3], [3, 4, 2, 2]]) {
        const cs: ConvCase = { n: 1, c: 5, h, w, m: 6, kh: k, kw: k, group: 1, pads: [0, 0, 0, 0], strides: [s, s], dilations: [1, 1], bias: true, autoPad };
        const x = randomTensor(rng, [1, 5, h, w]), wt = randomTensor(rng, [6, 5, k, k]), b = randomTensor(rng, [6]);
        const want = await ortConv(cs, x, wt, b);
        const y = ops.conv2dNchw(x, wt, b, { autoPad, strides: cs.strides });
        close(y.data as Float32Array, want, `${autoPad} ${h}x${w} k${k} s${s}`);
      }
    }
  });

  it('fuses relu, clip, hardswish (node and Add/Clip/Mul/Div form) and hardsigmoid like ORT', async () => {
    const scalar = (v: number) => new Tensor('float32', [v], []);
    const variants: { name: string; act: Activation; post: NodeSpec[]; extra?: Record<string, Tensor> }[] = [
      { name: 'relu', act: 'relu', post: [{ op: 'Relu', inputs: ['conv'], outputs: ['y'] }] },
      { name: 'clip(-0.5, 0.75)', act: { kind: 'clip', min: -0.5, max: 0.75 },
        post: [{ op: 'Clip', inputs: ['conv', 'lo', 'hi'], outputs: ['y'] }], extra: { lo: scalar(-0.5), hi: scalar(0.75) } },
      { name: 'relu6', act: 'relu6', post: [{ op: 'Clip', inputs: ['conv', 'lo', 'hi'], outputs: ['y'] }], extra: { lo: scalar(0), hi: scalar(6) } },
      { name: 'HardSwish', act: 'hardswish', post: [{ op: 'HardSwish', inputs: ['conv'], outputs: ['y'] }] },
      { name: 'x*clip(x+3,0,6)/6', act: 'hardswish', post: [
        { op: 'Add', inputs: ['conv', 'three'], outputs: ['t'] },
        { op: 'Clip', inputs: ['t', 'zero', 'six'], outputs: ['c'] },
        { op: 'Mul', inputs: ['conv', 'c'], outputs: ['u'] },
        { op: 'Div', inputs: ['u', 'six'], outputs: ['y'] },
      ], extra: { three: scalar(3), zero: scalar(0), six: scalar(6) } },
      { name: 'HardSigmoid(0.2, 0.5)', act: { kind: 'hardsigmoid', alpha: 0.2, beta: 0.5 },
        post: [{ op: 'HardSigmoid', inputs: ['conv'], outputs: ['y'], attributes: { alpha: 0.2, beta: 0.5 } }] },
      { name: 'HardSigmoid(1.2, 0.25)', act: { kind: 'hardsigmoid', alpha: 1.2, beta: 0.25 },
        post: [{ op: 'HardSigmoid', inputs: ['conv'], outputs: ['y'], attributes: { alpha: 1.2, beta: 0.25 } }] },
    ];
    const shapes: ConvCase[] = [
      { n: 1, c: 16, h: 9, w: 13, m: 16, kh: 3, kw: 3, group: 16, pads: [1, 1, 1, 1], strides: [1, 1], dilations: [1, 1], bias: true },
      { n: 1, c: 12, h: 7, w: 5, m: 40, kh: 1, kw: 1, group: 1, pads: [0, 0, 0, 0], strides: [1, 1], dilations: [1, 1], bias: true },
      { n: 2, c: 3, h: 11, w: 10, m: 8, kh: 3, kw: 3, group: 1, pads: [1, 1, 1, 1], strides: [2, 2], dilations: [1, 1], bias: true },
    ];
    for (const cs of shapes) {
      // Inputs scaled so the pre-activation values span every clamp.
      const x = randomTensor(rng, [cs.n, cs.c, cs.h, cs.w], -2, 2);
      const w = randomTensor(rng, [cs.m, cs.c / cs.group, cs.kh, cs.kw], -1, 1);
      const b = randomTensor(rng, [cs.m], -1, 1);
      for (const v of variants) {
        const want = await ortConv(cs, x, w, b, v.post, v.extra ?? {});
        for (const isa of isas()) {
          cpu.setIsa(isa);
          const packed = ops.packConv2d(w, b, { groups: cs.group });
          const y = ops.conv2d(nchwToNhwc(x), packed, { pads: cs.pads, strides: cs.strides, activation: v.act });
          close(nhwcToNchw(y).data as Float32Array, want, `${isa} ${v.name} ${JSON.stringify(cs)}`);
        }
      }
    }
  });
});

describe('fp32 convTranspose vs onnxruntime-node', function () {
  const original = cpu.isa;
  after(() => cpu.setIsa(original));
  const rng = new Rng(99);

  it('matches ORT ConvTranspose (strides, pads, dilations, output_padding, groups), every path', async () => {
    for (let i = 0; i < 24; i++) {
      const group = i % 4 === 3 ? 2 : 1;
      const c = group * rng.pick([1, 3, 8]), mg = rng.pick([1, 4, 7, 16]);
      const kh = rng.pick([1, 2, 3, 4, 5]), kw = rng.pick([1, 3, 4]);
      const strides = [rng.pick([1, 2, 3]), rng.pick([1, 2])];
      const dilations = i % 5 === 2 ? [2, 2] : [1, 1];
      // ONNX allows output_padding below the stride or the dilation; onnxruntime only below the stride.
      const outputPadding = [rng.int(0, strides[0] - 1), rng.int(0, strides[1] - 1)];
      const pads = [rng.int(0, kh - 1), rng.int(0, kw - 1), rng.int(0, kh - 1), rng.int(0, kw - 1)];
      const [n, h, w] = [rng.pick([1, 2]), rng.pick([1, 3, 6]), rng.pick([2, 5])];
      const full = (s: number, k: number, d: number, o: number, size: number) => s * (size - 1) + o + (k - 1) * d + 1;
      if (full(strides[0], kh, dilations[0], outputPadding[0], h) <= pads[0] + pads[2]) pads[0] = pads[2] = 0;
      if (full(strides[1], kw, dilations[1], outputPadding[1], w) <= pads[1] + pads[3]) pads[1] = pads[3] = 0;
      const x = randomTensor(rng, [n, c, h, w]);
      const wt = randomTensor(rng, [c, mg, kh, kw]);
      const b = i % 3 === 0 ? null : randomTensor(rng, [mg * group]);
      const model = buildModel({
        opset: 14,
        nodes: [{ op: 'ConvTranspose', inputs: b ? ['x', 'w', 'b'] : ['x', 'w'], outputs: ['y'],
          attributes: { kernel_shape: [kh, kw], strides, dilations, pads, output_padding: outputPadding, group } }],
        inputs: [{ name: 'x', dtype: 'float32', shape: [n, c, h, w] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 'M', 'OH', 'OW'] }],
        initializers: { w: wt, ...(b ? { b } : {}) },
      });
      const session = await createSession(model);
      const res = (await runOrt(session, { x })).y;
      await session.release();
      for (const isa of isas()) {
        cpu.setIsa(isa);
        const what = `${isa} #${i} c${c} mg${mg} g${group} k${kh}x${kw} s${strides} d${dilations} op${outputPadding} p${pads}`;
        const y = ops.convTransposeNchw(x, wt, b, { pads, strides, dilations, outputPadding, group });
        assert.deepEqual(y.shape, res.dims, what);
        close(y.data as Float32Array, res.data as Float32Array, what);
        const packed = ops.packConvTranspose(wt, b, { groups: group });
        const yn = ops.convTranspose(nchwToNhwc(x), packed, { pads, strides, dilations, outputPadding, activation: 'relu' });
        close(nhwcToNchw(yn).data as Float32Array, (res.data as Float32Array).map((v) => Math.max(v, 0)), `${what} nhwc relu`);
      }
    }
  });

  it('matches ORT output_shape and auto_pad SAME_UPPER', async () => {
    for (const [attrs, outputShape] of [
      [{ output_shape: [10, 9] }, [10, 9]],
      [{ output_shape: [11, 8] }, [11, 8]],
      [{ auto_pad: 'SAME_UPPER' }, undefined],
    ] as [Record<string, number[] | string>, number[] | undefined][]) {
      const x = randomTensor(rng, [1, 4, 5, 4]), wt = randomTensor(rng, [4, 3, 3, 3]);
      const model = buildModel({
        opset: 14,
        nodes: [{ op: 'ConvTranspose', inputs: ['x', 'w'], outputs: ['y'], attributes: { kernel_shape: [3, 3], strides: [2, 2], ...attrs } }],
        inputs: [{ name: 'x', dtype: 'float32', shape: [1, 4, 5, 4] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 'M', 'OH', 'OW'] }],
        initializers: { w: wt },
      });
      const session = await createSession(model);
      const res = (await runOrt(session, { x })).y;
      await session.release();
      const y = ops.convTransposeNchw(x, wt, null, { strides: [2, 2], outputShape, autoPad: typeof attrs.auto_pad === 'string' ? 'SAME_UPPER' : 'NOTSET' });
      assert.deepEqual(y.shape, res.dims, JSON.stringify(attrs));
      close(y.data as Float32Array, res.data as Float32Array, JSON.stringify(attrs));
    }
  });
});

describe('fp32 1-D conv / convTranspose vs onnxruntime-node', () => {
  const rng = new Rng(11);

  it('matches ORT Conv and ConvTranspose on N, C, L inputs', async () => {
    for (const [op, attrs, wShape] of [
      ['Conv', { kernel_shape: [3], pads: [1, 2], strides: [2], dilations: [1], group: 1 }, [6, 4, 3]],
      ['Conv', { kernel_shape: [5], pads: [2, 2], strides: [1], dilations: [2], group: 4 }, [4, 1, 5]],
      ['ConvTranspose', { kernel_shape: [4], pads: [1, 0], strides: [3], output_padding: [2], group: 2 }, [4, 3, 4]],
    ] as [string, Record<string, number[] | number>, number[]][]) {
      const x = randomTensor(rng, [2, 4, 11]), w = randomTensor(rng, wShape);
      const model = buildModel({
        opset: 14,
        nodes: [{ op, inputs: ['x', 'w'], outputs: ['y'], attributes: attrs }],
        inputs: [{ name: 'x', dtype: 'float32', shape: [2, 4, 11] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 'M', 'L'] }],
        initializers: { w },
      });
      const session = await createSession(model);
      const res = (await runOrt(session, { x })).y;
      await session.release();
      const a = attrs as Record<string, number[]>;
      const group = attrs.group as number;
      const y = op === 'Conv'
        ? ops.conv2dNchw(x, w, null, { pads: a.pads, strides: a.strides, dilations: a.dilations, group })
        : ops.convTransposeNchw(x, w, null, { pads: a.pads, strides: a.strides, outputPadding: a.output_padding, group });
      assert.deepEqual(y.shape, res.dims, `${op} ${JSON.stringify(attrs)}`);
      close(y.data as Float32Array, res.data as Float32Array, `${op} ${JSON.stringify(attrs)}`);
    }
  });
});

describe('fp32 matmul / gemm vs onnxruntime-node', function () {
  const original = cpu.isa;
  after(() => cpu.setIsa(original));
  const rng = new Rng(5);

  it('matches ORT MatMul: 2-D, batched, broadcast and 1-D operands, every path', async () => {
    const cases: [number[], number[]][] = [
      [[1, 200], [200, 2]], [[7, 33], [33, 65]], [[3, 5, 17], [17, 9]], [[2, 3, 4, 8], [2, 1, 8, 5]],
      [[16], [16, 7]], [[4, 16], [16]], [[300, 129], [129, 40]], [[2, 1, 1, 6], [3, 6, 2]],
    ];
    for (const [as, bs] of cases) {
      const a = randomTensor(rng, as), b = randomTensor(rng, bs);
      const model = buildModel({
        opset: 13,
        nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }],
        inputs: [{ name: 'a', dtype: 'float32', shape: as }, { name: 'b', dtype: 'float32', shape: bs }],
        outputs: [{ name: 'y', dtype: 'float32', shape: [] }],
      });
      const session = await createSession(model);
      const res = (await runOrt(session, { a, b })).y;
      await session.release();
      for (const isa of isas()) {
        cpu.setIsa(isa);
        const y = ops.matmulF32(a, b);
        assert.deepEqual(y.shape, res.dims, `${isa} ${as} x ${bs}`);
        close(y.data as Float32Array, res.data as Float32Array, `${isa} ${as} x ${bs}`);
        if (bs.length === 2) {
          const yp = ops.matmulF32(a, ops.packGemmF32(b));
          close(yp.data as Float32Array, res.data as Float32Array, `${isa} ${as} x packed ${bs}`);
        }
      }
    }
  });

  it('matches ORT Gemm: transA, transB, alpha, beta, C per column / scalar / full', async () => {
    const cases: { m: number; k: number; n: number; transA: number; transB: number; alpha?: number; beta?: number; c: number[] | null }[] = [
      { m: 5, k: 7, n: 9, transA: 0, transB: 0, c: [9] },
      { m: 5, k: 7, n: 9, transA: 1, transB: 1, alpha: 0.5, beta: 1.5, c: [1, 9] },
      { m: 33, k: 64, n: 17, transA: 0, transB: 1, alpha: 2.5, c: [] },
      { m: 8, k: 3, n: 40, transA: 1, transB: 0, beta: 0.25, c: [8, 40] },
      { m: 8, k: 3, n: 40, transA: 0, transB: 0, c: [8, 1] },
      { m: 1, k: 200, n: 2, transA: 0, transB: 0, c: null },
    ];
    for (const cs of cases) {
      const a = randomTensor(rng, cs.transA ? [cs.k, cs.m] : [cs.m, cs.k]);
      const b = randomTensor(rng, cs.transB ? [cs.n, cs.k] : [cs.k, cs.n]);
      const c = cs.c === null ? null : randomTensor(rng, cs.c);
      const attributes: Record<string, number> = { transA: cs.transA, transB: cs.transB };
      if (cs.alpha !== undefined) attributes.alpha = cs.alpha;
      if (cs.beta !== undefined) attributes.beta = cs.beta;
      const model = buildModel({
        opset: 13,
        nodes: [{ op: 'Gemm', inputs: c ? ['a', 'b', 'c'] : ['a', 'b'], outputs: ['y'], attributes }],
        inputs: [{ name: 'a', dtype: 'float32', shape: [...a.shape] }, { name: 'b', dtype: 'float32', shape: [...b.shape] },
          ...(c ? [{ name: 'c', dtype: 'float32', shape: [...c.shape] }] : [])],
        outputs: [{ name: 'y', dtype: 'float32', shape: [cs.m, cs.n] }],
      });
      const session = await createSession(model);
      const res = (await runOrt(session, c ? { a, b, c } : { a, b })).y;
      await session.release();
      for (const isa of isas()) {
        cpu.setIsa(isa);
        const y = ops.gemmF32Onnx(a, b, c, cs);
        close(y.data as Float32Array, res.data as Float32Array, `${isa} ${JSON.stringify(cs)}`);
      }
    }
  });
});

describe('fp32 conv / gemm recorded in a Program', () => {
  const rng = new Rng(77);

  it('records conv2d, convTranspose and gemmF32 steps; runSync and run match immediate calls', async () => {
    // x [1, 36, 60, 16] -> depthwise 3x3 s2 hardswish -> [1, 18, 30, 16] -> 1x1 to 24 relu -> [1, 18, 30, 24]
    // -> convTranspose 2x2 s2 -> [1, 36, 60, 8]; separately gemm [5, 16] x [16, 3]. Costly enough
    // (> 2e5 operations) for program.run to go to libuv worker threads, four runs at once.
    const x = randomTensor(rng, [1, 36, 60, 16]);
    const dw = ops.packConv2d(randomTensor(rng, [16, 1, 3, 3]), randomTensor(rng, [16]), { groups: 16 });
    const pw = ops.packConv2d(randomTensor(rng, [24, 16, 1, 1]), null);
    const ct = ops.packConvTranspose(randomTensor(rng, [24, 8, 2, 2]), randomTensor(rng, [8]));
    const gm = ops.packGemmF32(randomTensor(rng, [16, 3]), { bias: randomTensor(rng, [3]) });
    const dwOpt = { pads: [1, 1, 1, 1], strides: [2, 2], activation: 'hardswish' as const };
    const y1 = ops.conv2d(x, dw, dwOpt);
    const y2 = ops.conv2d(y1, pw, { activation: 'relu' });
    const y3 = ops.convTranspose(y2, ct, { strides: [2, 2] });
    const a = randomTensor(rng, [5, 16]);
    const g = ops.gemmF32(a, gm, { activation: { kind: 'clip', min: -0.5, max: 0.5 } });

    const bytes = (t: Tensor) => 4 * t.size;
    const offs = [0];
    for (const t of [x, y1, y2, y3, g]) offs.push(offs[offs.length - 1] + Math.ceil(bytes(t) / 64) * 64);
    const program = new ops.Program(offs[5]);
    const slot = (t: Tensor, i: number) => ({ dtype: 'float32' as const, shape: t.shape, ref: offs[i] });
    ops.conv2dInto(slot(x, 0), dw, slot(y1, 1), dwOpt, program);
    ops.conv2dInto(slot(y1, 1), pw, slot(y2, 2), { activation: 'relu' }, program);
    ops.convTransposeInto(slot(y2, 2), ct, slot(y3, 3), { strides: [2, 2] }, program);
    const aConst = program.constant(a);
    ops.gemmF32Into(aConst, gm, slot(g, 4), { activation: { kind: 'clip', min: -0.5, max: 0.5 } }, program);
    assert.deepEqual(program.labels(), ['convF32 depthwise', 'convF32', 'convTransposeF32', 'gemmF32']);
    const o3 = new Float32Array(y3.size), og = new Float32Array(g.size);
    program.runSync([x.data], [offs[0]], [o3, og], [offs[3], offs[4]]);
    assert.deepEqual(o3, y3.data);
    assert.deepEqual(og, g.data);
    assert.ok(program.cost > 2e5, `cost ${program.cost}`);
    const r3 = Array.from({ length: 4 }, () => new Float32Array(y3.size));
    await Promise.all(r3.map((o) => program.run([x.data], [offs[0]], [o], [offs[3]])));
    for (const o of r3) assert.deepEqual(o, y3.data);
  });

  it('rejects slots that do not fit the arena or have the wrong dtype', () => {
    const dw = ops.packConv2d(randomTensor(rng, [4, 1, 3, 3]), null, { groups: 4 });
    const program = new ops.Program(256);
    const bad = (f: () => void, code: string, re: RegExp) =>
      assert.throws(f, (e: unknown) => e instanceof LowbitError && e.code === code && re.test(e.message));
    bad(() => ops.conv2dInto({ dtype: 'float32', shape: [1, 4, 4, 4], ref: 0 }, dw, { dtype: 'float32', shape: [1, 4, 4, 4], ref: 128 },
      { pads: [1, 1, 1, 1] }, program), 'E_SHAPE', /arena/);
    bad(() => ops.conv2dInto({ dtype: 'int8', shape: [1, 2, 2, 4], ref: 0 }, dw, { dtype: 'float32', shape: [1, 2, 2, 4], ref: 128 },
      { pads: [1, 1, 1, 1] }, program), 'E_DTYPE', /float32/);
    bad(() => ops.conv2dInto({ dtype: 'float32', shape: [1, 2, 2, 4], ref: 0 }, dw, { dtype: 'float32', shape: [1, 2, 2, 4], ref: 32 },
      { pads: [1, 1, 1, 1] }, program), 'E_ARG', /overlap/);
    assert.equal(program.stepCount, 0);
  });
});

describe('fp32 conv / gemm bad input', () => {
  const rng = new Rng(3);
  const w = randomTensor(rng, [8, 4, 3, 3]);
  const packed = ops.packConv2d(w, null);
  const x = randomTensor(rng, [1, 5, 5, 4]);
  const err = (f: () => unknown, code: string, re: RegExp) =>
    assert.throws(f, (e: unknown) => e instanceof LowbitError && e.code === code && re.test(e.message), `expected ${code} ${re}`);

  it('checks the weights and the bias at pack time', () => {
    err(() => ops.packConv2d(new Tensor('int8', new Int8Array(8), [2, 1, 2, 2]), null), 'E_DTYPE', /weights must be float32/);
    err(() => ops.packConv2d(randomTensor(rng, [8, 4, 3]), null), 'E_SHAPE', /4-D/);
    err(() => ops.packConv2d(w, null, { groups: 3 }), 'E_SHAPE', /multiple of groups/);
    err(() => ops.packConv2d(w, null, { groups: 0 }), 'E_RANGE', /groups/);
    err(() => ops.packConv2d(w, randomTensor(rng, [7])), 'E_SHAPE', /bias has 7 values, expected 8/);
    err(() => ops.packConvTranspose(randomTensor(rng, [3, 2, 2, 2]), null, { groups: 2 }), 'E_SHAPE', /multiple of groups/);
    err(() => ops.packGemmF32(randomTensor(rng, [4, 5]), { bias: [1, 2] }), 'E_SHAPE', /bias has 2 values/);
    err(() => ops.packGemmF32(randomTensor(rng, [4, 5]), { alpha: NaN }), 'E_RANGE', /alpha/);
  });

  it('checks the input, the output and the options', () => {
    err(() => ops.conv2d(randomTensor(rng, [1, 5, 5, 3]), packed), 'E_SHAPE', /3 channels.*expect 4/);
    err(() => ops.conv2d(randomTensor(rng, [5, 5, 4]), packed), 'E_SHAPE', /4-D NHWC/);
    err(() => ops.conv2d(new Tensor('int32', new Int32Array(100), [1, 5, 5, 4]), packed), 'E_DTYPE', /x must be float32/);
    err(() => ops.conv2d(randomTensor(rng, [1, 2, 2, 4]), packed), 'E_SHAPE', /smaller than the dilated filter/);
    err(() => ops.conv2d(x, packed, { pads: [1, 1, 1] }), 'E_SHAPE', /pads must have 4 values/);
    err(() => ops.conv2d(x, packed, { pads: [1, -1, 1, 1] }), 'E_RANGE', /pads\[1\]/);
    err(() => ops.conv2d(x, packed, { strides: [0, 1] }), 'E_RANGE', /strides\[0\]/);
    err(() => ops.conv2d(x, packed, { dilations: [1, 1.5] }), 'E_RANGE', /dilations\[1\]/);
    err(() => ops.conv2d(x, packed, { activation: 'gelu' as never }), 'E_ARG', /activation/);
    err(() => ops.conv2d(x, packed, { activation: { kind: 'clip', min: 2, max: 1 } }), 'E_RANGE', /min 2 is above max 1/);
    err(() => ops.conv2d(x, {} as never), 'E_ARG', /PackedConv2d/);
    err(() => ops.conv2dInto(x, packed, Tensor.zeros('float32', [1, 3, 3, 7])), 'E_SHAPE', /out is \[1, 3, 3, 7\], expected \[1, 3, 3, 8\]/);
    err(() => ops.convTranspose(randomTensor(rng, [1, 2, 2, 3]), ops.packConvTranspose(randomTensor(rng, [3, 2, 2, 2]), null),
      { strides: [2, 2], outputPadding: [2, 0] }), 'E_RANGE', /outputPadding/);
    const gm = ops.packGemmF32(randomTensor(rng, [4, 5]));
    err(() => ops.gemmF32(randomTensor(rng, [3, 5]), gm), 'E_SHAPE', /last axis must be K = 4/);
    err(() => ops.matmulF32(randomTensor(rng, [3, 5]), randomTensor(rng, [4, 2])), 'E_SHAPE', /inner dimensions 5 and 4 differ/);
  });

  it('an empty batch gives an empty output', () => {
    const y = ops.conv2d(Tensor.zeros('float32', [0, 5, 5, 4]), packed, { pads: [1, 1, 1, 1] });
    assert.deepEqual(y.shape, [0, 5, 5, 8]);
    assert.deepEqual(ops.gemmF32(Tensor.zeros('float32', [0, 4]), ops.packGemmF32(randomTensor(rng, [4, 5]))).shape, [0, 5]);
  });

  it('the addon rejects what bypasses the JS checks', () => {
    // Direct native calls (what lib/ops guards): wrong lengths, wrong counts, bad activation.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { native } = require('../lib/native') as typeof import('../lib/native');
    const out = new Float32Array(8 * 9);
    err(() => native.convF32(packed.handle, new Float32Array(99), 1, 5, 5, [0, 0, 0, 0], [1, 1], [1, 1], 'none', [0, 0], out), 'E_SHAPE', /x has 99 elements/);
    err(() => native.convF32(packed.handle, x.data as Float32Array, 1, 5, 5, [0, 0, 0, 0], [1, 1], [1, 1], 'none', [0, 0], new Float32Array(5)), 'E_SHAPE', /out has 5 elements/);
    err(() => native.convF32(packed.handle, x.data as Float32Array, 1, 5, 5, [0, 0, 0], [1, 1], [1, 1], 'none', [0, 0], out), 'E_SHAPE', /pads must have 4/);
    err(() => native.convF32(packed.handle, x.data as Float32Array, 1, 5, 5, [0, 0, 0, 0], [1, 1], [1, 1], 'clip', [1, NaN], out), 'E_RANGE', /NaN/);
    err(() => native.convF32(packed.handle, x.data as Float32Array, 1, 5, 5, [0, 0, 0, 0], [1, 1], [1, 1], 'swish' as never, [0, 0], out), 'E_ARG', /activation/);
    err(() => (native.convF32 as (...a: unknown[]) => void)(packed.handle, x.data), 'E_ARG', /expected 11 arguments/);
    err(() => new native.PackedConvF32(new Float32Array(10), 8, 4, 3, 3, 1, null), 'E_SHAPE', /weights has 10 elements/);
    err(() => native.convF32(packed.handle, x.data as Float32Array, 1, 5, 5, [0, 0, 0, 0], [1, 1], [1, 1], 'none', [0, 0], x.data as Float32Array), 'E_SHAPE', /out has 100 elements/);
  });

  it('weights packed for another path fail with E_ISA after cpu.setIsa', function () {
    const available = cpu.available();
    const original = cpu.isa;
    const other = available.find((i) => i !== original && (i === 'ref' || (original === 'ref')));
    if (other === undefined) this.skip();
    const p = ops.packConv2d(w, null);
    try {
      cpu.setIsa(other!);
      err(() => ops.conv2d(x, p), 'E_ISA', /pack it again/);
    } finally {
      cpu.setIsa(original);
    }
  });
});
