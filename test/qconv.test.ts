// Int8 convolution (lib/ops/qconv.ts) against onnxruntime-node's QLinearConv and
// ConvInteger, bit for bit, on every kernel path this machine has: depthwise,
// grouped, 1x1, strided, dilated, asymmetric pads, extreme values. Also the
// NHWC API against a JavaScript reference, record mode through a Program, and
// LowbitErrors for bad input.
import { strict as assert } from 'node:assert';
import { cpu, IsaName, LowbitError, ops, Tensor } from '../lib';
import { native } from '../lib/native';
import { buildModel } from './helpers/onnx-builder';
import { createSession, runOrt } from './helpers/ort';
import { Rng } from './helpers/random';

type I8 = 'int8' | 'uint8';
type Mode = 'random' | 'extreme' | 'mixed';

interface Case {
  n: number;
  c: number;
  m: number;
  h: number;
  w: number;
  k: [number, number];
  group: number;
  pads: [number, number, number, number];
  strides: [number, number];
  dilations: [number, number];
}

const CASES: Case[] = [
  { n: 1, c: 16, m: 16, h: 9, w: 9, k: [3, 3], group: 16, pads: [1, 1, 1, 1], strides: [1, 1], dilations: [1, 1] },
  { n: 2, c: 17, m: 17, h: 7, w: 11, k: [5, 5], group: 17, pads: [2, 2, 2, 2], strides: [2, 2], dilations: [1, 1] },
  { n: 1, c: 65, m: 65, h: 8, w: 6, k: [3, 3], group: 65, pads: [0, 1, 2, 1], strides: [1, 2], dilations: [2, 1] },
  { n: 1, c: 144, m: 144, h: 5, w: 5, k: [3, 3], group: 144, pads: [1, 1, 1, 1], strides: [1, 1], dilations: [1, 1] },
  { n: 1, c: 3, m: 3, h: 1, w: 1, k: [3, 3], group: 3, pads: [1, 1, 1, 1], strides: [1, 1], dilations: [1, 1] },
  { n: 1, c: 6, m: 4, h: 7, w: 5, k: [3, 3], group: 2, pads: [1, 0, 1, 2], strides: [1, 1], dilations: [1, 1] },
  { n: 1, c: 8, m: 16, h: 6, w: 6, k: [3, 3], group: 8, pads: [1, 1, 1, 1], strides: [2, 2], dilations: [1, 1] },
  { n: 2, c: 13, m: 7, h: 5, w: 3, k: [1, 1], group: 1, pads: [0, 0, 0, 0], strides: [1, 1], dilations: [1, 1] },
  { n: 1, c: 24, m: 40, h: 7, w: 7, k: [1, 1], group: 1, pads: [0, 0, 0, 0], strides: [2, 2], dilations: [1, 1] },
  { n: 1, c: 8, m: 17, h: 9, w: 7, k: [3, 3], group: 1, pads: [2, 0, 1, 1], strides: [2, 1], dilations: [1, 2] },
  { n: 1, c: 3, m: 8, h: 13, w: 17, k: [7, 7], group: 1, pads: [3, 3, 3, 3], strides: [2, 2], dilations: [1, 1] },
  { n: 1, c: 64, m: 33, h: 5, w: 4, k: [3, 1], group: 1, pads: [1, 0, 1, 0], strides: [1, 1], dilations: [1, 1] },
];

const describeCase = (c: Case) =>
  `n${c.n} c${c.c} m${c.m} ${c.h}x${c.w} k${c.k.join('x')} g${c.group} pads[${c.pads}] s[${c.strides}] d[${c.dilations}]`;

const isas = (): IsaName[] => cpu.available();
const code = (c: string, re?: RegExp) => (e: unknown) => e instanceof LowbitError && e.code === c && (re === undefined || re.test(e.message));

function outExtent(x: number, b: number, e: number, k: number, s: number, d: number): number {
  return Math.floor((x + b + e - d * (k - 1) - 1) / s) + 1;
}

function outShape(c: Case): [number, number] {
  return [outExtent(c.h, c.pads[0], c.pads[2], c.k[0], c.strides[0], c.dilations[0]),
    outExtent(c.w, c.pads[1], c.pads[3], c.k[1], c.strides[1], c.dilations[1])];
}

/** NCHW <-> NHWC for the tests' own checks. */
function toNhwc(t: Tensor): Tensor {
  const [n, c, h, w] = t.shape;
  const src = t.data as ArrayLike<number>;
  const out = Array.from({ length: t.size }, (_, i) => {
    const ch = i % c, p = Math.floor(i / c), x = p % w, y = Math.floor(p / w) % h, b = Math.floor(p / (w * h));
    return src[((b * c + ch) * h + y) * w + x];
  });
  return new Tensor(t.dtype, out, [n, h, w, c]);
}

/** The formula itself, NHWC, in JavaScript: int32 accumulators (exact for these sizes). */
function referenceConv(x: Tensor, w: Tensor, group: number, xZp: number, wZp: number[], c: Omit<Case, 'n' | 'c' | 'm' | 'h' | 'w' | 'k' | 'group'>): Int32Array {
  const [n, h, wd, cin] = x.shape;
  const [m, cg, kh, kw] = w.shape;
  const oh = outExtent(h, c.pads[0], c.pads[2], kh, c.strides[0], c.dilations[0]);
  const ow = outExtent(wd, c.pads[1], c.pads[3], kw, c.strides[1], c.dilations[1]);
  const mg = m / group;
  const xd = x.data as ArrayLike<number>, wdta = w.data as ArrayLike<number>;
  const out = new Int32Array(n * oh * ow * m);
  let i = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let oc = 0; oc < m; oc++, i++) {
          const g = Math.floor(oc / mg), zw = wZp.length === 1 ? wZp[0] : wZp[oc];
          let acc = 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * c.strides[0] - c.pads[0] + ky * c.dilations[0];
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * c.strides[1] - c.pads[1] + kx * c.dilations[1];
              if (ix < 0 || ix >= wd) continue;
              for (let ci = 0; ci < cg; ci++) {
                acc += (xd[((b * h + iy) * wd + ix) * cin + g * cg + ci] - xZp) * (wdta[((oc * cg + ci) * kh + ky) * kw + kx] - zw);
              }
            }
          }
          out[i] = acc;
        }
      }
    }
  }
  return out;
}

function assertSame(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < got.length; i++) {
    if (got[i] !== want[i]) assert.fail(`${what}: y[${i}] = ${got[i]}, expected ${want[i]}`);
  }
}

interface QCase {
  x: Tensor; xs: Tensor; xz: Tensor; w: Tensor; ws: Tensor; wz: Tensor; ys: Tensor; yz: Tensor; b?: Tensor;
}

function qlinearInputs(rng: Rng, c: Case, tx: I8, tw: I8, perChannel: boolean, withBias: boolean, mode: Mode,
                       symmetric = false): QCase {
  const cg = c.c / c.group, k = cg * c.k[0] * c.k[1];
  const x = new Tensor(tx, rng.bytes(c.n * c.c * c.h * c.w, tx === 'int8', mode), [c.n, c.c, c.h, c.w]);
  const w = new Tensor(tw, rng.bytes(c.m * k, tw === 'int8', mode), [c.m, cg, ...c.k]);
  const xs = new Tensor('float32', rng.floats(1, 0.005, 0.05), []);
  const ws = new Tensor('float32', rng.floats(perChannel ? c.m : 1, 0.001, 0.02), perChannel ? [c.m] : []);
  // Typical outputs inside the 8-bit range, some saturating.
  const ys = new Tensor('float32', [xs.data[0] * 0.01 * Math.sqrt(k) * 128 * (0.2 + rng.next())], []);
  const xz = new Tensor(tx, rng.bytes(1, tx === 'int8', 'mixed'), []);
  const wz = new Tensor(tw, symmetric ? new Array<number>(perChannel ? c.m : 1).fill(0) : rng.bytes(perChannel ? c.m : 1, tw === 'int8', 'mixed'),
    perChannel ? [c.m] : []);
  const yz = new Tensor(tx, rng.bytes(1, tx === 'int8'), []);
  const b = withBias ? new Tensor('int32', Int32Array.from({ length: c.m }, () => rng.int(-20000, 20000)), [c.m]) : undefined;
  return { x, xs, xz, w, ws, wz, ys, yz, b };
}

function qlinearModel(c: Case, q: QCase, autoPad?: string): Uint8Array {
  const [oh, ow] = outShape(c);
  const attributes: Record<string, number | number[] | string> = { group: c.group, strides: c.strides, dilations: c.dilations, kernel_shape: c.k };
  if (autoPad === undefined) attributes.pads = c.pads;
  else attributes.auto_pad = autoPad;
  return buildModel({
    nodes: [{ op: 'QLinearConv', inputs: ['x', 'xs', 'xz', 'w', 'ws', 'wz', 'ys', 'yz', ...(q.b ? ['b'] : [])], outputs: ['y'], attributes }],
    inputs: [{ name: 'x', dtype: q.x.dtype, shape: [c.n, c.c, c.h, c.w] }],
    outputs: [{ name: 'y', dtype: q.yz.dtype, shape: autoPad ? ['N', 'M', 'OH', 'OW'] : [c.n, c.m, oh, ow] }],
    initializers: { xs: q.xs, xz: q.xz, w: q.w, ws: q.ws, wz: q.wz, ys: q.ys, yz: q.yz, ...(q.b ? { b: q.b } : {}) },
  });
}

describe('qlinearConv vs onnxruntime-node QLinearConv', function () {
  this.timeout(120000);
  const original = cpu.isa;
  after(() => cpu.setIsa(original));

  // onnxruntime has no QLinearConv kernel for int8 x with uint8 w (checked against the JS reference below).
  const combos: [I8, I8][] = [['uint8', 'int8'], ['uint8', 'uint8'], ['int8', 'int8']];
  for (const [tx, tw] of combos) {
    it(`x ${tx}, w ${tw}: depthwise, grouped, 1x1, strided, dilated, every path`, async function () {
      const rng = new Rng(tx.length * 31 + tw.length * 7);
      for (const [i, c] of CASES.entries()) {
        const perChannel = i % 2 === 0;
        const mode = (['random', 'extreme', 'mixed'] as const)[i % 3];
        const q = qlinearInputs(rng, c, tx, tw, perChannel, i % 4 !== 3, mode);
        const session = await createSession(qlinearModel(c, q));
        const want = (await runOrt(session, { x: q.x })).y;
        await session.release();
        for (const isa of isas()) {
          cpu.setIsa(isa);
          const attrs = { group: c.group, pads: c.pads, strides: c.strides, dilations: c.dilations };
          const got = ops.qlinearConvNchw(q.x, q.xs, q.xz, q.w, q.ws, q.wz, q.ys, q.yz, q.b, attrs);
          assert.deepEqual([...got.shape], [...want.dims]);
          assert.equal(got.dtype, tx);
          assertSame(got.data, want.data as Uint8Array, `${isa} ${tx}/${tw} ${describeCase(c)} ${mode}${perChannel ? ' per-channel' : ''}`);
          // The NHWC API with packed weights gives the same values.
          const packed = ops.packConvInt8(q.w, { groups: c.group, wZeroPoint: q.wz });
          assert.equal(packed.depthwise, c.group === c.c && c.m === c.c);
          const nhwc = ops.qlinearConv(toNhwc(q.x), q.xs, q.xz, packed, q.ws, undefined, q.ys, q.yz, q.b,
            { pads: c.pads, strides: c.strides, dilations: c.dilations });
          assertSame(nhwc.data, toNhwc(new Tensor(want.type as I8, want.data as Uint8Array, [...want.dims])).data, `${isa} NHWC ${describeCase(c)}`);
        }
      }
    });
  }

  it('symmetric int8 weights (zero point 0, the usual QDQ form), every path', async function () {
    // Kernels may pack weights that fit int8 after the zero point differently.
    const rng = new Rng(4242);
    const layers: Case[] = [...CASES,
      { n: 1, c: 144, m: 144, h: 56, w: 56, k: [3, 3], group: 144, pads: [1, 1, 1, 1], strides: [1, 1], dilations: [1, 1] },
      { n: 1, c: 88, m: 88, h: 6, w: 24, k: [5, 5], group: 88, pads: [2, 2, 2, 2], strides: [2, 1], dilations: [1, 1] },
      { n: 2, c: 200, m: 200, h: 3, w: 12, k: [5, 5], group: 200, pads: [2, 2, 2, 2], strides: [1, 1], dilations: [1, 1] },
      { n: 1, c: 64, m: 64, h: 7, w: 9, k: [3, 3], group: 64, pads: [0, 1, 1, 0], strides: [2, 1], dilations: [1, 1] }];
    for (const [tx, tw] of [['uint8', 'int8'], ['int8', 'int8']] as [I8, I8][]) {
      for (const [i, c] of layers.entries()) {
        const q = qlinearInputs(rng, c, tx, tw, true, i % 3 !== 2, (['random', 'mixed'] as const)[i % 2], true);
        const session = await createSession(qlinearModel(c, q));
        const want = (await runOrt(session, { x: q.x })).y;
        await session.release();
        for (const isa of isas()) {
          cpu.setIsa(isa);
          const attrs = { group: c.group, pads: c.pads, strides: c.strides, dilations: c.dilations };
          const got = ops.qlinearConvNchw(q.x, q.xs, q.xz, q.w, q.ws, q.wz, q.ys, q.yz, q.b, attrs);
          assertSame(got.data, want.data as Uint8Array, `${isa} ${tx}/${tw} symmetric ${describeCase(c)}`);
        }
      }
    }
  });

  it('auto_pad SAME_UPPER / SAME_LOWER / VALID like onnxruntime', async function () {
    const rng = new Rng(77);
    const base: Case = { n: 1, c: 12, m: 12, h: 8, w: 10, k: [3, 3], group: 12, pads: [0, 0, 0, 0], strides: [2, 2], dilations: [1, 1] };
    for (const autoPad of ['SAME_UPPER', 'SAME_LOWER', 'VALID'] as const) {
      for (const c of [base, { ...base, m: 6, group: 2, k: [4, 2] as [number, number] }]) {
        const q = qlinearInputs(rng, c, 'uint8', 'int8', true, true, 'random');
        const session = await createSession(qlinearModel(c, q, autoPad));
        const want = (await runOrt(session, { x: q.x })).y;
        await session.release();
        const got = ops.qlinearConvNchw(q.x, q.xs, q.xz, q.w, q.ws, q.wz, q.ys, q.yz, q.b,
          { group: c.group, strides: c.strides, auto_pad: autoPad });
        assert.deepEqual([...got.shape], [...want.dims], autoPad);
        assertSame(got.data, want.data as Uint8Array, `${autoPad} ${describeCase(c)}`);
      }
    }
  });

  it('1-D QLinearConv (NCL) like onnxruntime', async function () {
    const rng = new Rng(5);
    const x = new Tensor('uint8', rng.bytes(2 * 6 * 20, false), [2, 6, 20]);
    const w = new Tensor('int8', rng.bytes(6 * 3 * 5, true), [6, 3, 5]);
    const init = {
      xs: new Tensor('float32', [0.02], []), xz: new Tensor('uint8', [120], []), w,
      ws: new Tensor('float32', [0.01], []), wz: new Tensor('int8', [0], []),
      ys: new Tensor('float32', [0.1], []), yz: new Tensor('uint8', [128], []),
    };
    const model = buildModel({
      nodes: [{ op: 'QLinearConv', inputs: ['x', 'xs', 'xz', 'w', 'ws', 'wz', 'ys', 'yz'], outputs: ['y'], attributes: { group: 2, pads: [2, 1], strides: [2], dilations: [1] } }],
      inputs: [{ name: 'x', dtype: 'uint8', shape: [2, 6, 20] }],
      outputs: [{ name: 'y', dtype: 'uint8', shape: ['N', 'M', 'L'] }],
      initializers: init,
    });
    const session = await createSession(model);
    const want = (await runOrt(session, { x })).y;
    const got = ops.qlinearConvNchw(x, init.xs, init.xz, w, init.ws, init.wz, init.ys, init.yz, undefined, { group: 2, pads: [2, 1], strides: [2] });
    assert.deepEqual([...got.shape], [...want.dims]);
    assertSame(got.data, want.data as Uint8Array, '1-D');
  });

  it('int8 x with uint8 w (which onnxruntime lacks) matches the JavaScript reference', function () {
    const rng = new Rng(9);
    for (const c of CASES.slice(0, 8)) {
      const q = qlinearInputs(rng, c, 'int8', 'uint8', true, true, 'mixed');
      const nhwc = toNhwc(q.x);
      const acc = referenceConv(nhwc, q.w, c.group, q.xz.data[0], Array.from(q.wz.data as Uint8Array), c);
      const scale = Array.from(q.ws.data as Float32Array, (s) => Math.fround(Math.fround(q.xs.data[0] as number * s) / (q.ys.data[0] as number)));
      const want = ops.requantize(new Tensor('int32', acc, [acc.length / c.m, c.m]), {
        scale, zeroPoint: q.yz.data[0] as number, outType: 'int8', bias: q.b,
      });
      for (const isa of isas()) {
        cpu.setIsa(isa);
        const got = ops.qlinearConv(nhwc, q.xs, q.xz, q.w, q.ws, q.wz, q.ys, q.yz, q.b,
          { groups: c.group, pads: c.pads, strides: c.strides, dilations: c.dilations });
        assertSame(got.data, want.data, `${isa} ${describeCase(c)}`);
      }
    }
  });
});

describe('convInteger vs onnxruntime-node ConvInteger', function () {
  this.timeout(120000);
  const original = cpu.isa;
  after(() => cpu.setIsa(original));

  const combos: [I8, I8][] = [['uint8', 'int8'], ['uint8', 'uint8'], ['int8', 'int8'], ['int8', 'uint8']];
  for (const [tx, tw] of combos) {
    it(`x ${tx}, w ${tw}, every path`, async function () {
      const rng = new Rng(tx.length * 3 + tw.length * 11);
      for (const [i, c] of CASES.entries()) {
        const mode = (['random', 'extreme', 'mixed'] as const)[i % 3];
        const cg = c.c / c.group;
        const x = new Tensor(tx, rng.bytes(c.n * c.c * c.h * c.w, tx === 'int8', mode), [c.n, c.c, c.h, c.w]);
        const w = new Tensor(tw, rng.bytes(c.m * cg * c.k[0] * c.k[1], tw === 'int8', mode), [c.m, cg, ...c.k]);
        const xz = new Tensor(tx, rng.bytes(1, tx === 'int8', 'mixed'), []);
        // onnxruntime's ConvInteger takes a per-tensor weight zero point only.
        const wz = new Tensor(tw, rng.bytes(1, tw === 'int8', 'mixed'), []);
        const [oh, ow] = outShape(c);
        const model = buildModel({
          nodes: [{ op: 'ConvInteger', inputs: ['x', 'w', 'xz', 'wz'], outputs: ['y'], attributes: { group: c.group, pads: c.pads, strides: c.strides, dilations: c.dilations } }],
          inputs: [{ name: 'x', dtype: tx, shape: [c.n, c.c, c.h, c.w] }],
          outputs: [{ name: 'y', dtype: 'int32', shape: [c.n, c.m, oh, ow] }],
          initializers: { w, xz, wz },
        });
        const session = await createSession(model);
        const want = (await runOrt(session, { x })).y;
        await session.release();
        for (const isa of isas()) {
          cpu.setIsa(isa);
          const got = ops.convIntegerNchw(x, w, xz, wz, { group: c.group, pads: c.pads, strides: c.strides, dilations: c.dilations });
          assert.deepEqual([...got.shape], [...want.dims]);
          assertSame(got.data, want.data as Int32Array, `${isa} ${tx}/${tw} ${describeCase(c)} ${mode}`);
        }
      }
    });
  }

  it('per-channel weight zero points (which onnxruntime lacks) match the JavaScript reference', function () {
    const rng = new Rng(21);
    for (const c of CASES) {
      for (const [tx, tw] of [['uint8', 'uint8'], ['int8', 'int8']] as [I8, I8][]) {
        const cg = c.c / c.group;
        const x = new Tensor(tx, rng.bytes(c.n * c.h * c.w * c.c, tx === 'int8', 'mixed'), [c.n, c.h, c.w, c.c]);
        const w = new Tensor(tw, rng.bytes(c.m * cg * c.k[0] * c.k[1], tw === 'int8', 'mixed'), [c.m, cg, ...c.k]);
        const wz = rng.bytes(c.m, tw === 'int8', 'mixed');
        const xz = rng.bytes(1, tx === 'int8', 'mixed')[0];
        const want = referenceConv(x, w, c.group, xz, wz, c);
        for (const isa of isas()) {
          cpu.setIsa(isa);
          const got = ops.convInteger(x, w, { groups: c.group, xZeroPoint: xz, wZeroPoint: wz, pads: c.pads, strides: c.strides, dilations: c.dilations });
          assertSame(got.data, want, `${isa} ${tx}/${tw} ${describeCase(c)}`);
        }
      }
    }
  });
});

describe('convInt8Into', function () {
  const original = cpu.isa;
  afterEach(() => cpu.setIsa(original));

  it('fixedpoint mode and a fused clamp agree with requantize() of the int32 result', function () {
    const rng = new Rng(3);
    for (const c of [CASES[0], CASES[5], CASES[7], CASES[9]]) {
      const x = new Tensor('uint8', rng.bytes(c.n * c.h * c.w * c.c, false), [c.n, c.h, c.w, c.c]);
      const w = new Tensor('int8', rng.bytes(c.m * (c.c / c.group) * c.k[0] * c.k[1], true), [c.m, c.c / c.group, ...c.k]);
      const packed = ops.packConvInt8(w, { groups: c.group });
      const geo = { pads: c.pads, strides: c.strides, dilations: c.dilations, xZeroPoint: 131 };
      const [oh, ow] = outShape(c);
      const acc = Tensor.zeros('int32', [c.n, oh, ow, c.m]);
      ops.convInt8Into(x, packed, acc, geo);
      const scale = Array.from({ length: c.m }, () => 0.0005 + rng.next() * 0.003);
      const bias = Int32Array.from({ length: c.m }, () => rng.int(-5000, 5000));
      for (const mode of ['fp32', 'fixedpoint'] as const) {
        for (const [min, max] of [[undefined, undefined], [7, 200]] as const) {
          const options = { mode, scale, bias, zeroPoint: 7, outType: 'uint8' as const, min, max };
          const want = ops.requantize(acc, options);
          const out = Tensor.zeros('uint8', [c.n, oh, ow, c.m]);
          ops.convInt8Into(x, packed, out, { ...geo, stage: new ops.OutputStage(options) });
          assertSame(out.data, want.data, `${mode} [${min}, ${max}] ${describeCase(c)}`);
        }
      }
    }
  });

  it('records into a Program: runSync and run give the immediate result (depthwise and GEMM)', async function () {
    const rng = new Rng(11);
    const layers: [Case, I8][] = [[CASES[1], 'uint8'], [CASES[9], 'int8'], [CASES[7], 'uint8'], [CASES[5], 'int8']];
    for (const [c, tx] of layers) {
      const x = new Tensor(tx, rng.bytes(c.n * c.h * c.w * c.c, tx === 'int8'), [c.n, c.h, c.w, c.c]);
      const w = new Tensor('int8', rng.bytes(c.m * (c.c / c.group) * c.k[0] * c.k[1], true), [c.m, c.c / c.group, ...c.k]);
      const packed = ops.packConvInt8(w, { groups: c.group, wZeroPoint: 3 });
      const stage = new ops.OutputStage({ scale: Array.from({ length: c.m }, (_, i) => 0.001 + i * 1e-5), zeroPoint: -5, outType: 'int8', bias: new Int32Array(c.m).fill(77) });
      const shape = ops.convInt8OutputShape(x.shape, packed, c);
      const options = { pads: c.pads, strides: c.strides, dilations: c.dilations, xZeroPoint: tx === 'int8' ? -3 : 100, stage };
      const want = Tensor.zeros('int8', shape);
      ops.convInt8Into(x, packed, want, options);

      const outOffset = 64 * Math.ceil(x.size / 64);
      const size = shape.reduce((a, b) => a * b, 1);
      const program = new ops.Program(outOffset + size);
      ops.convInt8Into({ dtype: tx, shape: x.shape, ref: 0 }, packed, { dtype: 'int8', shape, ref: outOffset }, options, program);
      // An input that is a program constant.
      const constant = program.constant(x);
      const program2Out = outOffset + size;
      assert.equal(program.stepCount, 1);
      assert.deepEqual(program.labels(), [packed.depthwise ? 'conv_s8_depthwise' : 'conv_s8']);
      const out1 = new Int8Array(size), out2 = new Int8Array(size);
      program.runSync([x.data], [0], [out1], [outOffset]);
      assertSame(out1, want.data, `runSync ${describeCase(c)}`);
      await program.run([x.data], [0], [out2], [outOffset]);
      assertSame(out2, want.data, `run ${describeCase(c)}`);
      const p2 = new ops.Program(program2Out);
      ops.convInt8Into(p2.constant(x), packed, { dtype: 'int8', shape, ref: 0 }, options, p2);
      const out3 = new Int8Array(size);
      p2.runSync([], [], [out3], [0]);
      assertSame(out3, want.data, `constant input ${describeCase(c)}`);
      assert.ok(constant.ref < 0);
    }
  });

  it('large programs run on a worker thread, concurrently, with identical results', async function () {
    const rng = new Rng(12);
    const x = new Tensor('uint8', rng.bytes(56 * 56 * 144, false), [1, 56, 56, 144]);
    const w = new Tensor('int8', rng.bytes(144 * 9, true), [144, 1, 3, 3]);
    const packed = ops.packConvInt8(w, { groups: 144 });
    const stage = new ops.OutputStage({ scale: 0.002, zeroPoint: 128 });
    const options = { pads: [1, 1, 1, 1], xZeroPoint: 128, stage };
    const want = Tensor.zeros('uint8', [1, 56, 56, 144]);
    ops.convInt8Into(x, packed, want, options);
    const program = new ops.Program(2 * x.size);
    ops.convInt8Into({ dtype: 'uint8', shape: x.shape, ref: 0 }, packed, { dtype: 'uint8', shape: want.shape, ref: x.size }, options, program);
    assert.ok(program.cost > 2e5);
    const outs = Array.from({ length: 4 }, () => new Uint8Array(x.size));
    await Promise.all(outs.map((o) => program.run([x.data], [0], [o], [x.size])));
    for (const o of outs) assertSame(o, want.data, 'concurrent run');
  });

  it('threads do not change the result', function () {
    const rng = new Rng(13);
    const threads = cpu.threads;
    try {
      for (const [shape, wShape, groups] of [[[1, 40, 40, 64], [64, 1, 3, 3], 64], [[1, 30, 30, 32], [48, 32, 3, 3], 1], [[1, 28, 28, 96], [96, 96, 1, 1], 1]] as const) {
        const size = (s: readonly number[]) => s.reduce((a: number, b: number) => a * b, 1);
        const x = new Tensor('uint8', rng.bytes(size(shape), false), shape);
        const w = new Tensor('int8', rng.bytes(size(wShape), true), wShape);
        const packed = ops.packConvInt8(w, { groups });
        cpu.setThreads(1);
        const one = ops.convInteger(x, packed, { pads: wShape[2] === 3 ? [1, 1, 1, 1] : [0, 0, 0, 0], xZeroPoint: 9 });
        cpu.setThreads(2);
        const two = ops.convInteger(x, packed, { pads: wShape[2] === 3 ? [1, 1, 1, 1] : [0, 0, 0, 0], xZeroPoint: 9 });
        assertSame(two.data, one.data, `threads ${shape}`);
      }
    } finally {
      cpu.setThreads(threads);
    }
  });
});

describe('int8 convolution errors', function () {
  const x = new Tensor('uint8', new Uint8Array(2 * 5 * 5 * 4), [2, 5, 5, 4]);
  const w = new Tensor('int8', new Int8Array(8 * 4 * 9), [8, 4, 3, 3]);

  it('packConvInt8 checks weights, groups and zero points', function () {
    assert.throws(() => ops.packConvInt8({} as never), code('E_ARG', /w must be a Tensor/));
    assert.throws(() => ops.packConvInt8(new Tensor('float32', new Float32Array(9), [1, 1, 3, 3])), code('E_DTYPE', /int8 or uint8/));
    assert.throws(() => ops.packConvInt8(new Tensor('int8', new Int8Array(9), [1, 3, 3])), code('E_SHAPE', /4-D/));
    assert.throws(() => ops.packConvInt8(new Tensor('int8', new Int8Array(0), [0, 1, 3, 3])), code('E_SHAPE', /empty/));
    assert.throws(() => ops.packConvInt8(w, { groups: 3 }), code('E_SHAPE', /multiple of groups/));
    assert.throws(() => ops.packConvInt8(w, { groups: 0 }), code('E_RANGE', /groups/));
    assert.throws(() => ops.packConvInt8(w, { wZeroPoint: 200 }), code('E_RANGE', /wZeroPoint/));
    assert.throws(() => ops.packConvInt8(w, { wZeroPoint: [1, 2, 3] }), code('E_SHAPE', /wZeroPoint/));
    assert.throws(() => ops.packConvInt8(w, null as never), code('E_ARG'));
  });

  it('convInt8Into checks shapes, types, geometry and the output stage', function () {
    const packed = ops.packConvInt8(w);
    const out = Tensor.zeros('int32', [2, 5, 5, 8]);
    const pads = [1, 1, 1, 1];
    ops.convInt8Into(x, packed, out, { pads });
    assert.throws(() => ops.convInt8Into(x, {} as never, out, { pads }), code('E_ARG', /PackedConvInt8/));
    assert.throws(() => ops.convInt8Into(new Tensor('uint8', new Uint8Array(75), [1, 5, 5, 3]), packed, out, { pads }), code('E_SHAPE', /channels/));
    assert.throws(() => ops.convInt8Into(new Tensor('uint8', new Uint8Array(100), [4, 5, 5]), packed, out, { pads }), code('E_SHAPE', /4-D NHWC/));
    assert.throws(() => ops.convInt8Into(new Tensor('float32', new Float32Array(200), [2, 5, 5, 4]), packed, out, { pads }), code('E_DTYPE', /x must be uint8 or int8/));
    assert.throws(() => ops.convInt8Into(new Tensor('uint8', new Uint8Array(8), [2, 1, 1, 4]), packed, Tensor.zeros('int32', [2, 1, 1, 8])), code('E_SHAPE', /does not fit/));
    assert.throws(() => ops.convInt8Into(x, packed, out, { pads: [1, 1] }), code('E_SHAPE', /pads must have 4 values/));
    assert.throws(() => ops.convInt8Into(x, packed, out, { pads: [1, -1, 1, 1] }), code('E_RANGE', /pads\[1\]/));
    assert.throws(() => ops.convInt8Into(x, packed, out, { pads, strides: [0, 1] }), code('E_RANGE', /strides\[0\]/));
    assert.throws(() => ops.convInt8Into(x, packed, out, { pads, dilations: [1, 1.5] }), code('E_RANGE', /dilations\[1\]/));
    assert.throws(() => ops.convInt8Into(x, packed, out, { pads, xZeroPoint: 256 }), code('E_RANGE', /xZeroPoint/));
    assert.throws(() => ops.convInt8Into(x, packed, Tensor.zeros('int32', [2, 3, 3, 8]), { pads }), code('E_SHAPE', /out is \[2, 3, 3, 8\]/));
    assert.throws(() => ops.convInt8Into(x, packed, Tensor.zeros('uint8', [2, 5, 5, 8]), { pads }), code('E_DTYPE', /out must be int32/));
    const stage = new ops.OutputStage({ scale: [1, 2, 3], outType: 'int8' });
    assert.throws(() => ops.convInt8Into(x, packed, Tensor.zeros('int8', [2, 5, 5, 8]), { pads, stage }), code('E_SHAPE', /3 channels/));
    const stage8 = new ops.OutputStage({ scale: 0.1, outType: 'int8' });
    assert.throws(() => ops.convInt8Into(x, packed, Tensor.zeros('uint8', [2, 5, 5, 8]), { pads, stage: stage8 }), code('E_DTYPE', /int8/));
    assert.throws(() => ops.convInt8Into(x, packed, out, { pads, stage: {} as never }), code('E_ARG', /OutputStage/));
    const shared = new Uint8Array(400);
    assert.throws(() => ops.convInt8Into(new Tensor('uint8', shared.subarray(0, 200), [2, 5, 5, 4]), ops.packConvInt8(new Tensor('int8', new Int8Array(4 * 4 * 9), [4, 4, 3, 3])),
      new Tensor('uint8', shared.subarray(100, 300), [2, 5, 5, 4]), { pads, stage: new ops.OutputStage({ scale: 1 }) }), code('E_ARG', /shares memory/));
  });

  it('qlinearConv / convInteger / the NCHW forms check their parameters', function () {
    assert.throws(() => ops.qlinearConv(x, 0.1, 0, w, [0.1, 0.2], 0, 0.5, 0), code('E_SHAPE', /wScale/));
    assert.throws(() => ops.qlinearConv(x, -1, 0, w, 0.1, 0, 0.5, 0), code('E_RANGE', /xScale/));
    assert.throws(() => ops.qlinearConv(x, 0.1, 0, w, 0.1, 0, 0.5, 0, [1, 2, 3]), code('E_SHAPE', /bias has 3 values/));
    assert.throws(() => ops.qlinearConv(x, 0.1, 0, w, 0.1, 0, 0.5, 0, new Tensor('float32', new Float32Array(8))), code('E_DTYPE', /bias/));
    assert.throws(() => ops.qlinearConv(x, 0.1, 0, ops.packConvInt8(w, { wZeroPoint: 1 }), 0.1, 2, 0.5, 0), code('E_ARG', /wZeroPoint differs/));
    assert.throws(() => ops.qlinearConv(x, 0.1, 0, ops.packConvInt8(w), 0.1, 0, 0.5, 0, undefined, { groups: 2 }), code('E_ARG', /groups/));
    assert.throws(() => ops.convInteger(x, w, { out: Tensor.zeros('int32', [1]) }), code('E_SHAPE', /options.out/));
    assert.throws(() => ops.convInteger(x, w, { xZeroPoint: -1 }), code('E_RANGE', /xZeroPoint/));
    const xn = new Tensor('uint8', new Uint8Array(4 * 25), [1, 4, 5, 5]);
    assert.throws(() => ops.convIntegerNchw(xn, w, 0, 0, { pads: [1, 1, 1, 1], auto_pad: 'SAME_UPPER' }), code('E_ARG', /auto_pad/));
    assert.throws(() => ops.convIntegerNchw(xn, w, 0, 0, { auto_pad: 'SAME' as never }), code('E_ARG', /auto_pad/));
    assert.throws(() => ops.convIntegerNchw(xn, w, 0, 0, { group: 2 }), code('E_SHAPE', /channels/));
    assert.throws(() => ops.convIntegerNchw(xn, w, 0, 0, { kernel_shape: [5, 5] }), code('E_SHAPE', /kernel_shape/));
    assert.throws(() => ops.convIntegerNchw(new Tensor('uint8', new Uint8Array(4), [4]), w), code('E_SHAPE', /NCHW/));
  });

  it('the addon checks every argument itself', function () {
    const wd = new Int8Array(8 * 4 * 9);
    const ok = new native.PackedConvS8(wd, 8, 4, 3, 3, 1, new Int32Array(0));
    assert.deepEqual([ok.m, ok.cg, ok.kh, ok.kw, ok.groups, ok.depthwise], [8, 4, 3, 3, 1, false]);
    assert.ok(ok.byteLength >= 8 * 4 * 9);
    assert.throws(() => new native.PackedConvS8(wd.subarray(1), 8, 4, 3, 3, 1, new Int32Array(0)), code('E_SHAPE', /w has/));
    assert.throws(() => new native.PackedConvS8(wd, 8, 4, 3, 3, 3, new Int32Array(0)), code('E_SHAPE', /multiple of groups/));
    assert.throws(() => new native.PackedConvS8(wd, 8, 4, 3, 3, 0, new Int32Array(0)), code('E_SHAPE', /positive/));
    assert.throws(() => new native.PackedConvS8(wd, 8, 4, 3, 3, 1, new Int32Array([1000])), code('E_RANGE', /wZeroPoint/));
    assert.throws(() => new native.PackedConvS8(wd, 2 ** 40, 2 ** 20, 3, 3, 1, new Int32Array(0)), code('E_SHAPE', /overflows/));
    assert.throws(() => new native.PackedConvS8(new Float32Array(288) as never, 8, 4, 3, 3, 1, new Int32Array(0)), code('E_DTYPE'));
    const packed = new native.PackedConvS8(wd, 8, 4, 3, 3, 1, new Int32Array(0));
    const geo = Int32Array.of(1, 1, 1, 1, 1, 1, 1, 1);
    const xs = new Uint8Array(2 * 5 * 5 * 4), out = new Int32Array(2 * 5 * 5 * 8);
    native.convS8(packed, xs, 2, 5, 5, 4, 0, geo, out, null);
    assert.throws(() => native.convS8(packed, xs.subarray(1), 2, 5, 5, 4, 0, geo, out, null), code('E_SHAPE', /x has/));
    assert.throws(() => native.convS8(packed, xs, 2, 5, 5, 3, 0, geo, out, null), code('E_SHAPE', /channels/));
    assert.throws(() => native.convS8(packed, xs, 2, 5, 5, 4, 0, geo.subarray(1), out, null), code('E_SHAPE', /geometry/));
    assert.throws(() => native.convS8(packed, xs, 2, 5, 5, 4, 0, Int32Array.of(1, 1, 1, 1, 0, 1, 1, 1), out, null), code('E_RANGE', /strideH/));
    assert.throws(() => native.convS8(packed, xs, 2, 5, 5, 4, 0, Int32Array.of(-1, 1, 1, 1, 1, 1, 1, 1), out, null), code('E_RANGE', /padTop/));
    assert.throws(() => native.convS8(packed, xs, 2, 5, 5, 4, 300, geo, out, null), code('E_RANGE', /xZeroPoint/));
    assert.throws(() => native.convS8(packed, xs, 2, 5, 5, 4, 0, geo, out.subarray(1), null), code('E_SHAPE', /out has/));
    assert.throws(() => native.convS8(packed, xs, 2, 5, 5, 4, 0, geo, new Uint8Array(400), null), code('E_DTYPE', /Int32Array/));
    assert.throws(() => native.convS8(packed, xs, 2, 5, 5, 4, 0, geo, out, {} as never), code('E_ARG', /Requantization/));
    assert.throws(() => native.convS8({} as never, xs, 2, 5, 5, 4, 0, geo, out, null), code('E_ARG', /PackedConvS8/));
    assert.throws(() => native.convS8(packed, xs, 2, 1, 1, 4, 0, Int32Array.of(0, 0, 0, 0, 1, 1, 1, 1), out, null), code('E_SHAPE', /does not fit/));
    assert.throws(() => native.convS8(packed, xs, 2 ** 40, 2 ** 20, 2 ** 20, 4, 0, geo, out, null), code('E_SHAPE', /overflows/));
    assert.throws(() => (native.convS8 as (...a: unknown[]) => void)(packed, xs, 2, 5, 5, 4, 0, geo, out), code('E_ARG', /expected 10 arguments/));
  });

  it('weights packed for another path are refused (E_ISA)', function () {
    const paths = cpu.available();
    if (paths.length < 2) this.skip();
    const original = cpu.isa;
    try {
      cpu.setIsa(paths[0]);
      const packed = ops.packConvInt8(w);
      assert.equal(packed.isa, paths[0]);
      cpu.setIsa(paths[paths.length - 1]);
      assert.throws(() => ops.convInteger(x, packed, { pads: [1, 1, 1, 1] }), code('E_ISA', /pack it again/));
    } finally {
      cpu.setIsa(original);
    }
  });

  it('recording checks slots against the arena', function () {
    const packed = ops.packConvInt8(w);
    const program = new ops.Program(100);
    assert.throws(() => ops.convInt8Into({ dtype: 'uint8', shape: x.shape, ref: 0 }, packed, { dtype: 'int32', shape: [2, 5, 5, 8], ref: 0 }, { pads: [1, 1, 1, 1] }, program),
      code('E_SHAPE', /arena/));
    assert.throws(() => ops.convInt8Into({ dtype: 'uint8', shape: x.shape, ref: -9 }, packed, { dtype: 'int32', shape: [2, 5, 5, 8], ref: 0 }, { pads: [1, 1, 1, 1] }, program),
      code('E_RANGE', /constant/));
    assert.throws(() => ops.convInt8Into({ dtype: 'uint8', shape: x.shape, ref: 0 }, packed, { dtype: 'int32', shape: [2, 5, 5, 8], ref: 0 }, { pads: [1, 1, 1, 1] }, {} as never),
      code('E_ARG', /Program/));
    assert.equal(program.stepCount, 0);
  });
});
