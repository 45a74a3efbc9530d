// Calibration from an image folder (sharp), and the quantization report:
// per-layer SQNR, the HTML page, the terminal table.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LowbitError } from '../lib/errors';
import { defaultModelPath } from '../lib/cli/default-job';
import { imageFolderBatches, loadImage } from '../lib/quant/data/images';
import { layerTable, renderReportHtml } from '../lib/quant/report';
import { quantizeStaticDetailed, StaticResult } from '../lib/quant/static';
import { Session } from '../lib/runtime/session';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createCanvas } = require('@napi-rs/canvas') as typeof import('@napi-rs/canvas');

function solidPng(file: string, w: number, h: number, rgb: [number, number, number]): void {
  const c = createCanvas(w, h);
  const ctx = c.getContext('2d');
  ctx.fillStyle = `rgb(${rgb.join(',')})`;
  ctx.fillRect(0, 0, w, h);
  fs.writeFileSync(file, c.toBuffer('image/png'));
}

function stripesPng(file: string, w: number, h: number, seed: number): void {
  const c = createCanvas(w, h);
  const ctx = c.getContext('2d');
  ctx.fillStyle = 'rgb(230,225,220)';
  ctx.fillRect(0, 0, w, h);
  ctx.fillStyle = 'rgb(20,20,40)';
  for (let x = seed % 7; x < w; x += 9 + (seed % 5)) ctx.fillRect(x, h / 4, 3, h / 2);
  fs.writeFileSync(file, c.toBuffer('image/png'));
}

const code = (c: string) => (e: unknown) => e instanceof LowbitError && e.code === c;

describe('calibration images (sharp)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lowbit-images-'));
  before(() => {
    solidPng(path.join(dir, 'a-red.png'), 40, 20, [255, 0, 0]);
    solidPng(path.join(dir, 'b-gray.png'), 10, 30, [51, 102, 204]);
    for (let i = 0; i < 9; i++) stripesPng(path.join(dir, `c-${i}.png`), 300, 60, i);
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not an image');
  });

  it('decodes, resizes and normalizes one image in NCHW and NHWC', async () => {
    const o = { width: 4, height: 2, mean: [0.5, 0.5, 0.5], std: [0.5, 0.25, 0.5] };
    const nchw = await loadImage(path.join(dir, 'a-red.png'), o);
    assert.deepEqual(Array.from(nchw.subarray(0, 8)), new Array(8).fill(1)); // R: (1 - 0.5) / 0.5
    assert.deepEqual(Array.from(nchw.subarray(8, 16)), new Array(8).fill(-2)); // G: (0 - 0.5) / 0.25
    const nhwc = await loadImage(path.join(dir, 'b-gray.png'), { ...o, layout: 'nhwc', mean: [0], std: [1], scale: 1 });
    assert.deepEqual(Array.from(nhwc.subarray(0, 6)), [51, 102, 204, 51, 102, 204]);
  });

  it('batches a folder in file-name order, skipping other files', async () => {
    const it = imageFolderBatches(dir, { width: 192, height: 48, batch: 4, input: 'x' });
    assert.equal(it.count, 11);
    assert.equal(it.batches, 3);
    const shapes: number[][] = [];
    for await (const f of it) shapes.push([...f.x.shape]);
    assert.deepEqual(shapes, [[4, 3, 48, 192], [4, 3, 48, 192], [3, 3, 48, 192]]);
  });

  it('rejects bad folders and options', async () => {
    assert.throws(() => imageFolderBatches(path.join(dir, 'missing'), { width: 4, height: 4 }), code('E_ARG'));
    assert.throws(() => imageFolderBatches(fs.mkdtempSync(path.join(os.tmpdir(), 'lowbit-empty-')), { width: 4, height: 4 }), code('E_ARG'));
    assert.throws(() => imageFolderBatches(dir, { width: 0, height: 4 }), code('E_ARG'));
    await assert.rejects(loadImage(path.join(dir, 'a-red.png'), { width: 4, height: 4, std: [1, 0, 1] }), code('E_ARG'));
    await assert.rejects(loadImage(path.join(dir, 'notes.txt'), { width: 4, height: 4 }), code('E_ARG'));
  });

  describe('quantizing the classifier on the image folder, with a report', () => {
    let r: StaticResult;
    before(async function () {
      this.timeout(120000);
      const calibration = imageFolderBatches(dir, { width: 192, height: 48, mean: [0.5], std: [0.5], batch: 4, input: 'x' });
      r = await quantizeStaticDetailed(defaultModelPath(), { calibration, method: 'percentile', report: true });
    });

    it('calibrates every batch and writes a model that runs', async () => {
      assert.equal(r.calibrationBatches, 3);
      const s = await Session.create(r.model);
      const out = s.runSync(await firstBatch(dir))[s.outputNames[0]];
      assert.deepEqual([...out.shape], [4, 2]);
    });

    it('reports every quantized activation with its SQNR, range and histogram', () => {
      assert.ok(r.layers);
      assert.equal(r.layers!.length, r.activations.length);
      const input = r.layers!.find((l) => l.name === 'x')!;
      assert.equal(input.producer, 'input');
      // The input is only rounded to 8 bits: its SQNR is high; deeper layers add error.
      assert.ok(input.sqnr > 30, `input SQNR ${input.sqnr}`);
      for (const l of r.layers!) {
        assert.ok(!Number.isNaN(l.sqnr), l.name);
        assert.equal(l.histogram.length, 64);
        assert.ok(l.histogram.reduce((a, b) => a + b, 0) > 0, l.name);
        assert.ok(l.clipped >= 0 && l.clipped <= 1);
        assert.ok(l.observed[0] <= l.observed[1]);
      }
      assert.equal(r.outputs!.length, 1);
      assert.ok(r.outputs![0].sqnr > 10, `output SQNR ${r.outputs![0].sqnr}`);
    });

    it('renders an HTML page with the SQNR chart and a histogram per layer', () => {
      const html = renderReportHtml(r, { model: 'cls.onnx', method: 'percentile' });
      assert.match(html, /^<!doctype html>/);
      assert.equal((html.match(/<svg /g) ?? []).length, 1 + r.layers!.length);
      for (const l of r.layers!.slice(0, 5)) assert.ok(html.includes(l.name), l.name);
      assert.ok(!/<script/i.test(html));
      const table = layerTable(r.layers!);
      assert.equal(table.length, r.layers!.length + 1);
    });
  });
});

async function firstBatch(dir: string) {
  for await (const f of imageFolderBatches(dir, { width: 192, height: 48, mean: [0.5], std: [0.5], batch: 4, input: 'x' })) return f;
  throw new Error('no batch');
}
