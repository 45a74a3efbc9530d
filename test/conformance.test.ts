// ONNX operator conformance: the quantization operators of the foundation
// (MatMulInteger, QLinearMatMul, QuantizeLinear, DequantizeLinear), bit-exact.
import { strict as assert } from 'node:assert';
import { LowbitError, ops, Tensor } from '../lib';
import { tensorFromProto } from '../lib/graph/onnx';
import { attr, conformanceDir, listCases, loadCase } from './helpers/conformance';

const SUPPORTED = new Set(['MatMulInteger', 'QLinearMatMul', 'QuantizeLinear', 'DequantizeLinear']);
const skipped: string[] = [];

function runNode(op: string, node: ReturnType<typeof loadCase>['node'], inputs: (Tensor | undefined)[]): Tensor {
  const [x0, x1, x2, x3, x4, x5, x6, x7] = inputs;
  switch (op) {
    case 'MatMulInteger':
      return ops.matmulInteger(x0!, x1!, x2, x3);
    case 'QLinearMatMul':
      return ops.qlinearMatmul(x0!, x1!, x2, x3!, x4!, x5, x6!, x7);
    case 'QuantizeLinear': {
      const outputDtype = attr(node, 'output_dtype');
      if (outputDtype !== undefined && outputDtype !== 0 && outputDtype !== 2 && outputDtype !== 3) {
        throw new LowbitError('E_UNSUPPORTED', `output_dtype ${outputDtype} (lowbit quantizes to uint8 or int8)`);
      }
      return ops.quantizeLinear(x0!, x1!, x2, {
        axis: attr(node, 'axis') as number | undefined,
        blockSize: attr(node, 'block_size') as number | undefined,
        dtype: outputDtype === 3 ? 'int8' : 'uint8',
      });
    }
    case 'DequantizeLinear':
      return ops.dequantizeLinear(x0!, x1!, x2, {
        axis: attr(node, 'axis') as number | undefined,
        blockSize: attr(node, 'block_size') as number | undefined,
      });
    default:
      throw new Error(`no runner for ${op}`);
  }
}

describe('ONNX conformance: quantization operators', function () {
  const cases = listCases().filter((c) => c.ops.length === 1 && SUPPORTED.has(c.ops[0]) && !c.name.endsWith('_expanded'));

  it('finds the conformance cases', function () {
    if (cases.length === 0) {
      skipped.push(`all: no conformance data at ${conformanceDir()}`);
      this.skip();
    }
    assert.ok(cases.length >= 30, `expected the quantization cases, found ${cases.length}`);
  });

  for (const c of cases) {
    it(c.name, function () {
      const loaded = loadCase(c.name);
      for (const set of loaded.sets) {
        let inputs: (Tensor | undefined)[];
        try {
          inputs = set.inputs.map((t, i) => (loaded.node.input![i] === '' ? undefined : tensorFromProto(t)));
        } catch (err) {
          if (err instanceof LowbitError && err.code === 'E_UNSUPPORTED') {
            skipped.push(`${c.name}: ${err.message}`);
            this.skip();
          }
          throw err;
        }
        let expected: Tensor;
        try {
          expected = tensorFromProto(set.outputs[0]);
        } catch (err) {
          if (err instanceof LowbitError && err.code === 'E_UNSUPPORTED') {
            skipped.push(`${c.name}: output ${err.message}`);
            this.skip();
          }
          throw err;
        }
        if (c.ops[0] === 'QuantizeLinear' && (set.outputs[0].dataType === 21 || set.outputs[0].dataType === 22)) {
          // lowbit reads and writes int4 weights, but quantizes activations to 8 bits only.
          skipped.push(`${c.name}: 4-bit QuantizeLinear outputs (lowbit quantizes activations to uint8 or int8)`);
          this.skip();
        }
        let got: Tensor;
        try {
          got = runNode(c.ops[0], loaded.node, inputs);
        } catch (err) {
          if (err instanceof LowbitError && err.code === 'E_UNSUPPORTED') {
            skipped.push(`${c.name}: ${err.message}`);
            this.skip();
          }
          throw err;
        }
        assert.equal(got.dtype, expected.dtype, 'dtype');
        assert.deepEqual([...got.shape], [...expected.shape], 'shape');
        assert.deepEqual(Array.from(got.data as ArrayLike<number>), Array.from(expected.data as ArrayLike<number>));
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
