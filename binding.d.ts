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

/** A planned graph: steps recorded by op bindings, run as one native call. */
export interface NativeProgram {
  addConstant(data: ArrayBufferView): number;
  setArenaBytes(bytes: number): void;
  runSync(inputs: ArrayBufferView[], inputOffsets: number[], outputs: ArrayBufferView[], outputOffsets: number[]): void;
  /** Resolves when the outputs are filled; runs off the event loop unless the program is tiny. */
  run(inputs: ArrayBufferView[], inputOffsets: number[], outputs: ArrayBufferView[], outputOffsets: number[]): Promise<void>;
  labels(): string[];
  readonly stepCount: number;
  readonly arenaBytes: number;
  readonly cost: number;
}

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
  ) => NativeRequantization;

  /** out[m x n] = (a[m x k] - aZeroPoint) * (b - bZeroPoint); int32 out, or 8-bit when requantized. */
  gemm(b: NativePackedMatrix, a: Operand<Bytes>, m: number, aZeroPoint: number, out: Operand<Int32Array | Bytes>,
       requantization: NativeRequantization | null, program?: NativeProgram): void;

  Program: new () => NativeProgram;
  requantize(rq: NativeRequantization, acc: Int32Array, outer: number, channels: number, inner: number,
             out: Bytes): void;
  quantizeLinear(x: Float32Array, outer: number, channels: number, inner: number, scale: Float32Array,
                 zeroPoint: Int32Array, out: Bytes): void;
  dequantizeLinear(x: Int8Array | Uint8Array | Int32Array, outer: number, channels: number, inner: number,
                   scale: Float32Array, zeroPoint: Int32Array, out: Float32Array): void;
  quantizeMultiplier(scale: number): [multiplier: number, shift: number];
}
