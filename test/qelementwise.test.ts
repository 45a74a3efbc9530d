// Quantized Add / Mul / GlobalAveragePool (com.microsoft QLinearAdd, QLinearMul,
// QLinearGlobalAveragePool): the ops equal a JavaScript reference of the
// stated semantics exactly on every ISA path and in a Program; QDQ groups in a
// model are fused into them (NHWC kept after an int8 convolution) and agree
// with onnxruntime-node within one quantization step, as do QOperator models.
import { strict as assert } from 'node:assert';
import { cpu, LowbitError, ops, Tensor } from '../lib';
import { exportModel } from '../lib/graph/export';
import { Graph, Node } from '../lib/graph/ir';
import { native } from '../lib/native';
import type { Slot } from '../lib/ops';
import { Session } from '../lib/runtime/session';
import { createSession, runOrt } from './helpers/ort';
import { Rng } from './helpers/random';

type B8 = 'int8' | 'uint8';
const f = Math.fround;

function rne(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function requant(t: number, zy: number, dtype: B8, lo?: number, hi?: number): number {
  const [tmin, tmax] = dtype === 'int8' ? [-128, 127] : [0, 255];
  const qlo = lo ?? tmin, qhi = hi ?? tmax;
  return Math.min(qhi - zy, Math.max(qlo - zy, t)) === t ? rne(t) + zy : rne(Math.min(qhi - zy, Math.max(qlo - zy, t))) + zy;
}

/** The header's formula, element by element, with numpy broadcasting. */
function refBinary(op: 'add' | 'mul', a: Tensor, b: Tensor, p: ops.QLinearBinaryParams, outType: B8): number[] {
  const rank = Math.max(a.rank, b.rank);
  const pad = (s: readonly number[]) => [...new Array<number>(rank - s.length).fill(1), ...s];
  const as = pad(a.shape), bs = pad(b.shape);
  const os = as.map((d, i) => Math.max(d, bs[i]));
  const count = os.reduce((x, y) => x * y, 1);
  const [sa, sb, sy] = [f(p.aScale), f(p.bScale), f(p.yScale)];
  const [za, zb, zy] = [p.aZeroPoint ?? 0, p.bZeroPoint ?? 0, p.yZeroPoint ?? 0];
  const fa = op === 'add' ? f(sa / sy) : f(f(sa * sb) / sy), fb = f(sb / sy);
  const ad = a.data as ArrayLike<number>, bd = b.data as ArrayLike<number>;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    let rem = i, ai = 0, bi = 0, am = 1, bm = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const k = rem % os[d];
      rem = Math.floor(rem / os[d]);
      ai += (as[d] === 1 ? 0 : k) * am;
      bi += (bs[d] === 1 ? 0 : k) * bm;
      am *= as[d];
      bm *= bs[d];
    }
    const da = ad[ai] - za, db = bd[bi] - zb;
    const t = op === 'add' ? f(f(fa * da) + f(fb * db)) : f(fa * (da * db));
    out.push(requant(t, zy, outType));
  }
  return out;
}

function refPool(x: Tensor, p: ops.QLinearPoolParams, outType: B8): number[] {
  const nhwc = p.layout === 'nhwc';
  const n = x.shape[0], c = nhwc ? x.shape[x.rank - 1] : x.shape[1];
  const spatial = x.size / (n * c);
  const factor = f(f(p.xScale) / f(f(p.yScale) * spatial));
  const d = x.data as ArrayLike<number>;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < c; j++) {
      let sum = 0;
      for (let s = 0; s < spatial; s++) sum += d[nhwc ? (i * spatial + s) * c + j : (i * c + j) * spatial + s];
      out.push(requant(f(f(sum - spatial * (p.xZeroPoint ?? 0)) * factor), p.yZeroPoint ?? 0, outType));
    }
  }
  return out;
}

function bytesTensor(rng: Rng, dtype: B8, shape: number[]): Tensor {
  const n = shape.reduce((x, y) => x * y, 1);
  const data = rng.bytes(n, dtype === 'int8', 'mixed');
  return new Tensor(dtype, dtype === 'int8' ? Int8Array.from(data) : Uint8Array.from(data), shape);
}

function zeroPoint(rng: Rng, dtype: B8): number {
  return rng.pick(dtype === 'int8' ? [-128, 127, 0, -5] : [0, 255, 128, 3]);
}

function eachIsa(f: (isa: string) => void): void {
  const original = cpu.isa;
  try {
    for (const isa of cpu.available()) {
      cpu.setIsa(isa);
      f(isa);
    }
  } finally {
    cpu.setIsa(original);
  }
}

function bad(fn: () => unknown, code: string, re?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    if (!(e instanceof LowbitError)) return false;
    if (e.code !== code) assert.fail(`expected ${code}, got ${e.code}: ${e.message}`);
    if (re && !re.test(e.message)) assert.fail(`message ${JSON.stringify(e.message)} does not match ${re}`);
    return true;
  });
}

const SHAPES: [string, number[], number[]][] = [
  ['same shape', [2, 3, 5, 7], [2, 3, 5, 7]],
  ['b scalar', [2, 3, 5, 7], [1]],
  ['a scalar', [], [3, 37]],
  ['NHWC per channel (SE block)', [2, 4, 5, 24], [2, 1, 1, 24]],
  ['NHWC per channel, wide', [1, 3, 3, 120], [1, 1, 1, 120]],
  ['NCHW per channel', [2, 24, 4, 5], [1, 24, 1, 1]],
  ['outer product', [3, 1, 7], [1, 5, 1]],
];

describe('quantized elementwise ops (QLinearAdd, QLinearMul, QLinearGlobalAveragePool)', function () {
  this.timeout(120000);
  const rng = new Rng(77);

  for (const op of ['add', 'mul'] as const) {
    it(`${op}: equals the reference formula on every ISA path, uint8 and int8, extreme zero points`, () => {
      const cases: { a: Tensor; b: Tensor; p: ops.QLinearBinaryParams; ot: B8; want: number[] }[] = [];
      for (const [, as, bs] of SHAPES) {
        for (const [ta, tb, ot] of [['uint8', 'uint8', 'uint8'], ['int8', 'int8', 'int8'], ['uint8', 'int8', 'int8'], ['int8', 'uint8', 'uint8']] as [B8, B8, B8][]) {
          const a = bytesTensor(rng, ta, as), b = bytesTensor(rng, tb, bs);
          const p: ops.QLinearBinaryParams = {
            aScale: rng.pick([0.02, 0.1, 0.0371]), aZeroPoint: zeroPoint(rng, ta),
            bScale: rng.pick([0.015, 0.2, 0.5]), bZeroPoint: zeroPoint(rng, tb),
            yScale: rng.pick([0.03, 0.25, 0.06]), yZeroPoint: zeroPoint(rng, ot),
          };
          cases.push({ a, b, p, ot, want: refBinary(op, a, b, p, ot) });
        }
      }
      eachIsa((isa) => {
        for (const c of cases) {
          const y = op === 'add' ? ops.qlinearAdd(c.a, c.b, c.p, c.ot) : ops.qlinearMul(c.a, c.b, c.p, c.ot);
          assert.equal(y.dtype, c.ot);
          assert.deepEqual(Array.from(y.data as ArrayLike<number>), c.want, `${isa}: [${c.a.shape}] ${op} [${c.b.shape}]`);
          assert.equal(y.quantization!.scale[0], Math.fround(c.p.yScale));
        }
      });
    });
  }

  it('a fused clip is the quantized range of its real bounds', () => {
    const a = bytesTensor(rng, 'uint8', [4, 33]), b = bytesTensor(rng, 'uint8', [4, 33]);
    const p = { aScale: 0.05, aZeroPoint: 128, bScale: 0.05, bZeroPoint: 128, yScale: 0.04, yZeroPoint: 100 };
    const plain = Array.from(ops.qlinearAdd(a, b, p).data as Uint8Array);
    const relu6 = Array.from(ops.qlinearAdd(a, b, { ...p, clip: { min: 0, max: 6 } }).data as Uint8Array);
    // Q(6) = 6 / 0.04 + 100 = 250.
    assert.deepEqual(relu6, plain.map((v) => Math.min(250, Math.max(100, v))));
    assert.ok(plain.some((v) => v < 100) && plain.some((v) => v > 250));
  });

  it('global average pool: NCHW and NHWC equal the reference on every ISA path', () => {
    const cases: { x: Tensor; p: ops.QLinearPoolParams; ot: B8; want: number[] }[] = [];
    for (const shape of [[1, 16, 6, 24], [2, 7, 5, 3], [1, 1, 1, 1], [2, 72, 3, 33], [1, 5, 13]]) {
      for (const layout of ['nchw', 'nhwc'] as const) {
        for (const [tx, ot] of [['uint8', 'uint8'], ['int8', 'int8'], ['uint8', 'int8']] as [B8, B8][]) {
          const x = bytesTensor(rng, tx, shape);
          const p: ops.QLinearPoolParams = { xScale: rng.pick([0.02, 0.1]), xZeroPoint: zeroPoint(rng, tx), yScale: rng.pick([0.01, 0.03, 0.2]), yZeroPoint: zeroPoint(rng, ot), layout };
          cases.push({ x, p, ot, want: refPool(x, p, ot) });
        }
      }
    }
    eachIsa((isa) => {
      for (const c of cases) {
        const y = ops.qlinearGlobalAveragePool(c.x, c.p, c.ot);
        assert.deepEqual(Array.from(y.data as ArrayLike<number>), c.want, `${isa}: [${c.x.shape}] ${c.p.layout}`);
      }
    });
  });

  it('records into a Program: the same bytes as the immediate calls', () => {
    const a = bytesTensor(rng, 'uint8', [1, 6, 5, 40]), s = bytesTensor(rng, 'uint8', [1, 1, 1, 40]);
    const pm = { aScale: 0.05, aZeroPoint: 3, bScale: 0.004, bZeroPoint: 0, yScale: 0.05, yZeroPoint: 2 };
    const pp = { xScale: 0.05, xZeroPoint: 2, yScale: 0.02, yZeroPoint: 5, layout: 'nhwc' as const };
    const pa = { aScale: 0.05, aZeroPoint: 3, bScale: 0.05, bZeroPoint: 2, yScale: 0.07, yZeroPoint: 9, clip: { min: 0 } };
    const m = ops.qlinearMul(a, s, pm), pooled = ops.qlinearGlobalAveragePool(m, pp), sum = ops.qlinearAdd(a, m, pa);
    let bytes = 0;
    const slot = (shape: number[]): Slot => {
      const ref = bytes;
      bytes += 64 * Math.ceil(shape.reduce((x, y) => x * y, 1) / 64) + 64;
      return { dtype: 'uint8', shape, ref };
    };
    const sa = slot([1, 6, 5, 40]), sm = slot([1, 6, 5, 40]), sp = slot([1, 1, 1, 40]), ss = slot([1, 6, 5, 40]);
    const program = new ops.Program(bytes);
    ops.qlinearMulInto(sa, program.constant(s), sm, pm, program);
    ops.qlinearGlobalAveragePoolInto(sm, sp, pp, program);
    ops.qlinearAddInto(sa, sm, ss, pa, program);
    assert.deepEqual(program.labels(), ['qlinear_mul_u8', 'qlinear_global_average_pool_u8', 'qlinear_add_u8']);
    const outs = [new Uint8Array(m.size), new Uint8Array(pooled.size), new Uint8Array(sum.size)];
    program.runSync([a.data], [sa.ref], outs, [sm.ref, sp.ref, ss.ref]);
    assert.deepEqual([...outs[0]], [...(m.data as Uint8Array)]);
    assert.deepEqual([...outs[1]], [...(pooled.data as Uint8Array)]);
    assert.deepEqual([...outs[2]], [...(sum.data as Uint8Array)]);
  });

  it('bad arguments are LowbitErrors naming what is wrong, from JavaScript and from the addon', () => {
    const a = bytesTensor(rng, 'uint8', [2, 3]), b = bytesTensor(rng, 'int8', [3]);
    const p = { aScale: 0.1, bScale: 0.1, yScale: 0.1 };
    bad(() => ops.qlinearAdd(a, b, { ...p, bZeroPoint: 200 }), 'E_RANGE', /bZeroPoint/);
    bad(() => ops.qlinearAdd(a, b, { ...p, yScale: 0 }), 'E_RANGE', /yScale/);
    bad(() => ops.qlinearMul(a, bytesTensor(rng, 'uint8', [4]), p), 'E_SHAPE', /broadcast/);
    bad(() => ops.qlinearAdd(new Tensor('float32', [1, 2], [2]), b, p), 'E_DTYPE', /a must be int8 or uint8/);
    bad(() => ops.qlinearAddInto(a, b, new Tensor('uint8', [0, 0], [2]), p), 'E_SHAPE', /out must have shape/);
    bad(() => ops.qlinearAdd(a, b, { ...p, clip: { min: 2, max: 1 } }), 'E_RANGE', /clip/);
    bad(() => ops.qlinearGlobalAveragePool(new Tensor('uint8', new Uint8Array(0), [1, 2, 0, 3]), { xScale: 1, yScale: 1 }), 'E_SHAPE', /no pixels/);
    const out = new Uint8Array(6);
    const s3 = Float32Array.of(0.1, 0.1, 0.1);
    // Past the JavaScript checks: a plan reading outside b, a zero point out of range, scales too far apart, a NaN scale.
    bad(() => native.qbinary('add', a.data as Uint8Array, b.data as Int8Array, out, [2, 3], [3, 1], [3, 1], 6, 3, s3, [0, 0, 0], [0, 255]), 'E_SHAPE', /reads element/);
    bad(() => native.qbinary('add', a.data as Uint8Array, b.data as Int8Array, out, [2, 3], [3, 1], [0, 1], 6, 3, s3, [0, 128, 0], [0, 255]), 'E_RANGE', /bZeroPoint/);
    bad(() => native.qbinary('mul', a.data as Uint8Array, b.data as Int8Array, out, [2, 3], [3, 1], [0, 1], 6, 3, Float32Array.of(1e30, 1e30, 1e-30), [0, 0, 0], [0, 255]), 'E_RANGE', /too far apart/);
    bad(() => native.qbinary('add', a.data as Uint8Array, b.data as Int8Array, out, [2, 3], [3, 1], [0, 1], 6, 3, Float32Array.of(NaN, 1, 1), [0, 0, 0], [0, 255]), 'E_RANGE', /scales\[0\]/);
    bad(() => native.qbinary('sub' as never, a.data as Uint8Array, b.data as Int8Array, out, [2, 3], [3, 1], [0, 1], 6, 3, s3, [0, 0, 0], [0, 255]), 'E_ARG', /op must be one of add, mul/);
    bad(() => native.qglobalAveragePool('nchw', new Uint8Array(6), new Uint8Array(2), 1, 2, 3, Float32Array.of(1, 1), [0, 0], [0, 300]), 'E_RANGE', /outRange/);
    bad(() => native.qglobalAveragePool('nchw', new Uint8Array(6), new Float32Array(2) as never, 1, 2, 3, Float32Array.of(1, 1), [0, 0], [0, 255]), 'E_DTYPE', /out must be int8 or uint8/);
  });
});

// ---------------------------------------------------------------- models

function constant(g: Graph, name: string, t: Tensor): string {
  g.constants.set(name, t);
  return name;
}

function scalarF(g: Graph, name: string, v: number): string { return constant(g, name, new Tensor('float32', [v], [])); }
function scalarQ(g: Graph, name: string, dtype: B8, v: number): string {
  return constant(g, name, new Tensor(dtype, dtype === 'int8' ? Int8Array.of(v) : Uint8Array.of(v), []));
}

function node(opType: string, inputs: string[], outputs: string[], attrs: Node['attrs'] = {}, domain = ''): Node {
  return { name: `${opType}_${outputs[0]}`, opType, domain, inputs, outputs, attrs };
}

async function compare(model: Uint8Array, feeds: Record<string, Tensor>, outputs: string[]): Promise<Session> {
  const s = await Session.create(model, { threads: 1 });
  const mine = await s.run(feeds);
  const theirs = await runOrt(await createSession(model), feeds);
  for (const name of outputs) {
    const l = Array.from(mine[name].data as ArrayLike<number>), o = Array.from(theirs[name].data as ArrayLike<number>);
    assert.equal(l.length, o.length, name);
    let worst = 0;
    for (let i = 0; i < l.length; i++) worst = Math.max(worst, Math.abs(l[i] - o[i]));
    assert.ok(worst <= 1, `${name}: lowbit and onnxruntime differ by ${worst} steps`);
  }
  return s;
}

describe('quantized elementwise ops in models, against onnxruntime-node', function () {
  this.timeout(120000);
  const rng = new Rng(91);

  it('QDQ: DQ -> Add / Mul (NHWC per channel) / GlobalAveragePool -> Q after an int8 convolution are fused and stay NHWC', async () => {
    const C = 24, H = 6, W = 10;
    const g = new Graph({ nodes: [], inputs: [{ name: 'x', dtype: 'float32', shape: [1, 8, H, W] }], outputs: [], opset: 13 });
    const q = (x: string, s: string, z: string, y: string) => g.nodes.push(node('QuantizeLinear', [x, s, z], [y]));
    const dq = (x: string, s: string, z: string, y: string) => g.nodes.push(node('DequantizeLinear', [x, s, z], [y]));
    scalarF(g, 'sx', 0.02); scalarQ(g, 'zx', 'uint8', 128);
    q('x', 'sx', 'zx', 'xq'); dq('xq', 'sx', 'zx', 'xf');
    const w = Int8Array.from(rng.bytes(C * 8 * 9, true));
    constant(g, 'w', new Tensor('int8', w, [C, 8, 3, 3]));
    constant(g, 'ws', new Tensor('float32', Float32Array.from({ length: C }, () => 0.002 + 0.002 * rng.next()), [C]));
    constant(g, 'wz', new Tensor('int8', new Int8Array(C), [C]));
    g.nodes.push(node('DequantizeLinear', ['w', 'ws', 'wz'], ['wf'], { axis: 0 }));
    g.nodes.push(node('Conv', ['xf', 'wf'], ['conv'], { pads: [1, 1, 1, 1] }));
    scalarF(g, 's1', 0.03); scalarQ(g, 'z1', 'uint8', 120);
    q('conv', 's1', 'z1', 't1'); dq('t1', 's1', 'z1', 't1f');
    // GlobalAveragePool
    g.nodes.push(node('GlobalAveragePool', ['t1f'], ['gap']));
    scalarF(g, 's2', 0.01); scalarQ(g, 'z2', 'uint8', 115);
    q('gap', 's2', 'z2', 'gapq'); dq('gapq', 's2', 'z2', 'gapf');
    // The SE scale: HardSigmoid (a lookup table) then Mul broadcast per channel.
    g.nodes.push(node('HardSigmoid', ['gapf'], ['hs'], { alpha: 0.2, beta: 0.5 }));
    scalarF(g, 's3', 1 / 255); scalarQ(g, 'z3', 'uint8', 0);
    q('hs', 's3', 'z3', 'hsq'); dq('hsq', 's3', 'z3', 'hsf');
    g.nodes.push(node('Mul', ['t1f', 'hsf'], ['mul']));
    scalarF(g, 's4', 0.025); scalarQ(g, 'z4', 'uint8', 110);
    q('mul', 's4', 'z4', 'mulq'); dq('mulq', 's4', 'z4', 'mulf');
    // A residual Add with a Relu (fused as the output range: the 'lowbit' form of QLinearAdd).
    g.nodes.push(node('Add', ['mulf', 't1f'], ['add']));
    g.nodes.push(node('Relu', ['add'], ['relu']));
    scalarF(g, 's5', 0.05); scalarQ(g, 'z5', 'uint8', 100);
    q('relu', 's5', 'z5', 'addq');
    g.outputs = ['t1', 'gapq', 'mulq', 'addq'].map((name) => ({ name, dtype: 'uint8' as const, shape: name === 'gapq' ? [1, C, 1, 1] : [1, C, H, W] }));
    const model = exportModel(g);
    const x = new Tensor('float32', rng.floats(8 * H * W, -2.5, 2.5), [1, 8, H, W]);
    const s = await compare(model, { x }, ['t1', 'gapq', 'mulq', 'addq']);
    assert.equal(s.passes!.qlinearElementwise, 3, JSON.stringify(s.passes));
    // The Relu took effect: outputs stop at the zero point (real 0), and some reach it.
    const added = Array.from((await s.run({ x })).addq.data as Uint8Array);
    assert.ok(Math.min(...added) === 100 && added.filter((v) => v === 100).length > 10, `${Math.min(...added)}`);
    const steps = s.planFor({ x: [1, 8, H, W] }).steps;
    for (const k of ['GlobalAveragePool_gap#qlinear', 'Mul_mul#qlinear', 'Add_add#qlinear', 'HardSigmoid_hs#lut']) assert.ok(steps.includes(k), steps.join(' '));
    assert.ok(!steps.some((k) => k.startsWith('DequantizeLinear') || k.startsWith('Relu')), steps.join(' '));
    // The convolution's output stays NHWC into the int8 ops: transposes only at the graph's edges.
    assert.deepEqual(steps.filter((k) => k.startsWith('transpose')), ['transpose(xq -> nhwc)', 'transpose(t1 -> nchw)', 'transpose(mulq -> nchw)', 'transpose(addq -> nchw)']);
  });

  it('QDQ: DQ -> MaxPool / GlobalMaxPool -> Q with the same parameters runs on the 8-bit values, equal to onnxruntime bit for bit', async () => {
    for (const dtype of ['uint8', 'int8'] as B8[]) {
      const g = new Graph({ nodes: [], inputs: [{ name: 'a', dtype, shape: [2, 6, 9, 11] }], outputs: [], opset: 13 });
      const zp = dtype === 'int8' ? -7 : 131;
      scalarF(g, 'sa', 0.04); scalarQ(g, 'za', dtype, zp);
      scalarF(g, 'sa2', 0.04); scalarQ(g, 'za2', dtype, zp);  // equal values, other names
      scalarF(g, 'sb', 0.05);
      g.nodes.push(node('DequantizeLinear', ['a', 'sa', 'za'], ['af']));
      g.nodes.push(node('MaxPool', ['af'], ['mp'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 0, 1, 1] }));
      g.nodes.push(node('QuantizeLinear', ['mp', 'sa2', 'za2'], ['mpq']));
      g.nodes.push(node('GlobalMaxPool', ['af'], ['gmp']));
      g.nodes.push(node('QuantizeLinear', ['gmp', 'sa', 'za'], ['gmpq']));
      // Other parameters: a real requantization, left to the float ops.
      g.nodes.push(node('MaxPool', ['af'], ['mp2'], { kernel_shape: [2, 2] }));
      g.nodes.push(node('QuantizeLinear', ['mp2', 'sb', 'za'], ['mp2q']));
      g.outputs = [
        { name: 'mpq', dtype, shape: [2, 6, 5, 5] }, { name: 'gmpq', dtype, shape: [2, 6, 1, 1] }, { name: 'mp2q', dtype, shape: [2, 6, 8, 10] },
      ];
      const feeds = { a: bytesTensor(rng, dtype, [2, 6, 9, 11]) };
      const s = await compare(exportModel(g), feeds, ['mpq', 'gmpq', 'mp2q']);
      assert.equal(s.passes!.quantizedSelect, 2, JSON.stringify(s.passes));
      const steps = s.planFor({ a: [2, 6, 9, 11] }).steps;
      assert.ok(steps.includes('MaxPool_mp#q8') && steps.includes('GlobalMaxPool_gmp#q8'), steps.join(' '));
      // Exact: the fused ops equal onnxruntime (and the float ops) byte for byte.
      const mine = await s.run(feeds), theirs = await runOrt(await createSession(exportModel(g)), feeds);
      for (const name of ['mpq', 'gmpq']) assert.deepEqual(Array.from(mine[name].data as ArrayLike<number>), Array.from(theirs[name].data as ArrayLike<number>), name);
    }
  });

  it('QOperator: com.microsoft QLinearAdd, QLinearMul and QLinearGlobalAveragePool, uint8 and int8', async () => {
    for (const dtype of ['uint8', 'int8'] as B8[]) {
      const zp = dtype === 'int8' ? [-3, 10, -128, 5] : [130, 120, 0, 255];
      const g = new Graph({ nodes: [], inputs: [{ name: 'a', dtype, shape: [2, 16, 5, 7] }, { name: 'b', dtype, shape: [2, 16, 5, 7] }, { name: 's', dtype, shape: [2, 16, 1, 1] }], outputs: [], opset: 13, domains: { 'com.microsoft': 1 } });
      scalarF(g, 'sa', 0.04); scalarQ(g, 'za', dtype, zp[0]);
      scalarF(g, 'sb', 0.015); scalarQ(g, 'zb', dtype, zp[1]);
      scalarF(g, 'ss', 1 / 255); scalarQ(g, 'zs', dtype, zp[2]);
      scalarF(g, 'sy', 0.05); scalarQ(g, 'zy', dtype, zp[3]);
      g.nodes.push(node('QLinearAdd', ['a', 'sa', 'za', 'b', 'sb', 'zb', 'sy', 'zy'], ['sum'], {}, 'com.microsoft'));
      g.nodes.push(node('QLinearMul', ['a', 'sa', 'za', 's', 'ss', 'zs', 'sy', 'zy'], ['prod'], {}, 'com.microsoft'));
      g.nodes.push(node('QLinearMul', ['a', 'sa', 'za', 'b', 'sb', 'zb', 'ss', 'zs'], ['prod2'], {}, 'com.microsoft'));
      g.nodes.push(node('QLinearGlobalAveragePool', ['a', 'sa', 'za', 'sb', 'zb'], ['pool'], { channels_last: 0 }, 'com.microsoft'));
      g.nodes.push(node('QLinearGlobalAveragePool', ['a', 'sa', 'za', 'sy', 'zy'], ['poolLast'], { channels_last: 1 }, 'com.microsoft'));
      g.outputs = ['sum', 'prod', 'prod2', 'pool', 'poolLast'].map((name) => ({ name, dtype, shape: name === 'pool' ? [2, 16, 1, 1] : name === 'poolLast' ? [2, 1, 1, 7] : [2, 16, 5, 7] }));
      const feeds = { a: bytesTensor(rng, dtype, [2, 16, 5, 7]), b: bytesTensor(rng, dtype, [2, 16, 5, 7]), s: bytesTensor(rng, dtype, [2, 16, 1, 1]) };
      const s = await compare(exportModel(g), feeds, ['sum', 'prod', 'prod2', 'pool', 'poolLast']);
      const r = await s.run(feeds);
      assert.deepEqual(r.poolLast.shape, [2, 1, 1, 7]);
    }
  });

  it('a QLinearAdd with per-channel scales is a clear E_UNSUPPORTED_OP, not a crash', async () => {
    const g = new Graph({ nodes: [], inputs: [{ name: 'a', dtype: 'uint8', shape: [1, 4, 2, 2] }], outputs: [{ name: 'y', dtype: 'uint8', shape: [1, 4, 2, 2] }], opset: 13, domains: { 'com.microsoft': 1 } });
    constant(g, 'sa', new Tensor('float32', [0.1, 0.2, 0.3, 0.4], [4]));
    scalarF(g, 'sy', 0.1);
    g.nodes.push(node('QLinearAdd', ['a', 'sa', '', 'a', 'sy', '', 'sy', ''], ['y'], {}, 'com.microsoft'));
    const s = await Session.create(exportModel(g));
    const feeds = { a: new Tensor('uint8', new Uint8Array(16), [1, 4, 2, 2]) };
    await assert.rejects(s.run(feeds), (e: unknown) => e instanceof LowbitError && e.code === 'E_UNSUPPORTED_OP' && /A_scale must hold one value/.test(e.message));
  });
});
