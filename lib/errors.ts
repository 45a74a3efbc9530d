/**
 * Every error lowbit throws is a LowbitError with a stable `code`:
 *
 * | code               | meaning                                                        |
 * |--------------------|----------------------------------------------------------------|
 * | E_ARG              | an argument of the wrong kind, or a missing one                 |
 * | E_DTYPE            | a tensor or buffer of the wrong element type                   |
 * | E_SHAPE            | shapes or lengths that disagree, or sizes that overflow         |
 * | E_RANGE            | a value outside what is allowed (scale <= 0, zero point, ...)   |
 * | E_BUFFER           | a detached or too short buffer                                  |
 * | E_ISA              | a kernel path this build or CPU cannot run                      |
 * | E_MODEL_INVALID    | a model file that is not a valid ONNX model                     |
 * | E_UNSUPPORTED_OP   | an operator (or attribute) lowbit does not run                  |
 * | E_UNSUPPORTED      | a feature or type lowbit does not support (yet)                 |
 * | E_INTERNAL         | a bug in lowbit: please report it                               |
 */
export type ErrorCode =
  | 'E_ARG'
  | 'E_DTYPE'
  | 'E_SHAPE'
  | 'E_RANGE'
  | 'E_BUFFER'
  | 'E_ISA'
  | 'E_MODEL_INVALID'
  | 'E_UNSUPPORTED_OP'
  | 'E_UNSUPPORTED'
  | 'E_INTERNAL';

export class LowbitError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'LowbitError';
    this.code = code;
  }
}

/** Throws a LowbitError; typed `never` so checks read as plain statements. */
export function fail(code: ErrorCode, message: string): never {
  throw new LowbitError(code, message);
}
