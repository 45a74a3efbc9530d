// Batch split: with two threads, Session.run gives each thread a part of the
// batch; the result is the same bytes as one run over the whole batch, and
// models that mix batch items are never split.
import { strict as assert } from 'node:assert';
import { cpu } from '../lib';
import { importModel } from '../lib/graph/import';
import { defaultModelPath } from '../lib/cli/default-job';
import { batchIndependent } from '../lib/runtime/batch-split';
import { LowbitError } from '../lib/errors';
import { Program, RunPart } from '../lib/ops/program';
import { Session } from '../lib/runtime/session';
import { Tensor } from '../lib/tensor/tensor';
import { buildModel } from './helpers/onnx-builder';
import { Rng } from './helpers/random';

function convSoftmax(axis: number): Uint8Array {
  const rng = new Rng(2);
  return buildModel({
    nodes: [
      { op: 'Conv', inputs: ['x', 'w'], outputs: ['c'], attributes: { pads: [1, 1, 1, 1] } },
      { op: 'Relu', inputs: ['c'], outputs: ['r'] },
      { op: 'Softmax', inputs: ['r'], outputs: ['y'], attributes: { axis } },
    ],
    inputs: [{ name: 'x', dtype: 'float32', shape: ['n', 8, 40, 40] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['n', 16, 40, 40] }],
    initializers: { w: new Tensor('float32', rng.floats(16 * 8 * 9, -0.3, 0.3), [16, 8, 3, 3]) },
    opset: 13,
  });
}

describe('batch split across threads', function () {
  this.timeout(120000);
  const threads = cpu.threads;
  after(() => cpu.setThreads(threads));

  it('recognises models that keep batch items apart', () => {
    assert.equal(batchIndependent(importModel(convSoftmax(1))), true);
    assert.equal(batchIndependent(importModel(convSoftmax(-1))), true);
    assert.equal(batchIndependent(importModel(convSoftmax(0))), false);
    assert.equal(Session.createSync(defaultModelPath()).splitsBatches, true);
    assert.equal(Session.createSync(convSoftmax(1), { batchSplit: false }).splitsBatches, false);
  });

  for (const [name, model] of [['a conv model', convSoftmax(1)], ['one mixing items (softmax over axis 0)', convSoftmax(0)]] as const) {
    it(`${name}: run with 2 threads equals runSync over the whole batch, for odd and even batches`, async () => {
      const s = Session.createSync(model);
      const rng = new Rng(7);
      for (const n of [1, 2, 5, 8]) {
        const x = new Tensor('float32', rng.floats(n * 8 * 1600, -1, 1), [n, 8, 40, 40]);
        cpu.setThreads(1);
        const want = Array.from(s.runSync({ x }).y.data as Float32Array);
        cpu.setThreads(2);
        const pending = s.run({ x });
        // The inputs are copied in before run returns: the caller may reuse them at once.
        const kept = Float32Array.from(x.data as Float32Array);
        (x.data as Float32Array).fill(0);
        const got = await pending;
        assert.deepEqual([...got.y.shape], [n, 16, 40, 40]);
        assert.deepEqual(Array.from(got.y.data as Float32Array), want, `batch ${n}`);
        (x.data as Float32Array).set(kept);
        assert.deepEqual(Array.from(s.runSync({ x }).y.data as Float32Array), want, `runSync, batch ${n}`);
      }
    });
  }

  it('the classifier (fp32) at batch 8: identical outputs split or not', async () => {
    const lines = new Rng(5).floats(8 * 3 * 48 * 192, -1, 1);
    const x = new Tensor('float32', lines, [8, 3, 48, 192]);
    cpu.setThreads(2);
    const session = await Session.create(defaultModelPath());
    const split = await session.run({ x });
    const whole = await (await Session.create(defaultModelPath(), { batchSplit: false })).run({ x });
    const k = Object.keys(whole)[0];
    assert.deepEqual(Array.from(split[k].data as Float32Array), Array.from(whole[k].data as Float32Array));
    assert.deepEqual(Array.from(session.runSync({ x })[k].data as Float32Array), Array.from(whole[k].data as Float32Array));
  });

  it('concurrent split runs on one session, each over its own batch, give each its own answer', async () => {
    const s = Session.createSync(convSoftmax(1));
    const rng = new Rng(11);
    const xs = [4, 4, 6, 4].map((n) => new Tensor('float32', rng.floats(n * 8 * 1600, -1, 1), [n, 8, 40, 40]));
    cpu.setThreads(1);
    const want = xs.map((x) => Array.from(s.runSync({ x }).y.data as Float32Array));
    cpu.setThreads(2);
    for (let round = 0; round < 3; round++) {
      const got = await Promise.all(xs.map((x) => s.run({ x })));
      got.forEach((r, i) => assert.deepEqual(Array.from(r.y.data as Float32Array), want[i], `run ${i}, round ${round}`));
    }
  });

  it('Program.runParts names what is wrong with a part', () => {
    const program = new Program(64);
    const good = { program, inputs: [new Float32Array(4)], inputOffsets: [0], outputs: [new Float32Array(4)], outputOffsets: [16] };
    const code = (parts: unknown, async = false) => {
      try {
        Program.runParts(parts as RunPart[], async as false);
      } catch (e) {
        assert.ok(e instanceof LowbitError, String(e));
        return `${e.code}: ${e.message}`;
      }
      return 'no error';
    };
    assert.equal(code([good, good]), 'no error');
    assert.match(code([{ ...good, program: {} }]), /^E_ARG: .*parts\[0\]\[0\] must be a Program/);
    assert.match(code([good, { ...good, inputOffsets: [60] }]), /^E_SHAPE: .*parts\[1\] inputs\[0\] \(16 bytes at offset 60\) does not fit the arena of 64 bytes/);
    assert.match(code([{ ...good, outputs: [new Float32Array(4), new Float32Array(1)] }]), /^E_SHAPE: .*parts\[0\] outputs: 2 arrays but 1 offsets/);
  });
});
