// Binary convolution against lowbit's int8 convolution (im2col + the packed
// int8 GEMM, and the native ConvInteger when the build has it) and
// onnxruntime-node's fp32 Conv, in one process, single thread,
// N = 1, NHWC for lowbit (NCHW for onnxruntime). Reports medians, G-MAC/s
// (one MAC = one multiply-accumulate; for binary layers one bit-MAC) and, for
// the binary kernels, the fraction of the popcount peak in
// ../shared/tools/peak/results-this-machine.txt (or LOWBIT_PEAK_FILE).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cpu, ops, Session, Tensor } from '../lib';
import { exportModel } from '../lib/graph/export';
import { Graph, type Node } from '../lib/graph/ir';
import { buildModel } from '../test/helpers/onnx-builder';
import { ort } from '../test/helpers/ort';
import { Measurement, medianMs, table } from './harness';

export interface ConvShape {
  label: string;
  h: number;
  w: number;
  cin: number;
  cout: number;
  k: number;
  pad: number;
}

export const BINARY_SHAPES: ConvShape[] = [
  { label: '3x3 64->64 56x56', h: 56, w: 56, cin: 64, cout: 64, k: 3, pad: 1 },
  { label: '3x3 256->256 14x14', h: 14, w: 14, cin: 256, cout: 256, k: 3, pad: 1 },
  { label: '1x1 512->512 7x7', h: 7, w: 7, cin: 512, cout: 512, k: 1, pad: 0 },
];

/**
 * Single-thread popcount peaks (G bit-MAC/s per core) per binary kernel path,
 * from the peak tool's results file (LOWBIT_PEAK_FILE overrides the path), and
 * a warning when the file was evidently measured on another CPU (it records
 * whether AMX ran; this CPU's AMX support says otherwise).
 */
export function popcountPeaks(): { file: string; peaks: Record<string, number>; warning?: string } {
  const file = process.env.LOWBIT_PEAK_FILE
    ? path.resolve(process.env.LOWBIT_PEAK_FILE)
    : path.resolve(__dirname, '..', '..', '..', 'shared', 'tools', 'peak', 'results-this-machine.txt');
  const peaks: Record<string, number> = {};
  if (!fs.existsSync(file)) return { file, peaks };
  const map: Record<string, string> = { xor_popcntq_addq_zmm: 'avx512vpopcnt', xor_pshufb_sadbw_ymm: 'avx2' };
  const text = fs.readFileSync(file, 'utf8');
  for (const line of text.split('\n')) {
    // kernel  thr  unit (one or two words)  G/s/core  ...
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || !map[f[0]] || f[1] !== '1') continue;
    const perCore = f.slice(2).find((t) => /^[0-9.]+$/.test(t));
    if (perCore) peaks[map[f[0]]] = Number(perCore);
  }
  let warning: string | undefined;
  const amxLine = /^# AMX: (.*)$/m.exec(text)?.[1];
  if (amxLine !== undefined && /OK/.test(amxLine) !== cpu.features().amxint8) {
    warning = `${file} says "AMX: ${amxLine.slice(0, 40)}..." but this CPU ${cpu.features().amxint8 ? 'has' : 'has no'} AMX: ` +
      'the peaks were measured on another CPU. For this machine: g++ -O2 -pthread -o peak ../shared/tools/peak/peak.cpp && ' +
      './peak popcnt > peak.txt, then LOWBIT_PEAK_FILE=peak.txt';
  }
  return { file, peaks, warning };
}

/**
 * Median CPU time per call (ms) of the process over batches of calls: on a
 * machine shared with other jobs it leaves out the time spent waiting for a
 * core (as lowbit_kernel_bench's cpu-GOPS does). Single-threaded work only.
 */
function settle(v: unknown): unknown {
  return v instanceof Promise ? v : undefined;
}

async function cpuMedianMs(fn: () => unknown, budgetMs: number): Promise<number> {
  // Batches of about 2 ms (process.cpuUsage has microsecond resolution).
  let calls = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) await settle(fn());
    if (Number(process.hrtime.bigint() - t0) / 1e6 >= 2 || calls >= 1 << 16) break;
    calls *= 2;
  }
  const perCall: number[] = [];
  const end = Date.now() + budgetMs;
  while (perCall.length < 5 || (Date.now() < end && perCall.length < 200)) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < calls; i++) {
      const p = fn();
      if (p instanceof Promise) await p;
    }
    const c = process.cpuUsage(c0);
    perCall.push((c.user + c.system) / 1000 / calls);
  }
  perCall.sort((a, b) => a - b);
  return perCall[perCall.length >> 1];
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s >>> 8;
  };
}

/** NHWC uint8 image -> im2col rows [OH*OW, k*k*C] (padding holds the zero point). */
function im2col(x: Uint8Array, s: ConvShape, zeroPoint: number, out: Uint8Array): void {
  const oh = s.h + 2 * s.pad - s.k + 1, ow = s.w + 2 * s.pad - s.k + 1;
  const kc = s.k * s.k * s.cin;
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      const row = (oy * ow + ox) * kc;
      for (let i = 0; i < s.k; i++) {
        const iy = oy + i - s.pad;
        for (let j = 0; j < s.k; j++) {
          const ix = ox + j - s.pad;
          const dst = row + (i * s.k + j) * s.cin;
          if (iy < 0 || ix < 0 || iy >= s.h || ix >= s.w) out.fill(zeroPoint, dst, dst + s.cin);
          else out.set(x.subarray((iy * s.w + ix) * s.cin, (iy * s.w + ix + 1) * s.cin), dst);
        }
      }
    }
  }
}

export async function benchBinary(options: { shapes?: ConvShape[]; budgetMs?: number } = {}): Promise<Measurement[]> {
  const shapes = options.shapes ?? BINARY_SHAPES;
  const budget = options.budgetMs ?? 400;
  const results: Measurement[] = [];
  const originalIsa = cpu.isa, originalThreads = cpu.threads;
  cpu.setThreads(1);
  const { file: peakFile, peaks, warning: peakWarning } = popcountPeaks();
  const best = cpu.isa;
  const rows: (string | number)[][] = [['shape', 'impl', 'median ms', 'G-MAC/s', 'speed-up', '% peak', 'cpu ms', 'cpu G-MAC/s', 'cpu speed-up', 'cpu % peak']];

  for (const s of shapes) {
    const oh = s.h + 2 * s.pad - s.k + 1, ow = s.w + 2 * s.pad - s.k + 1;
    const m = oh * ow, kdim = s.k * s.k * s.cin;
    const macs = m * s.cout * kdim;
    const rnd = lcg(s.cin * 7 + s.h);
    const xf = Float32Array.from({ length: s.h * s.w * s.cin }, () => (rnd() % 2001) / 1000 - 1);
    const wf = Float32Array.from({ length: s.cout * kdim }, () => (rnd() % 2001) / 1000 - 1);
    // Each implementation: the tinybench wall-clock median, then the CPU-time median.
    const measure = async (impl: string, fn: () => unknown, extra: Record<string, unknown> = {}) => {
      await fn();
      const r = await medianMs(fn, budget);
      const cpuMs = await cpuMedianMs(fn, budget);
      const m1: Measurement = {
        suite: 'binary', case: s.label, impl, medianMs: r.ms, samples: r.samples, gmacs: macs / (r.ms * 1e6),
        cpuMs, cpuGmacs: macs / (cpuMs * 1e6), macs, ...extra,
      };
      results.push(m1);
      return m1;
    };

    // Binary convolution: weights packed once; alpha/beta per channel (a folded
    // batch norm); input already bits (as between binary layers) or float32
    // (binarized on the fly); output into a preallocated tensor, or a new one.
    const alpha = Float32Array.from({ length: s.cout }, (_, i) => 0.01 + (i % 7) * 0.001);
    const beta = Float32Array.from({ length: s.cout }, (_, i) => (i % 5) - 2);
    const xNhwc = new Tensor('float32', xf, [1, s.h, s.w, s.cin]);
    const xBits = ops.bitpack(xNhwc);
    const wOhwi = new Tensor('float32', wf, [s.cout, s.k, s.k, s.cin]);
    const binaryIsas = [...new Set([best, ...cpu.available().filter((i) => i === 'avx2' || i === 'neon')])];
    for (const isa of binaryIsas) {
      cpu.setIsa(isa);
      const kernels = ops.binaryKernelPath();
      const layerF = ops.packBinaryConv2d(wOhwi, { pads: s.pad, alpha, beta });
      const layerB = ops.packBinaryConv2d(wOhwi, { pads: s.pad, alpha, beta, output: 'bit' });
      const outF = Tensor.zeros('float32', layerF.outputShape(xBits.shape));
      const outB = Tensor.zeros('bit', layerB.outputShape(xBits.shape));
      const variants: [string, () => unknown][] = isa === best
        ? [
          ['binary conv bits->f32', () => ops.binaryConv2d(xBits, layerF, { out: outF })],
          ['binary conv bits->bits', () => ops.binaryConv2d(xBits, layerB, { out: outB })],
          ['binary conv f32->f32', () => ops.binaryConv2d(xNhwc, layerF, { out: outF })],
          ['binary conv bits->f32, new output', () => ops.binaryConv2d(xBits, layerF)],
        ]
        : [['binary conv bits->f32', () => ops.binaryConv2d(xBits, layerF, { out: outF })]];
      for (const [impl, fn] of variants) await measure(impl, fn, { isa, binaryKernels: kernels, binary: true });
    }
    cpu.setIsa(best);

    // lowbit int8 convolution: im2col (JavaScript) + the packed int8 GEMM of
    // the active path (int32 out). Also timed without the im2col, as the
    // lower bound of an int8 convolution on these kernels.
    const xu8 = Uint8Array.from(xf, (v) => Math.round((v + 1) * 127.5));
    const wi8 = new Int8Array(kdim * s.cout);
    for (let o = 0; o < s.cout; o++) for (let q = 0; q < kdim; q++) wi8[q * s.cout + o] = Math.round(wf[o * kdim + q] * 127);
    const packed = ops.packMatrix(new Tensor('int8', wi8, [kdim, s.cout]), 0);
    const cols = new Uint8Array(m * kdim);
    const colsTensor = new Tensor('uint8', cols, [m, kdim]);
    const int8Conv = () => {
      im2col(xu8, s, 128, cols);
      return ops.matmulInteger(colsTensor, packed, 128);
    };
    await measure('lowbit int8 conv (im2col + GEMM)', int8Conv, { isa: best });
    await measure('lowbit int8 GEMM only (no im2col)', () => ops.matmulInteger(colsTensor, packed, 128), { isa: best });
    // The runner's native int8 convolution (ONNX ConvInteger on NHWC), when
    // this build has it: looked up at run time, so this suite does not depend
    // on its API at compile time.
    const dyn = ops as unknown as Record<string, unknown>;
    if (typeof dyn.convInteger === 'function' && typeof dyn.packConvInt8 === 'function') {
      const packConv = dyn.packConvInt8 as (w: Tensor, o: object) => unknown;
      const convInteger = dyn.convInteger as (x: Tensor, w: unknown, o: object) => Tensor;
      const wMchw = new Int8Array(wi8.length);
      for (let o = 0; o < s.cout; o++) for (let i = 0; i < s.k; i++) for (let j = 0; j < s.k; j++) for (let c = 0; c < s.cin; c++) {
        wMchw[((o * s.cin + c) * s.k + i) * s.k + j] = wi8[((i * s.k + j) * s.cin + c) * s.cout + o];
      }
      const pc = packConv(new Tensor('int8', wMchw, [s.cout, s.cin, s.k, s.k]), {});
      const xt = new Tensor('uint8', xu8, [1, s.h, s.w, s.cin]);
      const pads = [s.pad, s.pad, s.pad, s.pad];
      const out = Tensor.zeros('int32', [1, oh, ow, s.cout]);
      await measure('lowbit int8 conv (native convInteger)', () => convInteger(xt, pc, { pads, xZeroPoint: 128, out }), { isa: best });
    }

    // onnxruntime-node fp32 Conv, NCHW, weights as an initializer.
    const wOihw = new Float32Array(wf.length);
    for (let o = 0; o < s.cout; o++) for (let i = 0; i < s.k; i++) for (let j = 0; j < s.k; j++) for (let c = 0; c < s.cin; c++) {
      wOihw[((o * s.cin + c) * s.k + i) * s.k + j] = wf[((o * s.k + i) * s.k + j) * s.cin + c];
    }
    const model = buildModel({
      nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attributes: { kernel_shape: [s.k, s.k], pads: [s.pad, s.pad, s.pad, s.pad] } }],
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, s.cin, s.h, s.w] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, s.cout, oh, ow] }],
      initializers: { w: new Tensor('float32', wOihw, [s.cout, s.cin, s.k, s.k]) },
    });
    const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
    const xNchw = new Float32Array(xf.length);
    for (let c = 0; c < s.cin; c++) for (let p = 0; p < s.h * s.w; p++) xNchw[c * s.h * s.w + p] = xf[p * s.cin + c];
    const feed = { x: new ort.Tensor('float32', xNchw, [1, s.cin, s.h, s.w]) };
    await measure('ort Conv fp32', () => session.run(feed));

    const here = results.filter((x) => x.case === s.label);
    const main = here.find((x) => x.impl === 'binary conv bits->f32' && x.isa === best)!;
    const pct = (v: number) => `${(100 * v).toFixed(0)}%`;
    for (const x of here) {
      const peak = x.binary ? peaks[x.binaryKernels as string] : undefined;
      if (peak) {
        x.fractionOfPeak = (x.gmacs as number) / peak;
        x.cpuFractionOfPeak = (x.cpuGmacs as number) / peak;
      }
      if (!x.binary) {
        x.binarySpeedup = x.medianMs / main.medianMs;
        x.cpuBinarySpeedup = (x.cpuMs as number) / (main.cpuMs as number);
      }
      rows.push([
        s.label,
        x.binary ? `${x.impl} [${x.binaryKernels}]` : x.isa ? `${x.impl} [${x.isa}]` : x.impl,
        x.medianMs,
        x.gmacs as number,
        x.binary ? '' : `${(x.binarySpeedup as number).toFixed(2)}x`,
        peak ? pct(x.fractionOfPeak as number) : '',
        x.cpuMs as number,
        x.cpuGmacs as number,
        x.binary ? '' : `${(x.cpuBinarySpeedup as number).toFixed(2)}x`,
        peak ? pct(x.cpuFractionOfPeak as number) : '',
      ]);
    }
  }
  cpu.setIsa(originalIsa);
  cpu.setThreads(originalThreads);
  console.log(table(rows));
  console.log(`\nspeed-up: that row's median / the median of 'binary conv bits->f32' [${best}] on the same shape; ` +
    "cpu columns: the process's CPU time per call (robust when other jobs share the cores).");
  console.log(Object.keys(peaks).length
    ? `popcount peaks (G bit-MAC/s per core, 1 thread) from ${peakFile}: ${JSON.stringify(peaks)}`
    : `no popcount peak figures (${peakFile} not found)`);
  if (peakWarning) console.log(`warning: ${peakWarning}`);
  results.push(...(await benchBinaryModel({ budgetMs: budget })));
  return results;
}

/**
 * binary-model: a small binary network in the ai.lowbit domain (float32 NCHW in;
 * BinaryConv 3x3 64->64 "sign", BinaryConv 3x3 64->128 stride 2 "sign",
 * BinaryConv 3x3 128->128 "float"; Flatten; BinaryGemm -> 10 logits) run
 * through Session (one planned native Program: bits stay packed between the
 * layers) against the same chain of ops calls into preallocated outputs, in
 * one process, one thread.
 */
export async function benchBinaryModel(options: { budgetMs?: number; size?: number } = {}): Promise<Measurement[]> {
  const budget = options.budgetMs ?? 400, size = options.size ?? 28;
  const originalThreads = cpu.threads;
  cpu.setThreads(1);
  const rnd = lcg(99);
  const signs = (n: number) => Float32Array.from({ length: n }, () => (rnd() % 2 ? 1 : -1) * (0.5 + (rnd() % 100) / 100));
  const perChannel = (n: number, scale: number, offset: number) => Array.from({ length: n }, () => offset + ((rnd() % 1000) / 1000 - 0.5) * scale);
  const convs = [
    { cin: 64, cout: 64, stride: 1, output: 'sign' },
    { cin: 64, cout: 128, stride: 2, output: 'sign' },
    { cin: 128, cout: 128, stride: 1, output: 'float' },
  ].map((c, i) => ({ ...c, name: `bconv${i}`, w: new Tensor('float32', signs(c.cout * c.cin * 9), [c.cout, c.cin, 3, 3]), alpha: perChannel(c.cout, 0.02, 0.02), beta: perChannel(c.cout, 4, 0) }));
  const out = size / 2, k = 128 * out * out;
  const fcW = new Tensor('float32', signs(10 * k), [10, k]);
  const fcAlpha = perChannel(10, 0.01, 0.01);
  const nodes: Node[] = convs.map((c, i) => ({
    name: c.name, opType: 'BinaryConv', domain: 'ai.lowbit', inputs: [i === 0 ? 'x' : `h${i - 1}`, `${c.name}.w`], outputs: [`h${i}`],
    attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [c.stride, c.stride], output: c.output, alpha: c.alpha, beta: c.beta },
  }));
  nodes.push({ name: 'flat', opType: 'Flatten', domain: '', inputs: ['h2'], outputs: ['f'], attrs: { axis: 1 } });
  nodes.push({ name: 'fc', opType: 'BinaryGemm', domain: 'ai.lowbit', inputs: ['f', 'fc.w'], outputs: ['logits'], attrs: { alpha: fcAlpha } });
  const graph = new Graph({
    nodes, opset: 17, domains: { 'ai.lowbit': 1 },
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 64, size, size] }],
    outputs: [{ name: 'logits', dtype: 'float32', shape: [1, 10] }],
    constants: new Map([...convs.map((c) => [`${c.name}.w`, c.w] as const), ['fc.w', fcW] as const]),
  });
  const session = await Session.create(exportModel(graph));
  const x = new Tensor('float32', Float32Array.from({ length: 64 * size * size }, () => (rnd() % 2001) / 1000 - 1), [1, 64, size, size]);

  // The same chain through ops: NCHW -> NHWC, three layers into preallocated outputs, NHWC -> NCHW, the GEMM.
  const kinds = { sign: 'bit', float: 'float32' } as const;
  const layers = convs.map((c) => ops.packBinaryConv2d(c.w, { weightLayout: 'OIHW', pads: 1, strides: c.stride, alpha: c.alpha, beta: c.beta, output: kinds[c.output as 'sign' | 'float'] }));
  const fc = ops.packBinaryGemm(fcW, { alpha: fcAlpha });
  const xNhwc = Tensor.zeros('float32', [1, size, size, 64]);
  const outs: Tensor[] = [];
  let shape = xNhwc.shape;
  for (const l of layers) {
    shape = l.outputShape(shape);
    outs.push(Tensor.zeros(l.output, shape));
  }
  const yNchw = Tensor.zeros('float32', [1, 128, out, out]);
  const logits = Tensor.zeros('float32', [1, 10]);
  const viaOps = () => {
    ops.transposeInto(x, xNhwc, x.shape, [0, 2, 3, 1]);
    layers.forEach((l, i) => ops.binaryConv2d(i === 0 ? xNhwc : outs[i - 1], l, { out: outs[i] }));
    ops.transposeInto(outs[2], yNchw, outs[2].shape, [0, 3, 1, 2]);
    return ops.binaryGemm(yNchw.reshape([1, k]), fc, { out: logits });
  };
  viaOps();
  const got = session.runSync({ x }).logits;
  if (!got.data.every((v, i) => v === logits.data[i])) throw new Error('binary-model: Session and the ops chain disagree');

  const macs = layers.reduce((a, l, i) => a + outs[i].shape[1] * outs[i].shape[2] * l.outChannels * l.inChannels * 9, 0) + 10 * k;
  const results: Measurement[] = [];
  const rows: (string | number)[][] = [['impl', 'median ms', 'cpu ms', 'G bit-MAC/s', 'x ops chain', 'cpu x ops chain']];
  const impls: [string, () => unknown][] = [
    ['ops chain (preallocated outputs)', viaOps],
    ['Session.runSync', () => session.runSync({ x })],
    ['Session.run', () => session.run({ x })],
  ];
  for (const [impl, fn] of impls) {
    const r = await medianMs(fn, budget);
    const cpuMs = await cpuMedianMs(fn, budget);
    results.push({ suite: 'binary', case: `binary-model ${size}x${size}`, impl, isa: cpu.isa, binaryKernels: ops.binaryKernelPath(), medianMs: r.ms, samples: r.samples, cpuMs, macs, gmacs: macs / (r.ms * 1e6) });
  }
  for (const m of results) {
    m.vsOps = m.medianMs / results[0].medianMs;
    m.cpuVsOps = (m.cpuMs as number) / (results[0].cpuMs as number);
    rows.push([m.impl, m.medianMs, m.cpuMs as number, m.gmacs as number, `${(m.vsOps as number).toFixed(2)}x`, `${(m.cpuVsOps as number).toFixed(2)}x`]);
  }
  cpu.setThreads(originalThreads);
  console.log(`\nbinary-model (${size}x${size}, float32 NCHW in, 3 BinaryConv + BinaryGemm, 1 thread, ${cpu.isa} / ${ops.binaryKernelPath()}):`);
  console.log(table(rows));
  console.log("x ops chain: that row's median / the ops chain's median, measured in this process.");
  return results;
}
