// Session: the public model-runner API. Loading, running sync and async,
// dynamic batch, concurrent runs, and a LowbitError (never a crash) for bad
// models and bad feeds.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LowbitError } from '../lib/errors';
import { Session } from '../lib/runtime/session';
import { Tensor } from '../lib/tensor/tensor';
import { buildModel } from './helpers/onnx-builder';
import { Rng } from './helpers/random';

const K = 48, N = 24;

function qlinearModel(): Uint8Array {
  const rng = new Rng(11);
  const b = new Tensor('int8', Int8Array.from({ length: K * N }, () => rng.int(-127, 127)), [K, N]);
  return buildModel({
    nodes: [
      { op: 'QuantizeLinear', inputs: ['x', 'xs', 'xz'], outputs: ['xq'] },
      { op: 'QLinearMatMul', inputs: ['xq', 'xs', 'xz', 'b', 'bs', 'bz', 'ys', 'yz'], outputs: ['yq'] },
      { op: 'DequantizeLinear', inputs: ['yq', 'ys', 'yz'], outputs: ['y'] },
    ],
    inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', K] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', N] }],
    initializers: {
      xs: new Tensor('float32', [0.02], []), xz: new Tensor('uint8', [128], []), b,
      bs: new Tensor('float32', [0.01], []), bz: new Tensor('int8', [0], []),
      ys: new Tensor('float32', [0.05], []), yz: new Tensor('uint8', [100], []),
    },
  });
}

function input(batch: number, seed = 3): Tensor {
  const rng = new Rng(seed);
  return new Tensor('float32', rng.floats(batch * K, -2, 2), [batch, K]);
}

function code(c: string, re?: RegExp) {
  return (e: unknown) => e instanceof LowbitError && e.code === c && (re === undefined || re.test(e.message));
}

describe('Session', () => {
  const model = qlinearModel();

  it('exposes input and output names and metadata', async () => {
    const s = await Session.create(model);
    assert.deepEqual(s.inputNames, ['x']);
    assert.deepEqual(s.outputNames, ['y']);
    assert.deepEqual(s.inputMetadata[0], { name: 'x', dtype: 'float32', shape: ['batch', K] });
    assert.deepEqual(s.outputMetadata[0], { name: 'y', dtype: 'float32', shape: ['batch', N] });
  });

  it('loads from a file path as from bytes, and run equals runSync', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lowbit-')), 'm.onnx');
    fs.writeFileSync(file, model);
    const a = await Session.create(file), b = Session.createSync(model);
    const x = input(4);
    const ra = await a.run({ x }), rb = b.runSync({ x });
    assert.deepEqual(ra.y.shape, [4, N]);
    assert.deepEqual(ra.y.data, rb.y.data);
  });

  it('takes a new batch size on every call (dynamic batch); rows do not depend on the batch', async () => {
    const s = await Session.create(model);
    const x8 = input(8);
    const r8 = await s.run({ x: x8 });
    for (const batch of [1, 3, 8, 2]) {
      const x = new Tensor('float32', (x8.data as Float32Array).slice(0, batch * K), [batch, K]);
      const r = await s.run({ x });
      assert.deepEqual(r.y.shape, [batch, N]);
      assert.deepEqual(r.y.data, (r8.y.data as Float32Array).slice(0, batch * N));
    }
  });

  it('runs concurrent calls on one session safely', async () => {
    const s = await Session.create(model);
    const xs = Array.from({ length: 12 }, (_, i) => input(1 + (i % 5), i));
    const want = xs.map((x) => s.runSync({ x }).y.data);
    const got = await Promise.all(xs.map((x) => s.run({ x })));
    got.forEach((r, i) => assert.deepEqual(r.y.data, want[i]));
  });

  it('rejects bad feeds with a LowbitError naming the input', async () => {
    const s = await Session.create(model);
    await assert.rejects(s.run({}), code('E_ARG', /input 'x' is missing/));
    await assert.rejects(s.run({ x: input(1), z: input(1) }), code('E_ARG', /'z' is not an input/));
    await assert.rejects(s.run({ x: new Tensor('int32', new Int32Array(K), [1, K]) }), code('E_DTYPE', /'x' must be float32/));
    await assert.rejects(s.run({ x: new Tensor('float32', new Float32Array(K + 1), [1, K + 1]) }), code('E_SHAPE', /dimension 1 must be 48/));
    await assert.rejects(s.run({ x: new Tensor('float32', new Float32Array(K), [K]) }), code('E_SHAPE', /rank 2/));
    assert.throws(() => s.runSync({ x: [1, 2, 3] as unknown as Tensor }), code('E_ARG', /must be a Tensor/));
  });

  it('rejects bad models with a LowbitError: garbage, truncated, empty, missing file, unsupported op', async () => {
    await assert.rejects(Session.create(new Uint8Array(0)), code('E_MODEL_INVALID', /empty/));
    await assert.rejects(Session.create(Uint8Array.from({ length: 300 }, (_, i) => (i * 131) & 255)), code('E_MODEL_INVALID'));
    await assert.rejects(Session.create(model.subarray(0, model.length - 40)), code('E_MODEL_INVALID'));
    await assert.rejects(Session.create('/nonexistent/model.onnx'), code('E_ARG', /cannot read model/));
    await assert.rejects(Session.create(42 as unknown as Uint8Array), code('E_ARG'));
    const unsupported = buildModel({
      nodes: [{ op: 'Einsum', inputs: ['x', 'x'], outputs: ['y'], attributes: { equation: 'ij,ij->ij' } }],
      inputs: [{ name: 'x', dtype: 'float32', shape: [2, 2] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [2, 2] }],
    });
    await assert.rejects(Session.create(unsupported), code('E_UNSUPPORTED_OP', /node 'Einsum_0' \(Einsum\)/));
    const dangling = buildModel({
      nodes: [{ op: 'Identity', inputs: ['nowhere'], outputs: ['y'] }],
      inputs: [{ name: 'x', dtype: 'float32', shape: [2] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [2] }],
    });
    await assert.rejects(Session.create(dangling), code('E_MODEL_INVALID', /'nowhere'/));
  });

  it('returns outputs known at plan time (shape arithmetic) without a kernel call', async () => {
    const m = buildModel({
      nodes: [{ op: 'Shape', inputs: ['x'], outputs: ['s'] }],
      inputs: [{ name: 'x', dtype: 'float32', shape: ['n', 5] }],
      outputs: [{ name: 's', dtype: 'int32', shape: [2] }],
    });
    const s = await Session.create(m);
    const r = await s.run({ x: new Tensor('float32', new Float32Array(15), [3, 5]) });
    assert.deepEqual(Array.from(r.s.data as Int32Array), [3, 5]);
    assert.equal(s.planFor({ x: [3, 5] }).steps.length, 0);
  });

  it('freezes inputs into constants on request', async () => {
    const m = buildModel({
      nodes: [{ op: 'MatMulInteger', inputs: ['a', 'b'], outputs: ['y'] }],
      inputs: [{ name: 'a', dtype: 'uint8', shape: [2, 3] }, { name: 'b', dtype: 'int8', shape: [3, 2] }],
      outputs: [{ name: 'y', dtype: 'int32', shape: [2, 2] }],
    });
    const b = new Tensor('int8', [1, 2, 3, 4, 5, 6], [3, 2]);
    const s = await Session.create(m, { freeze: { b } });
    assert.deepEqual(s.inputNames, ['a']);
    const r = await s.run({ a: new Tensor('uint8', [1, 0, 2, 0, 1, 0], [2, 3]) });
    assert.deepEqual(Array.from(r.y.data as Int32Array), [11, 14, 3, 4]);
    await assert.rejects(Session.create(m, { freeze: { c: b } }), code('E_ARG', /'c', which is not an input/));
  });
});
