// Every ONNX conformance case (../shared/conformance/onnx) through the model
// runner: Session.create on the case's model, run each data set, compare with the
// expected outputs (integers exactly, floats within the ONNX backend tolerance).
// Cases lowbit cannot run are skipped with the reason, printed at the end.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LowbitError } from '../lib/errors';
import { tensorFromProto } from '../lib/graph/onnx';
import { Session } from '../lib/runtime/session';
import { Tensor } from '../lib/tensor/tensor';
import { conformanceDir, listCases, loadCase } from './helpers/conformance';

const skipped: string[] = [];

function close(name: string, got: Tensor, want: Tensor): void {
  assert.deepEqual([...got.shape], [...want.shape], `${name}: shape`);
  assert.equal(got.dtype, want.dtype, `${name}: dtype`);
  const g = got.data as ArrayLike<number>, w = want.data as ArrayLike<number>;
  if (got.dtype !== 'float32') {
    for (let i = 0; i < w.length; i++) if (g[i] !== w[i]) assert.fail(`${name}[${i}] = ${g[i]}, expected ${w[i]}`);
    return;
  }
  for (let i = 0; i < w.length; i++) {
    if (Number.isNaN(w[i]) && Number.isNaN(g[i])) continue;
    if (w[i] === g[i]) continue;
    const tol = 1e-5 + 1e-3 * Math.abs(w[i]);
    if (!(Math.abs(g[i] - w[i]) <= tol)) assert.fail(`${name}[${i}] = ${g[i]}, expected ${w[i]} (tolerance ${tol})`);
  }
}

describe('ONNX conformance through Session', function () {
  const cases = listCases();

  after(() => {
    if (skipped.length > 0) console.log(`    skipped conformance cases (${skipped.length}):\n${skipped.map((s) => `      ${s}`).join('\n')}`);
  });

  it('finds the conformance cases', function () {
    if (cases.length === 0) {
      skipped.push(`all: no conformance data at ${conformanceDir()}`);
      this.skip();
    }
    assert.ok(cases.length >= 400, `expected the conformance cases, found ${cases.length}`);
  });

  for (const c of cases) {
    it(c.name, async function () {
      const dir = path.join(conformanceDir(), 'cases', c.name);
      const loaded = loadCase(c.name);
      assert.ok(fs.existsSync(dir));
      for (const set of loaded.sets) {
        // lowbit needs weights and quantization parameters as constants: a case
        // that passes them as graph inputs gets every input but the first frozen
        // (Session's `freeze` option) when the plain load cannot run it.
        let session: Session;
        let frozen: Record<string, Tensor> = {};
        const modelFile = path.join(dir, 'model.onnx');
        const inputsOf = () => Object.fromEntries(loaded.model.graph!.input!.map((v, i) => [v.name!, tensorFromProto(set.inputs[i])]));
        try {
          session = Session.createSync(modelFile);
          const all = inputsOf();
          session.planFor(Object.fromEntries(session.inputNames.map((n) => [n, all[n].shape])));
        } catch (err) {
          if (!(err instanceof LowbitError && /must be a constant|only runs on values known/.test(err.message))) {
            if (err instanceof LowbitError && (err.code === 'E_UNSUPPORTED_OP' || err.code === 'E_UNSUPPORTED')) {
              skipped.push(`${c.name}: ${err.message}`);
              this.skip();
            }
            throw err;
          }
          const all = inputsOf();
          frozen = Object.fromEntries(Object.entries(all).slice(1));
          try {
            session = Session.createSync(modelFile, { freeze: frozen });
          } catch (err2) {
            if (err2 instanceof LowbitError && (err2.code === 'E_UNSUPPORTED_OP' || err2.code === 'E_UNSUPPORTED')) {
              skipped.push(`${c.name}: ${err2.message}`);
              this.skip();
            }
            throw err2;
          }
        }
        const feeds: Record<string, Tensor> = {};
        let wants: Tensor[];
        try {
          const all = inputsOf();
          session.inputNames.forEach((name) => {
            feeds[name] = all[name];
          });
          wants = set.outputs.map((t) => tensorFromProto(t));
        } catch (err) {
          if (err instanceof LowbitError && err.code === 'E_UNSUPPORTED') {
            skipped.push(`${c.name}: ${err.message}`);
            this.skip();
          }
          throw err;
        }
        let got: Record<string, Tensor>;
        try {
          got = await session.run(feeds);
        } catch (err) {
          if (err instanceof LowbitError && err.code === 'E_UNSUPPORTED_OP') {
            skipped.push(`${c.name}: ${err.message}`);
            this.skip();
          }
          throw err;
        }
        session.outputNames.forEach((name, i) => close(`${c.name}:${name}`, got[name], wants[i]));
        // The synchronous path gives the same bytes.
        const sync = session.runSync(feeds);
        for (const name of session.outputNames) assert.deepEqual(sync[name].data, got[name].data);
      }
    });
  }
});
