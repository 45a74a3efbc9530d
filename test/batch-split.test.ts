// Batch split: with two threads, Session.run gives each thread a part of the
// batch; the result is the same bytes as one run over the whole batch, and
// models that mix batch items are never split.
import { strict as assert } from 'node:assert';
import { cpu } from '../lib';
import { importModel } from '../lib/graph/import';
import { defaultModelPath } from '../lib/cli/default-job';
import { batchIndependent } from '../lib/runtime/batch-split';
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
        const got = await s.run({ x });
        assert.deepEqual([...got.y.shape], [n, 16, 40, 40]);
        assert.deepEqual(Array.from(got.y.data as Float32Array), want, `batch ${n}`);
      }
    });
  }

  it('the classifier (fp32) at batch 8: identical outputs split or not', async () => {
    const lines = new Rng(5).floats(8 * 3 * 48 * 192, -1, 1);
    const x = new Tensor('float32', lines, [8, 3, 48, 192]);
    cpu.setThreads(2);
    const split = await (await Session.create(defaultModelPath())).run({ x });
    const whole = await (await Session.create(defaultModelPath(), { batchSplit: false })).run({ x });
    const k = Object.keys(whole)[0];
    assert.deepEqual(Array.from(split[k].data as Float32Array), Array.from(whole[k].data as Float32Array));
  });
});
