// Binary layers of the `ai.lowbit` domain through Session: small models built
// here with lib/graph and exported, run through the planner's native Program,
// compared bit for bit with the same chain run through the ops API and with a
// plain float reference of ±1 convolutions (exact integers, Math.fround
// transforms); both padding modes, batch 1 and 3, every kernel path this CPU
// runs; the record form of the ops on its own; and bad nodes.
import { strict as assert } from 'node:assert';
import { cpu, LowbitError, ops, Session, Tensor } from '../lib';
import { exportModel } from '../lib/graph/export';
import { importModel } from '../lib/graph/import';
import { Graph, Node, AttrValue } from '../lib/graph/ir';
import { onnx } from '../lib/graph/onnx';
import { Program } from '../lib/ops/program';
import { Rng } from './helpers/random';

const f32 = Math.fround;
const sign = (v: number) => (v < 0 ? -1 : 1);

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// ---------------------------------------------------------------- float reference

interface ConvSpec {
  w: Tensor; // [M, C, kh, kw] float32 (signs)
  pads: number[]; // [top, left, bottom, right]
  strides: number[];
  dilations: number[];
}

/** sign(x) * sign(w) convolution, NCHW, with 0 (padMode 'zero') or +1 ('one') outside the image: exact integers. */
function signConv(x: number[], [n, c, h, wd]: readonly number[], s: ConvSpec, padMode: string): { dots: number[]; shape: number[] } {
  const [m, , kh, kw] = s.w.shape;
  const [pt, pl, pb, pr] = s.pads, [sh, sw] = s.strides, [dh, dw] = s.dilations;
  const oh = Math.floor((h + pt + pb - dh * (kh - 1) - 1) / sh) + 1, ow = Math.floor((wd + pl + pr - dw * (kw - 1) - 1) / sw) + 1;
  const wv = s.w.data as Float32Array;
  const dots = new Array<number>(n * m * oh * ow).fill(0);
  for (let b = 0; b < n; b++) for (let o = 0; o < m; o++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
    let dot = 0;
    for (let ci = 0; ci < c; ci++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
      const y = oy * sh + i * dh - pt, xx = ox * sw + j * dw - pl;
      const inside = y >= 0 && y < h && xx >= 0 && xx < wd;
      const a = inside ? sign(x[((b * c + ci) * h + y) * wd + xx]) : padMode === 'zero' ? 0 : 1;
      dot += a * sign(wv[((o * c + ci) * kh + i) * kw + j]);
    }
    dots[((b * m + o) * oh + oy) * ow + ox] = dot;
  }
  return { dots, shape: [n, m, oh, ow] };
}

interface Transform {
  output: 'float' | 'int8' | 'sign';
  alpha: number[];
  beta: number[];
  threshold?: number[];
  yScale?: number;
  yZeroPoint?: number;
}

/** The output transform of dot for channel c, as docs/binary.md defines it. */
function transform(t: Transform, dot: number, c: number): number {
  const pick = (a: number[]) => f32(a.length === 1 ? a[0] : a[c]);
  const v = f32(f32(pick(t.alpha) * dot) + pick(t.beta));
  if (t.output === 'float') return v;
  if (t.output === 'sign') return v < pick(t.threshold ?? [0]) ? -1 : 1;
  const q = Math.min(Math.max(f32(v / f32(t.yScale!)), -128 - t.yZeroPoint!), 127 - t.yZeroPoint!);
  return roundHalfEven(q) + t.yZeroPoint!;
}

function applyChannels(t: Transform, dots: number[], shape: number[]): number[] {
  const inner = shape.slice(2).reduce((a, b) => a * b, 1), m = shape[1];
  return dots.map((d, i) => transform(t, d, Math.floor(i / inner) % m));
}

// ---------------------------------------------------------------- the model

interface ModelSpec {
  padMode: 'zero' | 'one';
  /** Output of the BinaryGemm at the end. */
  gemmOutput: 'float' | 'int8' | 'sign';
  /** Also expose the first layer's "sign" output (makes the runtime unpack it). */
  exposeSigns: boolean;
}

const C0 = 5, H0 = 9, W0 = 9, M1 = 7, M2 = 6, NG = 10;

function layers(rng: Rng, spec: ModelSpec) {
  const signs = (n: number) => Float32Array.from({ length: n }, () => (rng.next() < 0.5 ? -0.5 - rng.next() : 0.5 + rng.next()));
  const chan = (n: number, scale: number, offset = 0) => Array.from({ length: n }, () => f32(offset + (rng.next() - 0.5) * scale));
  const conv1: ConvSpec = { w: new Tensor('float32', signs(M1 * C0 * 9), [M1, C0, 3, 3]), pads: [1, 1, 1, 1], strides: [2, 2], dilations: [1, 1] };
  const t1: Transform = { output: 'sign', alpha: chan(M1, 0.4, 0.3), beta: chan(M1, 8), threshold: chan(M1, 2) };
  const conv2: ConvSpec = { w: new Tensor('float32', signs(M2 * M1 * 9), [M2, M1, 3, 3]), pads: [1, 0, 2, 1], strides: [1, 1], dilations: [1, 1] };
  const t2: Transform = { output: 'float', alpha: chan(M2, 0.2, 0.1), beta: chan(M2, 4) };
  const k = M2 * 6 * 4;
  const gemmW = new Tensor('float32', signs(NG * k), [NG, k]);
  const t3: Transform = spec.gemmOutput === 'int8' ? { output: 'int8', alpha: chan(NG, 0.1, 0.05), beta: chan(1, 2), yScale: 0.0625, yZeroPoint: -3 }
    : spec.gemmOutput === 'sign' ? { output: 'sign', alpha: [0.5], beta: chan(NG, 2), threshold: [0] }
    : { output: 'float', alpha: chan(NG, 0.1, 0.05), beta: chan(NG, 2) };
  return { conv1, t1, conv2, t2, gemmW, t3, k };
}

function transformAttrs(t: Transform): Record<string, AttrValue> {
  const a: Record<string, AttrValue> = { output: t.output, alpha: t.alpha, beta: t.beta };
  if (t.threshold) a.threshold = t.threshold;
  if (t.yScale !== undefined) a.y_scale = t.yScale;
  if (t.yZeroPoint !== undefined) a.y_zero_point = t.yZeroPoint;
  return a;
}

function buildModel(rng: Rng, spec: ModelSpec) {
  const l = layers(rng, spec);
  const node = (name: string, opType: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue>, domain = 'ai.lowbit'): Node => ({ name, opType, domain, inputs, outputs, attrs });
  const nodes = [
    node('bconv1', 'BinaryConv', ['x', 'w1'], ['s1'], { kernel_shape: [3, 3], pads: l.conv1.pads, strides: l.conv1.strides, pad_mode: spec.padMode, ...transformAttrs(l.t1) }),
    node('bconv2', 'BinaryConv', ['s1', 'w2'], ['y2'], { pads: l.conv2.pads, pad_mode: spec.padMode, ...transformAttrs(l.t2) }),
    node('flat', 'Flatten', ['y2'], ['f'], { axis: 1 }, ''),
    node('bfc', 'BinaryGemm', ['f', 'wg'], ['logits'], transformAttrs(l.t3)),
  ];
  const outputs = [{ name: 'logits', dtype: (spec.gemmOutput === 'int8' ? 'int8' : 'float32') as 'int8' | 'float32', shape: ['N', NG] }];
  if (spec.exposeSigns) outputs.push({ name: 's1', dtype: 'float32', shape: ['N', M1, 5, 5] });
  const g = new Graph({
    nodes, opset: 17, domains: { 'ai.lowbit': 1 },
    inputs: [{ name: 'x', dtype: 'float32', shape: ['N', C0, H0, W0] }],
    outputs,
    constants: new Map([['w1', l.conv1.w], ['w2', l.conv2.w], ['wg', l.gemmW]]),
  });
  return { bytes: exportModel(g), graph: g, ...l };
}

type Built = ReturnType<typeof buildModel>;

/** The chain through the plain float reference: { logits, s1 } as flat NCHW values. */
function reference(m: Built, spec: ModelSpec, x: Tensor): { logits: number[]; s1: number[] } {
  const c1 = signConv(Array.from(x.data as Float32Array), x.shape, m.conv1, spec.padMode);
  const s1 = applyChannels(m.t1, c1.dots, c1.shape);
  const c2 = signConv(s1, c1.shape, m.conv2, spec.padMode);
  const y2 = applyChannels(m.t2, c2.dots, c2.shape);
  const n = x.shape[0], wg = m.gemmW.data as Float32Array;
  const logits: number[] = [];
  for (let b = 0; b < n; b++) for (let o = 0; o < NG; o++) {
    let dot = 0;
    for (let k = 0; k < m.k; k++) dot += sign(y2[b * m.k + k]) * sign(wg[o * m.k + k]);
    logits.push(transform(m.t3, dot, o));
  }
  return { logits, s1 };
}

const outputKind = { float: 'float32', int8: 'int8', sign: 'bit' } as const;

/** The chain through the ops API directly (NHWC, packed layers). */
function throughOps(m: Built, spec: ModelSpec, x: Tensor): { logits: Tensor; s1: Tensor } {
  const opts = (t: Transform) => ({ output: outputKind[t.output], alpha: t.alpha, beta: t.beta, threshold: t.threshold, yScale: t.yScale, yZeroPoint: t.yZeroPoint });
  const conv1 = ops.packBinaryConv2d(m.conv1.w, { ...opts(m.t1), pads: m.conv1.pads, strides: m.conv1.strides, padding: spec.padMode, weightLayout: 'OIHW' });
  const conv2 = ops.packBinaryConv2d(m.conv2.w, { ...opts(m.t2), pads: m.conv2.pads, padding: spec.padMode, weightLayout: 'OIHW' });
  const fc = ops.packBinaryGemm(m.gemmW, opts(m.t3));
  const bits = ops.binaryConv2d(ops.nchwToNhwc(x), conv1);
  const y2 = ops.nhwcToNchw(ops.binaryConv2d(bits, conv2));
  const logits = ops.binaryGemm(y2.reshape([x.shape[0], m.k]), fc);
  return { logits: logits.dtype === 'bit' ? ops.bitunpack(logits) : logits, s1: ops.nhwcToNchw(ops.bitunpack(bits) as Tensor<'float32'>) };
}

function input(rng: Rng, n: number): Tensor<'float32'> {
  const data = rng.floats(n * C0 * H0 * W0, -1, 1);
  data[0] = -0; // binarizes to +1
  return new Tensor('float32', data, [n, C0, H0, W0]);
}

function code(c: string, re?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof LowbitError, `expected a LowbitError, got ${String(err)}`);
    assert.equal(err.code, c, err.message);
    if (re) assert.match(err.message, re);
    return true;
  };
}

describe('binary layers (ai.lowbit) in Session', () => {
  const original = { isa: cpu.isa, threads: cpu.threads };
  afterEach(() => {
    cpu.setIsa(original.isa);
    cpu.setThreads(original.threads);
  });

  for (const padMode of ['zero', 'one'] as const) {
    for (const gemmOutput of ['float', 'int8', 'sign'] as const) {
      const spec: ModelSpec = { padMode, gemmOutput, exposeSigns: gemmOutput === 'float' };
      it(`BinaryConv (sign) -> BinaryConv (float) -> Flatten -> BinaryGemm (${gemmOutput}), pad_mode ${padMode}: equals the ops chain and the float reference, batch 1 and 3, every path`, async () => {
        const rng = new Rng(padMode === 'zero' ? 11 : 23);
        const m = buildModel(rng, spec);
        const xs = [input(rng, 1), input(rng, 3)];
        const seen = new Map<string, Float32Array | Int8Array>();
        for (const isa of cpu.available()) {
          cpu.setIsa(isa);
          const s = await Session.create(m.bytes);
          for (const x of xs) {
            const r = await s.run({ x });
            const want = reference(m, spec, x), viaOps = throughOps(m, spec, x);
            const logits = r.logits;
            assert.equal(logits.dtype, gemmOutput === 'int8' ? 'int8' : 'float32');
            assert.deepEqual(logits.shape, [x.shape[0], NG]);
            assert.deepEqual(Array.from(logits.data as Float32Array), want.logits, `${isa} N=${x.shape[0]}: logits differ from the float reference`);
            assert.deepEqual(logits.data, viaOps.logits.data, `${isa} N=${x.shape[0]}: logits differ from the ops chain`);
            if (spec.exposeSigns) {
              assert.deepEqual(r.s1.shape, [x.shape[0], M1, 5, 5]);
              assert.deepEqual(Array.from(r.s1.data as Float32Array), want.s1, `${isa}: the first layer's signs differ`);
              assert.deepEqual(r.s1.data, viaOps.s1.data);
            }
            const key = `N=${x.shape[0]}`;
            if (!seen.has(key)) seen.set(key, logits.data as Float32Array);
            else assert.deepEqual(logits.data, seen.get(key), `${isa} differs from ${cpu.available()[0]}`);
            assert.deepEqual((s.runSync({ x })).logits.data, logits.data, `${isa}: runSync differs from run`);
            cpu.setThreads(3);
            assert.deepEqual((await s.run({ x })).logits.data, logits.data, `${isa}: 3 threads differ from the default`);
            cpu.setThreads(original.threads);
          }
        }
      });
    }
  }

  it('keeps bits between binary layers (no unpack step) unless a non-binary reader or an output needs the signs', () => {
    const rng = new Rng(5);
    const hidden = Session.createSync(buildModel(rng, { padMode: 'zero', gemmOutput: 'float', exposeSigns: false }).bytes);
    const steps = hidden.planFor({ x: [1, C0, H0, W0] }).steps;
    assert.deepEqual(steps.filter((st) => st.startsWith('b')), ['bconv1', 'bconv2', 'bfc']);
    const exposed = Session.createSync(buildModel(rng, { padMode: 'zero', gemmOutput: 'float', exposeSigns: true }).bytes);
    assert.ok(exposed.planFor({ x: [1, C0, H0, W0] }).steps.includes('bconv1#signs'));
  });

  it('BinaryGemm (sign) -> BinaryGemm reads the bits; input_mode "real" runs BinaryConnect (int8 with a zero point, float)', async () => {
    const rng = new Rng(9);
    const [k, n1, n2] = [70, 33, 4];
    const w1 = new Tensor('int8', Int8Array.from({ length: n1 * k }, () => (rng.next() < 0.5 ? -3 : 2)), [n1, k]);
    const w2 = new Tensor('float32', rng.floats(n2 * n1, -1, 1), [n2, n1]);
    const w3 = new Tensor('float32', rng.floats(n2 * k, -1, 1), [n2, k]);
    const g = new Graph({
      opset: 17,
      nodes: [
        { name: 'g1', opType: 'BinaryGemm', domain: 'ai.lowbit', inputs: ['a', 'w1'], outputs: ['h'], attrs: { output: 'sign', threshold: [0.5], beta: [1] } },
        { name: 'g2', opType: 'BinaryGemm', domain: 'ai.lowbit', inputs: ['h', 'w2'], outputs: ['y'], attrs: { alpha: [0.25] } },
        { name: 'g3', opType: 'BinaryGemm', domain: 'ai.lowbit', inputs: ['q', 'w3'], outputs: ['z'], attrs: { input_mode: 'real', a_zero_point: 4, output: 'int8', y_scale: 0.5, y_zero_point: 1 } },
        { name: 'g4', opType: 'BinaryGemm', domain: 'ai.lowbit', inputs: ['a', 'w3'], outputs: ['u'], attrs: { input_mode: 'real', alpha: [2] } },
      ],
      inputs: [{ name: 'a', dtype: 'float32', shape: [2, k] }, { name: 'q', dtype: 'uint8', shape: [2, k] }],
      outputs: ['y', 'z', 'u'].map((name) => ({ name, dtype: name === 'z' ? 'int8' : 'float32', shape: [] })),
      constants: new Map<string, Tensor>([['w1', w1], ['w2', w2], ['w3', w3]]),
    });
    const s = await Session.create(exportModel(g));
    assert.ok(!s.planFor({ a: [2, k], q: [2, k] }).steps.some((st) => st.includes('#signs')));
    const a = new Tensor('float32', rng.floats(2 * k, -1, 1), [2, k]);
    const q = new Tensor('uint8', Uint8Array.from({ length: 2 * k }, () => rng.int(0, 255)), [2, k]);
    const r = await s.run({ a, q });
    const h = ops.binaryGemm(a, w1, { output: 'bit', threshold: 0.5, beta: 1 });
    assert.deepEqual(r.y.data, ops.binaryGemm(h, w2, { alpha: 0.25 }).data);
    assert.deepEqual(r.z.data, ops.binaryWeightGemm(q, w3, { aZeroPoint: 4, output: 'int8', yScale: 0.5, yZeroPoint: 1 }).data);
    assert.deepEqual(r.u.data, ops.binaryWeightGemm(a, w3, { alpha: 2 }).data);
    // The int8 BinaryConnect sum is exact: check one value by hand.
    let dot = 0;
    for (let i = 0; i < k; i++) dot += ((q.data as Uint8Array)[i] - 4) * sign((w3.data as Float32Array)[i]);
    assert.equal((r.z.data as Int8Array)[0], Math.min(127, Math.max(-128, roundHalfEven(f32(dot / 0.5)) + 1)));
  });

  it('auto_pad SAME_UPPER / SAME_LOWER / VALID, dilations, int8 weights and int8 output follow ONNX Conv', async () => {
    const rng = new Rng(3);
    const wInt8 = new Tensor('int8', Int8Array.from({ length: 4 * 3 * 9 }, () => rng.int(-5, 5)), [4, 3, 3, 3]);
    const w = new Tensor('float32', Float32Array.from(wInt8.data as Int8Array), [4, 3, 3, 3]);
    const x = new Tensor('float32', rng.floats(2 * 3 * 70, -1, 1), [2, 3, 7, 10]);
    const t: Transform = { output: 'int8', alpha: [0.5], beta: [-1], yScale: 0.25, yZeroPoint: 0 };
    const expected: Record<string, { pads: number[]; shape: number[] }> = {
      // ceil(7 / 2) x ceil(10 / 2); the dilated kernel is 3x5, so 2 and 3 rows / columns of padding
      SAME_UPPER: { pads: [1, 1, 1, 2], shape: [2, 4, 4, 5] },
      SAME_LOWER: { pads: [1, 2, 1, 1], shape: [2, 4, 4, 5] },
      VALID: { pads: [0, 0, 0, 0], shape: [2, 4, 3, 3] },
    };
    for (const [autoPad, e] of Object.entries(expected)) {
      const g = new Graph({
        opset: 17,
        nodes: [{ name: 'c', opType: 'BinaryConv', domain: 'ai.lowbit', inputs: ['x', 'w'], outputs: ['y'], attrs: { auto_pad: autoPad, strides: [2, 2], dilations: [1, 2], ...transformAttrs(t) } }],
        inputs: [{ name: 'x', dtype: 'float32', shape: [2, 3, 7, 10] }],
        outputs: [{ name: 'y', dtype: 'int8', shape: [] }],
        constants: new Map<string, Tensor>([['w', wInt8]]),
      });
      const y = (await Session.create(exportModel(g))).runSync({ x }).y;
      assert.deepEqual(y.shape, e.shape, autoPad);
      const ref = signConv(Array.from(x.data as Float32Array), x.shape, { w, pads: e.pads, strides: [2, 2], dilations: [1, 2] }, 'zero');
      assert.deepEqual(ref.shape, e.shape);
      assert.deepEqual(Array.from(y.data as Int8Array), applyChannels(t, ref.dots, ref.shape), autoPad);
    }
  });

  it('export and import keep the domain, its opset_import and the attribute types', () => {
    const rng = new Rng(1);
    const m = buildModel(rng, { padMode: 'one', gemmOutput: 'int8', exposeSigns: false });
    m.graph.domains = {}; // exportModel declares ai.lowbit itself
    const bytes = exportModel(m.graph);
    const proto = onnx.ModelProto.decode(bytes);
    assert.deepEqual(proto.opsetImport.map((o) => [o.domain, Number(String(o.version))]), [['', 17], ['ai.lowbit', 1]]);
    const conv = proto.graph!.node!.find((n) => n.name === 'bconv1')!;
    assert.equal(conv.domain, 'ai.lowbit');
    const T = onnx.AttributeProto.AttributeType;
    const types = Object.fromEntries(conv.attribute!.map((a) => [a.name, a.type]));
    assert.deepEqual(types, { kernel_shape: T.INTS, pads: T.INTS, strides: T.INTS, pad_mode: T.STRING, output: T.STRING, alpha: T.FLOATS, beta: T.FLOATS, threshold: T.FLOATS });
    const fc = proto.graph!.node!.find((n) => n.name === 'bfc')!;
    assert.equal(fc.attribute!.find((a) => a.name === 'y_scale')!.type, T.FLOAT);
    assert.equal(fc.attribute!.find((a) => a.name === 'y_zero_point')!.type, T.INT);
    const back = importModel(bytes);
    assert.deepEqual(back.domains, { 'ai.lowbit': 1 });
    const node = back.nodes.find((n) => n.name === 'bconv1')!;
    assert.equal(node.domain, 'ai.lowbit');
    assert.equal(node.attrs.pad_mode, 'one');
    assert.deepEqual(node.attrs.threshold, m.t1.threshold);
    // Whole-number floats stay FLOAT(S) in this domain.
    const tiny = new Graph({
      opset: 17,
      nodes: [{ name: 'g', opType: 'BinaryGemm', domain: 'ai.lowbit', inputs: ['a', 'w'], outputs: ['y'], attrs: { output: 'int8', y_scale: 2, alpha: [1], beta: 0 } },
        { name: 'h', opType: 'BinaryGemm', domain: 'ai.lowbit', inputs: ['a', 'w'], outputs: ['z'], attrs: { output: 'sign', threshold: [0] } }],
      inputs: [{ name: 'a', dtype: 'float32', shape: [1, 4] }], outputs: [{ name: 'y', dtype: 'int8', shape: [1, 2] }, { name: 'z', dtype: 'float32', shape: [1, 2] }],
      constants: new Map([['w', new Tensor('float32', new Float32Array(8), [2, 4])]]),
    });
    const tinyNodes = onnx.ModelProto.decode(exportModel(tiny)).graph!.node!;
    const typeOf = (i: number, name: string) => tinyNodes[i].attribute!.find((x) => x.name === name)!.type;
    assert.deepEqual([typeOf(0, 'y_scale'), typeOf(0, 'alpha'), typeOf(0, 'beta'), typeOf(1, 'threshold')], [T.FLOAT, T.FLOATS, T.FLOAT, T.FLOATS]);
    // A second export of the imported graph gives the same bytes.
    assert.deepEqual(exportModel(back), bytes);
  });

  it('the ops record form: bitpackInto, binaryConv2dInto, binaryGemmInto, bitunpackInto in one Program equal the immediate calls', async () => {
    const rng = new Rng(17);
    const [n, h, w, c, m] = [2, 6, 5, 70, 9];
    const x = new Tensor('float32', rng.floats(n * h * w * c, -1, 1), [n, h, w, c]);
    const conv = ops.packBinaryConv2d(new Tensor('float32', rng.floats(m * 9 * c, -1, 1), [m, 3, 3, c]), { pads: 1, output: 'bit', threshold: 1 });
    const fc = ops.packBinaryGemm(new Tensor('float32', rng.floats(3 * m, -1, 1), [3, m]), { alpha: 0.5, output: 'float32' });
    const pixels = n * h * w;
    // Arena: x (float32), its bits (70 channels: 2 words a pixel), the layer's bits (1 word), the GEMM output.
    const at = { x: 0, xb: 16896, yb: 16896 + 960, ys: 16896 + 960 + 512, direct: 16896 + 960 + 512 + 768 };
    const slot = <D extends 'float32' | 'bit'>(dtype: D, shape: readonly number[], ref: number) => ({ dtype, shape, ref });
    const program = new Program(at.direct + 512);
    ops.bitpackInto(slot('float32', x.shape, at.x), slot('bit', x.shape, at.xb), program);
    // float32 input straight into a recorded convolution: binarized when the step runs
    ops.binaryConv2dInto(slot('float32', x.shape, at.x), conv, slot('bit', [n, h, w, m], at.direct), program);
    ops.binaryConv2dInto(slot('bit', x.shape, at.xb), conv, slot('bit', [n, h, w, m], at.yb), program);
    ops.binaryGemmInto(slot('bit', [n, h, w, m], at.yb), fc, slot('float32', [n, h, w, 3], at.ys), program);
    ops.bitunpackInto(slot('bit', [n, h, w, m], at.yb), slot('float32', [n, h, w, m], at.x), program); // x is dead by now
    assert.deepEqual(program.labels(), ['bitpack', 'binary_conv2d', 'binary_conv2d', 'binary_gemm', 'bitunpack']);
    const bits = ops.binaryConv2d(x, conv);
    for (const run of ['run', 'runSync'] as const) {
      const out = new Float32Array(pixels * 3), signs = new Float32Array(pixels * m), xBits = new Uint8Array(pixels * 16), direct = new Uint8Array(pixels * 8), layerBits = new Uint8Array(pixels * 8);
      await program[run]([x.data], [at.x], [out, signs, xBits, direct, layerBits], [at.ys, at.x, at.xb, at.direct, at.yb]);
      assert.deepEqual(xBits, ops.bitpack(x).data, run);
      assert.deepEqual(direct, bits.data, run);
      assert.deepEqual(layerBits, bits.data, run);
      assert.deepEqual(out, ops.binaryGemm(bits, fc).data, run);
      assert.deepEqual(signs, ops.bitunpack(bits).data, run);
    }
  });

  it('recorded steps read packed bits at any offset (copied when not on a word) and give the same values', () => {
    const rng = new Rng(4);
    const x = new Tensor('float32', rng.floats(3 * 100, -1, 1), [3, 100]);
    const bits = ops.bitpack(x);
    const fc = ops.packBinaryGemm(new Tensor('float32', rng.floats(5 * 100, -1, 1), [5, 100]), { output: 'int8', yScale: 0.5, beta: 3 });
    const program = new Program(4096);
    const at = { bits: 4, signs: 1024, y: 512 };
    ops.bitunpackInto({ dtype: 'bit', shape: [3, 100], ref: at.bits }, { dtype: 'float32', shape: [3, 100], ref: at.signs }, program);
    ops.binaryGemmInto({ dtype: 'bit', shape: [3, 100], ref: at.bits }, fc, { dtype: 'int8', shape: [3, 5], ref: at.y }, program);
    const signs = new Float32Array(300), y = new Int8Array(15);
    program.runSync([bits.data], [at.bits], [signs, y], [at.signs, at.y]);
    assert.deepEqual(signs, ops.bitunpack(bits).data);
    assert.deepEqual(y, ops.binaryGemm(bits, fc).data);
    assert.deepEqual(y, ops.binaryGemm(x, fc).data);
  });

  it('the record form refuses bad operands with LowbitErrors', () => {
    const conv = ops.packBinaryConv2d(new Tensor('float32', new Float32Array(2 * 9 * 3).fill(1), [2, 3, 3, 3]), { output: 'bit' });
    const program = new Program(1024);
    const x = { dtype: 'float32' as const, shape: [1, 4, 4, 3], ref: 0 };
    assert.throws(() => ops.binaryConv2dInto(x, conv, { dtype: 'float32', shape: [1, 2, 2, 2], ref: 512 }, program), code('E_DTYPE', /out must be bit/));
    assert.throws(() => ops.binaryConv2dInto(x, conv, { dtype: 'bit', shape: [1, 3, 3, 2], ref: 512 }, program), code('E_SHAPE', /out must have shape \[1, 2, 2, 2\]/));
    assert.throws(() => ops.binaryConv2dInto(x, conv, { dtype: 'bit', shape: [1, 2, 2, 2], ref: 1020 }, program), code('E_SHAPE', /arena/));
    assert.throws(() => ops.binaryConv2dInto(x, conv, new Tensor('bit', new Uint8Array(32), [1, 2, 2, 2]), program), code('E_ARG', /Tensor was given while recording/));
    assert.throws(() => ops.binaryConv2dInto(x, conv, { dtype: 'bit', shape: [1, 2, 2, 2], ref: 512 }), code('E_ARG', /Slot was given without a Program/));
    assert.throws(() => ops.binaryConv2dInto(x, {} as never, x), code('E_ARG', /BinaryConv2d/));
    const t = new Tensor('float32', new Float32Array(48), [1, 4, 4, 3]);
    assert.throws(() => ops.bitunpackInto(t, t), code('E_DTYPE', /x must be bit/));
    assert.throws(() => ops.bitpackInto({ dtype: 'int32', shape: [3], ref: 0 }, { dtype: 'bit', shape: [3], ref: 64 }, program), code('E_DTYPE'));
    const y = new Tensor('float32', new Float32Array(8), [1, 2, 2, 2]);
    const fconv = ops.packBinaryConv2d(new Tensor('float32', new Float32Array(2 * 9 * 3).fill(1), [2, 3, 3, 3]));
    assert.throws(() => ops.binaryConv2dInto(new Tensor('float32', y.data.subarray(0, 0) as never, [1, 0, 4, 3]), fconv, y), code('E_SHAPE'));
    assert.equal(program.stepCount, 0);
  });

  describe('bad nodes', () => {
    const rng = new Rng(2);
    const w = new Tensor('float32', rng.floats(4 * 3 * 9, -1, 1), [4, 3, 3, 3]);
    async function plan(attrs: Record<string, AttrValue>, opts: { weight?: Tensor; opType?: string; xShape?: number[]; wAsInput?: boolean } = {}) {
      const weight = opts.weight ?? w;
      const g = new Graph({
        opset: 17,
        nodes: [{ name: 'bad', opType: opts.opType ?? 'BinaryConv', domain: 'ai.lowbit', inputs: ['x', 'w'], outputs: ['y'], attrs }],
        inputs: [{ name: 'x', dtype: 'float32', shape: opts.xShape ?? [1, 3, 6, 6] }, ...(opts.wAsInput ? [{ name: 'w', dtype: 'float32' as const, shape: [...weight.shape] }] : [])],
        outputs: [{ name: 'y', dtype: 'float32', shape: [] }],
        constants: opts.wAsInput ? new Map() : new Map([['w', weight]]),
      });
      const s = await Session.create(exportModel(g));
      const feeds: Record<string, Tensor> = { x: Tensor.zeros('float32', opts.xShape ?? [1, 3, 6, 6]) };
      if (opts.wAsInput) feeds.w = weight;
      return s.run(feeds);
    }
    const named = /node 'bad' \(ai\.lowbit\.Binary(Conv|Gemm)\)/;

    it('invalid attributes are E_MODEL_INVALID naming the node', async () => {
      await assert.rejects(plan({ output: 'int8' }), code('E_MODEL_INVALID', /needs the attribute 'y_scale'/));
      await assert.rejects(plan({ output: 'bits' }), code('E_MODEL_INVALID', /'output' must be "float", "int8" or "sign"/));
      await assert.rejects(plan({ pad_mode: 'reflect' }), code('E_MODEL_INVALID', /pad_mode must be "zero" or "one"/));
      await assert.rejects(plan({ alpha: [1, 2, 3] }), code('E_MODEL_INVALID', /'alpha' has 3 values, expected 1 or 4/));
      await assert.rejects(plan({ threshold: [0] }), code('E_MODEL_INVALID', /threshold' applies to output "sign" only/));
      await assert.rejects(plan({ y_scale: 0.5 }), code('E_MODEL_INVALID', /apply to output "int8" only/));
      await assert.rejects(plan({ output: 'int8', y_scale: -1 }), code('E_MODEL_INVALID', /yScale must be a positive/));
      await assert.rejects(plan({ output: 'int8', y_scale: 1, y_zero_point: 300 }), code('E_MODEL_INVALID', /yZeroPoint/));
      await assert.rejects(plan({ beta: [Number.NaN] }), code('E_MODEL_INVALID', /beta\[0\] must be a finite number/));
      await assert.rejects(plan({ kernel_shape: [5, 5] }), code('E_MODEL_INVALID', /kernel_shape \[5, 5\] disagrees with W/));
      await assert.rejects(plan({ pads: [1, 1] }), code('E_MODEL_INVALID', /pads must have 4 values/));
      await assert.rejects(plan({ strides: [0, 1] }), code('E_MODEL_INVALID', /must be positive/));
      await assert.rejects(plan({ auto_pad: 'SAME', pads: [0, 0, 0, 0] }), code('E_MODEL_INVALID', /auto_pad/));
      await assert.rejects(plan({ pads: [0, 0, 0, 0] }, { xShape: [1, 3, 2, 2] }), code('E_MODEL_INVALID', /does not fit the padded input/));
      for (const attrs of [{ output: 'int8' }, { pad_mode: 'x' }] as Record<string, AttrValue>[]) await assert.rejects(plan(attrs), code('E_MODEL_INVALID', named));
    });

    it('wrong weights and inputs are E_MODEL_INVALID; group != 1 and non-constant weights are E_UNSUPPORTED_OP', async () => {
      await assert.rejects(plan({}, { weight: new Tensor('float32', new Float32Array(36), [4, 9]) }), code('E_MODEL_INVALID', /W must be \[M, C, kH, kW\], got \[4, 9\]/));
      await assert.rejects(plan({}, { weight: new Tensor('int32', new Int32Array(108), [4, 3, 3, 3]) }), code('E_MODEL_INVALID', /W must be float32 or int8/));
      await assert.rejects(plan({}, { xShape: [1, 5, 6, 6] }), code('E_MODEL_INVALID', /X has 5 channels/));
      await assert.rejects(plan({ group: 3 }), code('E_UNSUPPORTED_OP', /group = 3/));
      await assert.rejects(plan({}, { wAsInput: true }), code('E_UNSUPPORTED_OP', /W must be an initializer/));
      await assert.rejects(plan({}, { opType: 'BinaryGemm', weight: new Tensor('float32', new Float32Array(20), [4, 5]) }), code('E_MODEL_INVALID', /its last axis must be K = 5/));
      await assert.rejects(plan({ input_mode: 'xnor' }, { opType: 'BinaryGemm', weight: new Tensor('float32', new Float32Array(24), [4, 6]) }), code('E_MODEL_INVALID', /input_mode must be "sign" or "real"/));
      await assert.rejects(plan({ a_zero_point: 3 }, { opType: 'BinaryGemm', weight: new Tensor('float32', new Float32Array(24), [4, 6]) }), code('E_MODEL_INVALID', /a_zero_point' applies to input_mode "real" only/));
      await assert.rejects(plan({ input_mode: 'real', a_zero_point: 3 }, { opType: 'BinaryGemm', weight: new Tensor('float32', new Float32Array(24), [4, 6]) }), code('E_MODEL_INVALID', /applies to int8\/uint8 A only/));
      await assert.rejects(plan({}, { opType: 'BinaryPool' }), code('E_UNSUPPORTED_OP', /node 'bad' \(ai\.lowbit\.BinaryPool\) is not supported/));
    });
  });
});
