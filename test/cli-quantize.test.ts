// The lowbit CLI's model commands, run as a user would: quantize (static with
// a report, dynamic, weight-only int4), inspect and bench, and errors a person
// can act on.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultModelPath } from '../lib/cli/default-job';
import { Session } from '../lib/runtime/session';
import { Tensor } from '../lib/tensor/tensor';
import { buildModel } from './helpers/onnx-builder';
import { Rng } from './helpers/random';

const main = path.resolve(__dirname, '..', 'lib', 'cli', 'main.js');

function lowbit(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', env: { ...process.env }, timeout: 120000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function mlp(file: string): void {
  const rng = new Rng(3);
  fs.writeFileSync(file, buildModel({
    nodes: [
      { op: 'MatMul', inputs: ['x', 'w1'], outputs: ['h'] },
      { op: 'Relu', inputs: ['h'], outputs: ['r'] },
      { op: 'Gemm', inputs: ['r', 'w2', 'b2'], outputs: ['y'], attributes: { transB: 1 } },
    ],
    inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 128] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 16] }],
    initializers: {
      w1: new Tensor('float32', rng.floats(128 * 96, -0.2, 0.2), [128, 96]),
      w2: new Tensor('float32', rng.floats(16 * 96, -0.2, 0.2), [16, 96]),
      b2: new Tensor('float32', rng.floats(16, -0.1, 0.1), [16]),
    },
    opset: 13,
  }));
}

describe('lowbit CLI: quantize, inspect, bench', function () {
  this.timeout(120000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lowbit-cli-'));
  const model = path.join(dir, 'mlp.onnx');
  before(() => mlp(model));

  it('quantize --dynamic writes a model that runs', () => {
    const out = path.join(dir, 'mlp.dyn.onnx');
    const r = lowbit('quantize', model, '-o', out, '--dynamic');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /2 MatMul\/Gemm nodes/);
    const y = Session.createSync(out).runSync({ x: new Tensor('float32', new Float32Array(256).fill(0.5), [2, 128]) }).y;
    assert.deepEqual([...y.shape], [2, 16]);
  });

  it('quantize --weights int4 writes an opset-21 int4 model at most 0.2x the size', () => {
    const out = path.join(dir, 'mlp.w4.onnx');
    const r = lowbit('quantize', model, '-o', out, '--weights', 'int4', '--block-size', '32');
    assert.equal(r.code, 0, r.err);
    assert.ok(fs.statSync(out).size <= 0.2 * fs.statSync(model).size, `${fs.statSync(out).size} vs ${fs.statSync(model).size}`);
    const i = lowbit('inspect', out);
    assert.equal(i.code, 0, i.err);
    assert.match(i.out, /opset 21/);
    assert.match(i.out, /int8 values in 2 DequantizeLinear/);
  });

  it('quantize --calib with --report prints per-layer SQNR and writes the HTML page; inspect and bench read the result', () => {
    const out = path.join(dir, 'cls.int8.onnx'), html = path.join(dir, 'report.html');
    const r = lowbit('quantize', defaultModelPath(), '-o', out, '--calib', 'textlines:16', '--method', 'percentile', '--histogram-sample', '1', '--report', html);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /per-layer error/);
    assert.match(r.out, /SQNR dB/);
    assert.match(fs.readFileSync(html, 'utf8'), /<svg/);
    const i = lowbit('inspect', out);
    assert.match(i.out, /quantized activation +scale +zp/);
    const b = lowbit('bench', out, '--batch', '1', '--runs', '5', '--shape', 'x=1,3,48,192');
    assert.equal(b.code, 0, b.err);
    assert.match(b.out, /^ +1 +\d+\.\d+ +\d+\.\d+ +\d+\.\d+x$/m);
  });

  it('run --profile times the model with run and runSync and lists every step', () => {
    const r = lowbit('run', model, '--shape', 'x=4,128', '--runs', '5', '--threads', '1', '--profile');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /median \d+\.\d+ ms \(run\), \d+\.\d+ ms \(runSync\) over 5 runs/);
    assert.match(r.out, /per step over 5 runSync runs \(sum \d+\.\d+ us\)/);
    // One line per planned step: kernel and node, e.g. the MLP's GEMMs.
    assert.match(r.out, /^ +\d+\.\d+ +\d+\.\d%  \S+ +\S+/m);
  });

  it('explains what is wrong with a command line', () => {
    const noOut = lowbit('quantize', model, '--dynamic');
    assert.equal(noOut.code, 1);
    assert.match(noOut.err, /-o out\.onnx/);
    const badWeights = lowbit('quantize', model, '-o', path.join(dir, 'x.onnx'), '--weights', 'int3');
    assert.match(badWeights.err, /--weights must be int4 or int8/);
    const noCalib = lowbit('quantize', model, '-o', path.join(dir, 'x.onnx'));
    assert.match(noCalib.err, /--calib/);
    const freeDims = lowbit('bench', model, '--runs', '1', '--batch', '1');
    assert.equal(freeDims.code, 0, freeDims.err);
    const badSample = lowbit('quantize', model, '-o', path.join(dir, 'x.onnx'), '--calib', 'textlines:8', '--histogram-sample', '0');
    assert.equal(badSample.code, 1);
    assert.match(badSample.err, /--histogram-sample must be a whole number of at least 1/);
    const unknown = lowbit('quantize', model, '--frobnicate');
    assert.match(unknown.err, /unknown option --frobnicate/);
  });
});
