// ONNX operator conformance for the fp32 ops and data movement: every
// single-node case in ../shared/conformance/onnx whose operator lowbit runs
// through lib/ops (elementwise, activations, Softmax, BatchNormalization,
// Cast, pooling, Transpose, Concat, Slice, Pad, Resize, Identity), against
// the expected outputs (exact for integer results and data movement, a small
// tolerance for float arithmetic). Cases lowbit does not support (float16,
// double, 3-D pooling, training-mode BatchNormalization, ...) are skipped with
// the reason, listed at the end.
import { strict as assert } from 'node:assert';
import { LowbitError, ops, Tensor } from '../lib';
import { onnx, tensorFromProto } from '../lib/graph/onnx';
import { conformanceDir, listCases, loadCase } from './helpers/conformance';

const OPS = new Set([
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Relu', 'Clip', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Sqrt', 'Neg',
  'Abs', 'Exp', 'Log', 'Tanh', 'Erf', 'Gelu', 'LeakyRelu', 'Softmax', 'LogSoftmax', 'ReduceMean', 'BatchNormalization',
  'Cast', 'Identity', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'Transpose', 'Concat', 'Slice',
  'Pad', 'Resize', 'Gather', 'LayerNormalization',
]);

// Data movement and integer results must match exactly.
const EXACT = new Set(['Relu', 'Neg', 'Abs', 'Identity', 'MaxPool', 'Transpose', 'Concat', 'Slice', 'Pad', 'Gather', 'Cast', 'Clip']);

const skipped: string[] = [];
/** Outputs after the first, set by runNode for ops that have them. */
let extraOutputs: Tensor[] = [];

class Skip extends Error {}

type Node = onnx.INodeProto;

function attribute(node: Node, name: string): onnx.IAttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}
function intAttr(node: Node, name: string): number | undefined {
  const a = attribute(node, name);
  return a === undefined ? undefined : Number(a.i ?? 0);
}
function floatAttr(node: Node, name: string): number | undefined {
  const a = attribute(node, name);
  return a === undefined ? undefined : (a.f ?? 0);
}
function intsAttr(node: Node, name: string): number[] | undefined {
  const a = attribute(node, name);
  return a === undefined ? undefined : (a.ints ?? []).map(Number);
}
function strAttr(node: Node, name: string): string | undefined {
  const a = attribute(node, name);
  return a === undefined || a.s === undefined || a.s === null ? undefined : Buffer.from(a.s).toString('utf8');
}

/** Integer values of an int64/int32 TensorProto, without the int32 limit (Slice uses INT64_MAX). */
function int64Values(t: onnx.ITensorProto): number[] {
  if (t.rawData && t.rawData.length > 0) {
    const raw = t.rawData;
    const buf = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
    return t.dataType === 7 ? Array.from(new BigInt64Array(buf), Number) : Array.from(new Int32Array(buf));
  }
  if (t.dataType === 7) return (t.int64Data ?? []).map((v) => Number(v));
  return (t.int32Data ?? []).map(Number);
}

function floatValues(t: onnx.ITensorProto | undefined): number[] | undefined {
  if (t === undefined) return undefined;
  return Array.from(tensorFromProto(t).data as Float32Array);
}

interface Inputs {
  tensor(i: number): Tensor | undefined;
  proto(i: number): onnx.ITensorProto | undefined;
}

const unsupported = (why: string): never => {
  throw new Skip(why);
};

function runNode(node: Node, opset: number, inp: Inputs): Tensor {
  const op = node.opType!;
  const x = () => inp.tensor(0) ?? unsupported('no input');
  const binary = (name: ops.BinaryOpName) => {
    const a = x(), b = inp.tensor(1)!;
    if (name === 'pow' && a.dtype !== b.dtype) {
      // Pow(float, int): the exponent as float; Pow(int, float): computed in float, truncated back.
      if (a.dtype === 'float32') return ops.pow(a, ops.cast(b, 'float32'));
      return ops.cast(ops.pow(ops.cast(a, 'float32'), b), a.dtype);
    }
    return ops.binaryOp(name, a, b);
  };
  switch (op) {
    case 'Add': return binary('add');
    case 'Sub': return binary('sub');
    case 'Mul': return binary('mul');
    case 'Div': return binary('div');
    case 'Pow': return binary('pow');
    case 'Max': case 'Min': {
      const xs: Tensor[] = [];
      for (let i = 0; inp.tensor(i) !== undefined; i++) xs.push(inp.tensor(i)!);
      return op === 'Max' ? ops.max(...xs) : ops.min(...xs);
    }
    case 'Relu': return ops.relu(x());
    case 'Sigmoid': return ops.sigmoid(x());
    case 'HardSwish': return ops.hardSwish(x());
    case 'HardSigmoid': return ops.hardSigmoid(x(), floatAttr(node, 'alpha') ?? 0.2, floatAttr(node, 'beta') ?? 0.5);
    case 'LeakyRelu': return ops.leakyRelu(x(), floatAttr(node, 'alpha') ?? 0.01);
    case 'Sqrt': return ops.sqrt(x());
    case 'Neg': return ops.neg(x());
    case 'Abs': return ops.abs(x());
    case 'Exp': return ops.exp(x());
    case 'Log': return ops.log(x());
    case 'Tanh': return ops.tanh(x());
    case 'Erf': return ops.erf(x());
    case 'Gelu': return ops.gelu(x(), (strAttr(node, 'approximate') ?? 'none') as 'none' | 'tanh');
    case 'Clip': {
      const t = x();
      const bound = (i: number, fallback: number) => {
        const b = inp.tensor(i);
        return b === undefined ? fallback : (b.data as ArrayLike<number>)[0];
      };
      return ops.clip(t, bound(1, -Infinity), bound(2, Infinity));
    }
    case 'Softmax': case 'LogSoftmax': {
      const f = op === 'Softmax' ? ops.softmax : ops.logSoftmax;
      return f(x(), { axis: intAttr(node, 'axis'), opset });
    }
    case 'ReduceMean': {
      const axes = opset >= 18 ? (inp.proto(1) ? int64Values(inp.proto(1)!) : undefined) : intsAttr(node, 'axes');
      return ops.reduceMean(x(), { axes, keepdims: (intAttr(node, 'keepdims') ?? 1) === 1, noopWithEmptyAxes: intAttr(node, 'noop_with_empty_axes') === 1 });
    }
    case 'BatchNormalization': {
      if (intAttr(node, 'training_mode') === 1 || (node.output?.length ?? 1) > 1) unsupported('training-mode BatchNormalization (lowbit runs inference)');
      return ops.batchNormalization(x(), inp.tensor(1)!, inp.tensor(2)!, inp.tensor(3)!, inp.tensor(4)!, { epsilon: floatAttr(node, 'epsilon') ?? 1e-5 });
    }
    case 'Cast': {
      const to = ({ 1: 'float32', 2: 'uint8', 3: 'int8', 6: 'int32' } as Record<number, 'float32' | 'uint8' | 'int8' | 'int32'>)[intAttr(node, 'to') ?? 0];
      if (to === undefined) unsupported(`Cast to element type ${intAttr(node, 'to')}`);
      return ops.cast(x(), to);
    }
    case 'Identity': return ops.identity(x());
    case 'MaxPool': case 'AveragePool': {
      if ((node.output?.length ?? 1) > 1) unsupported('MaxPool with an Indices output');
      const t = x();
      if (t.rank > 4) unsupported(`${t.rank - 2}-D pooling (lowbit pools 1-D and 2-D)`);
      if (intAttr(node, 'storage_order') === 1) unsupported('storage_order 1');
      const options: ops.PoolOptions = {
        kernelShape: intsAttr(node, 'kernel_shape')!, strides: intsAttr(node, 'strides'), pads: intsAttr(node, 'pads'),
        dilations: intsAttr(node, 'dilations'), autoPad: (strAttr(node, 'auto_pad') ?? 'NOTSET') as ops.PoolOptions['autoPad'],
        ceilMode: intAttr(node, 'ceil_mode') === 1, countIncludePad: intAttr(node, 'count_include_pad') === 1,
      };
      return op === 'MaxPool' ? ops.maxPool(t, options) : ops.averagePool(t, options);
    }
    case 'GlobalAveragePool': return ops.globalAveragePool(x());
    case 'GlobalMaxPool': return ops.globalMaxPool(x());
    case 'Transpose': return ops.transpose(x(), intsAttr(node, 'perm'));
    case 'Concat': {
      const xs: Tensor[] = [];
      for (let i = 0; i < (node.input?.length ?? 0); i++) xs.push(inp.tensor(i)!);
      return ops.concat(xs, intAttr(node, 'axis') ?? 0);
    }
    case 'Slice': {
      const p = (i: number) => (inp.proto(i) ? int64Values(inp.proto(i)!) : undefined);
      return ops.slice(x(), { starts: p(1)!, ends: p(2)!, axes: p(3), steps: p(4) });
    }
    case 'Pad': {
      const pads = int64Values(inp.proto(1)!);
      const value = inp.tensor(2) ? (inp.tensor(2)!.data as ArrayLike<number>)[0] : 0;
      const axes = inp.proto(3) ? int64Values(inp.proto(3)!) : undefined;
      return ops.pad(x(), { pads, value, axes, mode: (strAttr(node, 'mode') ?? 'constant') as ops.PadMode });
    }
    case 'Gather': return ops.gather(x(), inp.tensor(1)!, intAttr(node, 'axis') ?? 0);
    case 'LayerNormalization': {
      if ((intAttr(node, 'stash_type') ?? 1) !== 1) unsupported('stash_type other than float32');
      const t = x();
      const options = { axis: intAttr(node, 'axis') ?? -1, epsilon: floatAttr(node, 'epsilon') ?? 1e-5 };
      const { statShape } = ops.layerNormLayout(t.shape, options.axis);
      const y = Tensor.zeros('float32', t.shape), mean = Tensor.zeros('float32', statShape), inv = Tensor.zeros('float32', statShape);
      ops.layerNormalizationInto(t, inp.tensor(1)!, inp.tensor(2), y, { ...options, mean, invStdDev: inv });
      extraOutputs = [mean, inv];
      return y;
    }
    case 'Resize': {
      const mode = (strAttr(node, 'mode') ?? 'nearest') as ops.ResizeMode;
      const sizesProto = inp.proto(3);
      const scales = floatValues(inp.proto(2));
      return ops.resize(x(), {
        mode,
        roi: floatValues(inp.proto(1)),
        scales: scales !== undefined && scales.length > 0 ? scales : undefined,
        sizes: sizesProto ? int64Values(sizesProto) : undefined,
        axes: intsAttr(node, 'axes'),
        coordinateTransformationMode: (strAttr(node, 'coordinate_transformation_mode') ?? 'half_pixel') as ops.CoordinateTransformationMode,
        nearestMode: (strAttr(node, 'nearest_mode') ?? 'round_prefer_floor') as ops.NearestMode,
        cubicCoeffA: floatAttr(node, 'cubic_coeff_a'),
        excludeOutside: intAttr(node, 'exclude_outside') === 1,
        extrapolationValue: floatAttr(node, 'extrapolation_value'),
        keepAspectRatioPolicy: strAttr(node, 'keep_aspect_ratio_policy') as ops.ResizeOptions['keepAspectRatioPolicy'],
        antialias: intAttr(node, 'antialias') === 1,
      });
    }
    default:
      throw new Error(`no runner for ${op}`);
  }
}

describe('ONNX conformance: fp32 ops and data movement', function () {
  const cases = listCases().filter((c) => c.ops.length === 1 && OPS.has(c.ops[0]));

  it('finds the conformance cases', function () {
    if (cases.length === 0) {
      skipped.push(`all: no conformance data at ${conformanceDir()}`);
      this.skip();
    }
    assert.ok(cases.length >= 200, `expected the fp32 op cases, found ${cases.length}`);
  });

  for (const c of cases) {
    it(c.name, function () {
      const loaded = loadCase(c.name);
      const node = loaded.node;
      const opset = Number(c.opset.split(':').pop());
      const graphInputs = (loaded.model.graph!.input ?? []).map((v) => v.name ?? '');
      try {
        const values = [...(loaded.model.graph!.input ?? []), ...(loaded.model.graph!.output ?? [])];
        if (values.some((v) => !v.type?.tensorType)) unsupported('optional / sequence values (lowbit ops take tensors)');
        for (const set of loaded.sets) {
          const byName = new Map<string, onnx.ITensorProto>();
          graphInputs.forEach((name, i) => { if (set.inputs[i] !== undefined) byName.set(name, set.inputs[i]); });
          const proto = (i: number) => {
            const name = node.input?.[i];
            if (name === undefined || name === '') return undefined;
            const p = byName.get(name);
            if (p === undefined) unsupported(`input ${name} is not a plain tensor (optional / sequence types)`);
            return p;
          };
          const cache = new Map<number, Tensor | undefined>();
          const tensor = (i: number) => {
            if (!cache.has(i)) {
              const p = proto(i);
              cache.set(i, p === undefined ? undefined : tensorFromProto(p));
            }
            return cache.get(i);
          };
          if (set.outputs.length === 0) unsupported('no plain tensor output');
          extraOutputs = [];
          const got = [runNode(node, opset, { tensor, proto })];
          got.push(...extraOutputs);
          set.outputs.forEach((proto, k) => {
            if (k >= got.length) return;  // optional outputs lowbit does not produce are not compared
            const expected = tensorFromProto(proto);
            assert.equal(got[k].dtype, expected.dtype, `output ${k} dtype`);
            assert.deepEqual([...got[k].shape], [...expected.shape], `output ${k} shape`);
            const g = got[k].data as ArrayLike<number>, w = expected.data as ArrayLike<number>;
            const exact = EXACT.has(c.ops[0]) || got[k].dtype !== 'float32';
            for (let i = 0; i < w.length; i++) {
              if (Number.isNaN(w[i]) && Number.isNaN(g[i])) continue;
              // Float results: the ONNX backend runner's tolerance (rtol 1e-3, atol 1e-7);
              // some expected outputs are hand-rounded to 4 decimals.
              const ok = exact ? g[i] === w[i] : Math.abs(g[i] - w[i]) <= 1e-3 * Math.abs(w[i]) + 1e-7;
              if (!ok) assert.fail(`output ${k} element ${i}: got ${g[i]}, want ${w[i]}`);
            }
          });
        }
      } catch (err) {
        if (err instanceof Skip || (err instanceof LowbitError && (err.code === 'E_UNSUPPORTED' || err.code === 'E_DTYPE' && /Cast to/.test(err.message)))) {
          skipped.push(`${c.name}: ${err.message}`);
          this.skip();
        }
        throw err;
      }
    });
  }

  after(function () {
    if (skipped.length > 0) {
      console.log(`\n    skipped conformance cases (${skipped.length}):`);
      for (const s of skipped) console.log(`      - ${s}`);
    }
  });
});
