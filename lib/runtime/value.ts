// What the planner knows about each value for one set of input shapes.
import type { Slot } from '../ops/program';
import type { DType } from '../tensor/dtype';
import { storageLength } from '../tensor/tensor';
import type { Tensor } from '../tensor/tensor';

/**
 * Physical order of a rank-4 value. ONNX speaks NCHW; convolutional chains run
 * channels-last (NHWC) and the planner converts only where an op needs NCHW.
 */
export type Layout = 'nchw' | 'nhwc';

export interface RtValue {
  readonly name: string;
  readonly dtype: DType;
  /** The logical ONNX shape (NCHW order for rank 4, whatever the layout). */
  readonly shape: readonly number[];
  readonly layout: Layout;
  /** Known at plan time (always in logical NCHW order). */
  readonly constant?: Tensor;
  /** Shares the memory of another value (Reshape, Squeeze, a free layout change...). */
  readonly aliasOf?: RtValue;
  /** Set when buffers are assigned. */
  slot?: Slot;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The shape in memory order. */
export function physicalShape(v: { shape: readonly number[]; layout: Layout }): number[] {
  const s = v.shape;
  return v.layout === 'nhwc' ? [s[0], s[2], s[3], s[1]] : [...s];
}

/** NCHW and NHWC hold the same bytes when only one of C or H*W is above 1. */
export function layoutIsFree(shape: readonly number[]): boolean {
  return shape.length === 4 && (shape[1] === 1 || shape[2] * shape[3] === 1);
}

export function bytesOf(dtype: DType, count: number): number {
  switch (dtype) {
    case 'float32': case 'int32': return 4 * count;
    default: return count;
  }
}

export function root(v: RtValue): RtValue {
  let r = v;
  while (r.aliasOf) r = r.aliasOf;
  return r;
}

/** Bytes a value takes in memory: 'bit' values pack their physical last axis into whole 64-bit words per row. */
export function storageBytes(v: { dtype: DType; shape: readonly number[]; layout: Layout }): number {
  return v.dtype === 'bit' ? storageLength('bit', physicalShape(v)) : bytesOf(v.dtype, elementCount(v.shape));
}
