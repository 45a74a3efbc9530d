// The typed surface of the native addon (native/addon). lib/native is the only
// module that loads it; everything else in lib/ talks to this interface.

export type IsaName = 'ref' | 'avx2' | 'avxvnni' | 'avx512vnni' | 'amx' | 'neon' | 'neondot';

export interface CpuFeatures {
  avx2: boolean;
  fma: boolean;
  f16c: boolean;
  avxvnni: boolean;
  avx512f: boolean;
  avx512bw: boolean;
  avx512vl: boolean;
  avx512vnni: boolean;
  avx512vpopcntdq: boolean;
  avx512vbmi: boolean;
  amxint8: boolean;
  neon: boolean;
  dotprod: boolean;
  i8mm: boolean;
}

export interface IsaInfo {
  name: IsaName;
  /** This binary has kernels for the path. */
  compiled: boolean;
  /** This CPU (and OS) can run the path's instructions. */
  supported: boolean;
}

/** Weights packed once for the active kernel path. */
export interface NativePackedMatrix {
  readonly k: number;
  readonly n: number;
  readonly isa: IsaName;
  readonly byteLength: number;
}

/** A prepared output stage (int32 -> 8 bit), per tensor or per channel. */
export interface NativeRequantization {
  readonly channels: number;
}

export type Bytes = Int8Array | Uint8Array;

/**
 * A tensor's place in a planned run (see native/addon/op_call.h): `ref` >= 0 is
 * a byte offset into the run's arena; `ref` < 0 names constant -(ref + 1).
 */
export interface NativeSlot {
  readonly dtype: 'float32' | 'int8' | 'uint8' | 'int32' | 'bit';
  readonly ref: number;
}

/**
 * An |x| histogram state [lo, hi, width, counts[bins]] in native memory: the
 * absHistogramAdd steps that name it update it in place at every run.
 */
export interface NativeAbsHistogramState {
  readonly bins: number;
  /** Copies the state into out (3 + bins doubles). */
  read(out: Float64Array): void;
  /** Replaces the state with from (3 + bins doubles; from[2], the width, 0 or positive and finite). */
  write(from: Float64Array): void;
  /** Ends turn `turn` with nothing added (if it is the current one): later turns may go. */
  pass(turn: number): void;
  /** The turn the next absHistogramAddInTurn step adds at (0 for a fresh state). */
  readonly nextTurn: number;
}

/** A planned graph: steps recorded by op bindings, run as one native call. */
export interface NativeProgram {
  addConstant(data: ArrayBufferView): number;
  setArenaBytes(bytes: number): void;
  runSync(inputs: ArrayBufferView[], inputOffsets: number[], outputs: ArrayBufferView[], outputOffsets: number[]): void;
  /** Resolves when the outputs are filled; runs off the event loop unless the program is tiny. */
  run(inputs: ArrayBufferView[], inputOffsets: number[], outputs: ArrayBufferView[], outputOffsets: number[], singleThread?: boolean): Promise<void>;
  labels(): string[];
  setProfiling(on: boolean): void;
  /** Seconds per step, summed over the runs since profiling was turned on. */
  profile(): Float64Array;
  readonly stepCount: number;
  readonly arenaBytes: number;
  readonly cost: number;
}

export type NativeRunPart = [NativeProgram, ArrayBufferView[], number[], ArrayBufferView[], number[]];

/**
 * Every op binding takes its own arguments and optionally a NativeProgram last:
 * without it, tensor arguments are typed arrays and the op runs at once; with it,
 * they are NativeSlots and the op is recorded as a step of the program.
 */
export type Operand<T> = T | NativeSlot;

export interface Binding {
  cpuFeatures(): CpuFeatures;
  isas(): IsaInfo[];
  getIsa(): IsaName;
  /** Throws E_ISA if the path is unknown, not compiled, or not supported by the CPU. */
  setIsa(isa: string): void;
  setThreads(threads: number): void;
  getThreads(): number;
  setErrorClass(ctor: new (code: string, message: string) => Error): void;

  PackedMatrix: new (b: Bytes, k: number, n: number, zeroPoint: Int32Array) => NativePackedMatrix;
  Requantization: new (
    mode: 'fp32' | 'fixedpoint',
    scale: Float32Array | null,
    multiplier: Int32Array | null,
    shift: Int32Array | null,
    bias: Int32Array | null,
    zeroPoint: number,
    min: number,
    max: number,
    outSigned: boolean,
    /** HardSwish before the clamp (fp32 mode): the output's y_scale, or null. */
    hardSwishYScale: number | null,
  ) => NativeRequantization;

  /** out[m x n] = (a[m x k] - aZeroPoint) * (b - bZeroPoint); int32 out, or 8-bit when requantized. */
  gemm(b: NativePackedMatrix, a: Operand<Bytes>, m: number, aZeroPoint: number, out: Operand<Int32Array | Bytes>,
       requantization: NativeRequantization | null, program?: NativeProgram): void;

  Program: {
    new (): NativeProgram;
    /**
     * The parts of one batch run together, one thread each; each part is
     * [program, inputs, inputOffsets, outputs, outputOffsets]. Inputs are copied
     * in before it returns; async: a Promise, run off the event loop.
     */
    runParts(parts: NativeRunPart[], async: true): Promise<void>;
    runParts(parts: NativeRunPart[], async: false): void;
  };
  requantize(rq: NativeRequantization, acc: Int32Array, outer: number, channels: number, inner: number,
             out: Bytes): void;
  quantizeLinear(x: Operand<Float32Array>, outer: number, channels: number, inner: number, scale: Float32Array,
                 zeroPoint: Int32Array, out: Operand<Bytes>, program?: NativeProgram): void;
  dequantizeLinear(x: Operand<Int8Array | Uint8Array | Int32Array>, outer: number, channels: number, inner: number,
                   scale: Float32Array, zeroPoint: Int32Array, out: Operand<Float32Array>, program?: NativeProgram): void;
  quantizeMultiplier(scale: number): [multiplier: number, shift: number];
  /** ONNX DynamicQuantizeLinear: uint8 y, and its scale and zero point, from x's own range. */
  dynamicQuantizeLinear(x: Operand<Float32Array>, n: number, y: Operand<Uint8Array>, yScale: Operand<Float32Array>,
                        yZeroPoint: Operand<Uint8Array>, program?: NativeProgram): void;
  /** out[m x n] = dynamic-quantized x times int8 w, scaled by x scale * wScale, plus bias: float32. */
  dynamicGemm(w: NativePackedMatrix, x: Operand<Float32Array>, m: number, wScale: Float32Array,
              bias: Float32Array | null, out: Operand<Float32Array>, program?: NativeProgram): void;
}

// ---- Binary (1-bit) operations (native/addon/binary_binding.cc; docs/binary.md).
// Declared as a second `Binding` block: TypeScript merges it with the one above.

export type BinaryOutputKind = 'float32' | 'int8' | 'bit';

/** A prepared per-channel output transform: v = alpha * dot + beta, then float32, int8 or bits. */
export interface NativeBinaryOutput {
  readonly n: number;
  readonly kind: BinaryOutputKind;
}

/** Binary weights (GEMM or convolution) packed once for the active binary kernels. */
export interface NativeBinaryWeights {
  readonly n: number;
  readonly taps: number;
  readonly channels: number;
  /** The binary kernels they were packed for: ref, avx2, avx512vpopcnt or neon. */
  readonly kernelPath: string;
  readonly byteLength: number;
}

/** BinaryConnect weights (signs applied to int8/uint8/float32 activations). */
export interface NativeBinaryWeightMatrix {
  readonly n: number;
  readonly k: number;
  readonly kernelPath: string;
}

export type BinaryOutputArray = Float32Array | Int8Array | Uint8Array;

export interface Binding {
  BinaryOutput: new (
    kind: BinaryOutputKind,
    n: number,
    alpha: Float32Array,
    beta: Float32Array,
    threshold: Float32Array | null,
    yScale: number,
    yZeroPoint: number,
  ) => NativeBinaryOutput;
  /** bits: n rows of `taps` groups of bitRowBytes(channels) bytes. */
  BinaryWeights: new (bits: Uint8Array, n: number, taps: number, channels: number) => NativeBinaryWeights;
  /** bits: n rows of bitRowBytes(k) bytes. */
  BinaryWeightMatrix: new (bits: Uint8Array, n: number, k: number) => NativeBinaryWeightMatrix;

  // Each takes a NativeProgram last to record a step instead of running (NativeSlots then, 'bit' slots for packed bits).
  /** Signs (x < 0 -> bit 1) of rows x cols values into rows of bitRowBytes(cols) bytes. */
  bitpack(x: Operand<Float32Array | Int8Array>, rows: number, cols: number, out: Operand<Uint8Array>, program?: NativeProgram): void;
  bitunpack(bits: Operand<Uint8Array>, rows: number, cols: number, out: Operand<Float32Array | Int8Array>, program?: NativeProgram): void;
  /**
   * NHWC convolution. x: packed bits (Uint8Array) or values (Float32Array/Int8Array, binarized).
   * geometry: [batch, inH, inW, kh, kw, strideH, strideW, dilationH, dilationW, padTop, padLeft, padBottom, padRight].
   */
  binaryConv2d(w: NativeBinaryWeights, output: NativeBinaryOutput, x: Operand<Uint8Array | Float32Array | Int8Array>,
               geometry: Int32Array, zeroPadding: boolean, out: Operand<BinaryOutputArray>, program?: NativeProgram): void;
  binaryGemm(w: NativeBinaryWeights, output: NativeBinaryOutput, a: Operand<Uint8Array | Float32Array | Int8Array>, m: number,
             out: Operand<BinaryOutputArray>, program?: NativeProgram): void;
  binaryWeightGemm(w: NativeBinaryWeightMatrix, output: NativeBinaryOutput, a: Operand<Float32Array | Int8Array | Uint8Array>,
                   m: number, aZeroPoint: number, out: Operand<BinaryOutputArray>, program?: NativeProgram): void;
  /** The binary kernels the active kernel path runs. */
  binaryKernelPath(): string;
}

// ---- Int8 convolution (native/addon/conv_s8_binding.cc; lib/ops/qconv.ts).

/** Int8 convolution weights (ONNX layout [m, cg, kh, kw]) packed once for the active kernel path. */
export interface NativePackedConvS8 {
  readonly m: number;
  readonly cg: number;
  readonly kh: number;
  readonly kw: number;
  readonly groups: number;
  /** groups == C == m: runs the dedicated depthwise kernel; else im2col/direct GEMM per group. */
  readonly depthwise: boolean;
  readonly isa: IsaName;
  readonly byteLength: number;
}

export interface Binding {
  /** wZeroPoint: 0 (none), 1 or m values. */
  PackedConvS8: new (w: Bytes, m: number, cg: number, kh: number, kw: number, groups: number,
                     wZeroPoint: Int32Array) => NativePackedConvS8;
  /**
   * NHWC int8 convolution. x: [n, h, w, c]; out: [n, oh, ow, m], int32 without an output stage, else 8-bit.
   * geometry: [padTop, padLeft, padBottom, padRight, strideH, strideW, dilationH, dilationW].
   */
  convS8(packed: NativePackedConvS8, x: Operand<Bytes>, n: number, h: number, w: number, c: number, xZeroPoint: number,
         geometry: Int32Array, out: Operand<Int32Array | Bytes>, requantization: NativeRequantization | null,
         program?: NativeProgram): void;
}

// ---- fp32 convolution and GEMM (native/addon/conv_f32_binding.cc; lib/ops/conv.ts).

/** 'none' | 'relu' | 'clip' ([min, max]) | 'hardswish' | 'hardsigmoid' ([alpha, beta]). */
export type NativeF32Activation = 'none' | 'relu' | 'clip' | 'hardswish' | 'hardsigmoid';

/** fp32 Conv weights (ONNX layout [m, cg, kh, kw]) packed once for the active path's fp32 kernels. */
export interface NativePackedConvF32 {
  readonly m: number;
  readonly cg: number;
  readonly kh: number;
  readonly kw: number;
  readonly groups: number;
  /** groups == C == m: the depthwise kernel; else a GEMM (1x1) or an indirect GEMM per group. */
  readonly depthwise: boolean;
  /** The fp32 kernels they were packed for: ref, avx2, avx512 or neon. */
  readonly kernels: string;
  readonly byteLength: number;
}

/** fp32 ConvTranspose weights (ONNX layout [c, mg, kh, kw]) packed once. */
export interface NativePackedConvTransposeF32 {
  readonly c: number;
  readonly mg: number;
  readonly kh: number;
  readonly kw: number;
  readonly groups: number;
  readonly kernels: string;
  readonly byteLength: number;
}

/** fp32 GEMM right-hand side [k, n] (+ bias [n]) packed once. */
export interface NativePackedMatrixF32 {
  readonly k: number;
  readonly n: number;
  readonly kernels: string;
  readonly byteLength: number;
}

export interface Binding {
  PackedConvF32: new (weights: Float32Array, m: number, cg: number, kh: number, kw: number, groups: number,
                      bias: Float32Array | null) => NativePackedConvF32;
  PackedConvTransposeF32: new (weights: Float32Array, c: number, mg: number, kh: number, kw: number, groups: number,
                               bias: Float32Array | null) => NativePackedConvTransposeF32;
  /** b: [k, n], or [n, k] when transposed. */
  PackedMatrixF32: new (b: Float32Array, k: number, n: number, transposed: boolean,
                        bias: Float32Array | null) => NativePackedMatrixF32;
  /**
   * NHWC fp32 convolution: x [n, h, w, cg * groups] -> out [n, oh, ow, m].
   * pads [top, left, bottom, right], strides [h, w], dilations [h, w].
   */
  convF32(packed: NativePackedConvF32, x: Operand<Float32Array>, n: number, h: number, w: number,
          pads: readonly number[], strides: readonly number[], dilations: readonly number[],
          activation: NativeF32Activation, activationParams: readonly number[], out: Operand<Float32Array>,
          program?: NativeProgram): void;
  /** NHWC fp32 transposed convolution: x [n, h, w, c] -> out [n, oh, ow, mg * groups]. */
  convTransposeF32(packed: NativePackedConvTransposeF32, x: Operand<Float32Array>, n: number, h: number, w: number,
                   pads: readonly number[], strides: readonly number[], dilations: readonly number[],
                   outputPadding: readonly number[], activation: NativeF32Activation,
                   activationParams: readonly number[], out: Operand<Float32Array>, program?: NativeProgram): void;
  /** out [m, n] = activation(a [m, k] * b + bias). */
  gemmF32(b: NativePackedMatrixF32, a: Operand<Float32Array>, m: number, out: Operand<Float32Array>,
          activation: NativeF32Activation, activationParams: readonly number[], program?: NativeProgram): void;
}

// ---- int4 weight-only GEMM (native/addon/int4_binding.cc; lib/ops/int4.ts; docs/int4.md).

/** int4 weights packed once into ISA-independent 4-bit tiles (any kernel path runs them). */
export interface NativePackedInt4 {
  readonly n: number;
  readonly k: number;
  /** 0: one scale per output channel; else 32, 64 or 128 along K. */
  readonly blockSize: number;
  readonly blocks: number;
  readonly hasBias: boolean;
  readonly byteLength: number;
}

export interface Binding {
  /**
   * format 'int8': Int8Array of n * k values in [-8, 7]; 'onnx': Uint8Array of ceil(n * k / 2) bytes
   * (two's complement, low nibble first). kMajor false: weights [n, k], scales [n, blocks]; true:
   * weights [k, n], scales [blocks, n]. blockSize 0 (per channel), 32, 64 or 128.
   */
  PackedInt4: new (weights: Int8Array | Uint8Array, format: 'int8' | 'onnx', n: number, k: number, kMajor: boolean,
                   scales: Float32Array, blockSize: number, bias: Float32Array | null) => NativePackedInt4;
  /** out [m, n] = clamp(x [m, k] * dequantized weights + bias, clampMin, clampMax). */
  int4Gemm(packed: NativePackedInt4, x: Operand<Float32Array>, m: number, out: Operand<Float32Array>, clampMin: number,
           clampMax: number, program?: NativeProgram): void;
  /** The int4 kernels the active path runs: 'ref', 'avx2', 'avx512' or 'neon'. */
  int4KernelPath(): string;
}

// ---- fp32 ops and data movement (native/addon/{elementwise,pool,layout}_binding.cc; docs/fp32-ops.md).
// Tensor arguments are Operands: typed arrays now, or slots when a program is passed last.

export type NativeBinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'max' | 'min' | 'prelu';
export type NativeUnaryOp =
  | 'relu' | 'leakyRelu' | 'clip' | 'sigmoid' | 'hardSigmoid' | 'hardSwish' | 'neg' | 'abs' | 'sqrt' | 'reciprocal'
  | 'floor' | 'ceil' | 'round' | 'exp' | 'log' | 'tanh' | 'erf' | 'gelu' | 'geluTanh' | 'softplus' | 'elu';
export type NativeReduceOp = 'sum' | 'mean' | 'max' | 'min' | 'prod' | 'l1' | 'l2' | 'sumSquare';
export type NativeLayout = 'nchw' | 'nhwc';
export type AnyArray = Float32Array | Int32Array | Int8Array | Uint8Array;

/** One axis of a separable resize: out * taps input indices and weights; outside: per-output extrapolation flags. */
export interface NativeResizeAxis {
  taps: number;
  index: Int32Array;
  weight: Float32Array;
  outside?: Uint8Array;
}

export interface Binding {
  /** out = clamp(op(a, b)) over a broadcast plan: out is contiguous [dims]; strides are per input, 0 = broadcast. */
  binary(op: NativeBinaryOp, a: Operand<Float32Array | Int32Array>, b: Operand<Float32Array | Int32Array>,
         out: Operand<Float32Array | Int32Array>, dims: readonly number[], aStrides: readonly number[],
         bStrides: readonly number[], aCount: number, bCount: number, clampMin: number, clampMax: number,
         program?: NativeProgram): void;
  /** alpha/beta: LeakyRelu/Elu alpha, Clip min/max, HardSigmoid alpha/beta (0 when unused). */
  unary(op: NativeUnaryOp, x: Operand<Float32Array>, out: Operand<Float32Array>, count: number, alpha: number,
        beta: number, program?: NativeProgram): void;
  /** out[i] = table[x[i] - min(x's type)]; out has the table's type. */
  lut8(x: Operand<Bytes>, table: Bytes, out: Operand<Bytes>, count: number, program?: NativeProgram): void;
  /** x, out [outer, channels, inner]: out = clamp(x * scale[c] + bias[c]). */
  channelAffine(x: Operand<Float32Array>, out: Operand<Float32Array>, outer: number, channels: number, inner: number,
                scale: Float32Array, bias: Float32Array, clampMin: number, clampMax: number, program?: NativeProgram): void;
  cast(x: Operand<AnyArray>, out: Operand<AnyArray>, count: number, program?: NativeProgram): void;
  softmax(x: Operand<Float32Array>, out: Operand<Float32Array>, outer: number, n: number, inner: number, log: boolean,
          program?: NativeProgram): void;
  /** out holds the axes of dims not listed in axes. */
  reduce(op: NativeReduceOp, x: Operand<Float32Array>, out: Operand<Float32Array>, dims: readonly number[],
         axes: readonly number[], program?: NativeProgram): void;
  /** Rows of n values: y = ((x - mean) * invStdDev) * scale + bias; mean / invStdDev: one per row, optional. */
  layerNorm(x: Operand<Float32Array>, out: Operand<Float32Array>, outer: number, n: number, scale: Float32Array,
            bias: Float32Array | null, epsilon: number, mean: Operand<Float32Array> | null,
            invStdDev: Operand<Float32Array> | null, program?: NativeProgram): void;
  /** dims [n, c, h, w, oh, ow]; window [kh, kw, sh, sw, dh, dw, padTop, padLeft, padBottom, padRight]. */
  pool2d(kind: 'max' | 'average', layout: NativeLayout, x: Operand<Float32Array | Bytes>, out: Operand<Float32Array | Bytes>,
         dims: readonly number[], window: readonly number[], countIncludePad: boolean, program?: NativeProgram): void;
  globalPool(kind: 'max' | 'average', layout: NativeLayout, x: Operand<Float32Array | Bytes>,
             out: Operand<Float32Array | Bytes>, n: number, c: number, spatial: number, program?: NativeProgram): void;
  transpose(x: Operand<AnyArray>, out: Operand<AnyArray>, shape: readonly number[], perm: readonly number[],
            program?: NativeProgram): void;
  /** dst[dstOffset + r * dstStride + j] = src[srcOffset + r * srcStride + j] (elements). */
  copyRows(src: Operand<AnyArray>, srcCount: number, srcOffset: number, srcStride: number, dst: Operand<AnyArray>,
           dstCount: number, dstOffset: number, dstStride: number, rows: number, rowElements: number,
           program?: NativeProgram): void;
  /** out[o] = x[maps_0[o_0], ...] or fill where a map entry is -1; maps: each axis's outDims[d] entries in turn. */
  gatherAxes(x: Operand<AnyArray>, out: Operand<AnyArray>, inDims: readonly number[], outDims: readonly number[],
             maps: Int32Array, fill: number, program?: NativeProgram): void;
  gather(x: Operand<AnyArray>, indices: Operand<Int32Array>, out: Operand<AnyArray>, outer: number, axisLen: number,
         inner: number, count: number, program?: NativeProgram): void;
  /** dims [n, c, h, w]; out [n, c, ry.out, rx.out] in the same layout. */
  resize2d(layout: NativeLayout, x: Operand<Float32Array>, out: Operand<Float32Array>, dims: readonly number[],
           ry: NativeResizeAxis, rx: NativeResizeAxis, extrapolation: number, program?: NativeProgram): void;
  /** QLinearAdd / QLinearMul over a broadcast plan (native/include/lowbit/qelementwise.h); scales [sa, sb, sy], zeroPoints [za, zb, zy], outRange [min, max] quantized. */
  qbinary(op: 'add' | 'mul', a: Operand<Bytes>, b: Operand<Bytes>, out: Operand<Bytes>, dims: readonly number[],
          aStrides: readonly number[], bStrides: readonly number[], aCount: number, bCount: number, scales: Float32Array,
          zeroPoints: readonly number[], outRange: readonly number[], program?: NativeProgram): void;
  /** QLinearGlobalAveragePool: x [n, c, spatial] (nchw) or [n, spatial, c] (nhwc) -> [n, c]; scales [sx, sy], zeroPoints [zx, zy]. */
  qglobalAveragePool(layout: NativeLayout, x: Operand<Bytes>, out: Operand<Bytes>, n: number, c: number, spatial: number,
                     scales: Float32Array, zeroPoints: readonly number[], outRange: readonly number[], program?: NativeProgram): void;
  /** Calibration statistics (native/include/lowbit/stats.h): out = [min, max] of x, NaN ignored. */
  minMax(x: Operand<Float32Array>, count: number, out: Operand<Float32Array>, program?: NativeProgram): void;
  /** One batch into a growing |x| histogram; state [lo, hi, width, counts...] (a uint8 slot of its bytes when recording, or an AbsHistogramState updated in place); sample: large buffers count their tail from every value and their bulk from one block in `sample` (1: every value). */
  absHistogramAdd(x: Operand<Float32Array>, count: number, state: Float64Array | NativeSlot | NativeAbsHistogramState, bins: number,
                  sample: number, program?: NativeProgram): void;
  /** absHistogramAdd into an AbsHistogramState, recorded, at the turn held by the float32 slot `turn`: waits for the earlier turns, adds, ends its turn. */
  absHistogramAddInTurn(x: Operand<Float32Array>, count: number, state: NativeAbsHistogramState, bins: number, sample: number,
                        turn: Operand<Float32Array>, program: NativeProgram): void;
  /** A fresh |x| histogram state ([+inf, -inf, 0, zeros]) in native memory. */
  AbsHistogramState: new (bins: number) => NativeAbsHistogramState;
}
