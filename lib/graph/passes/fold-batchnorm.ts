// BatchNormalization after a Conv (or ConvTranspose) or a Gemm with constant
// weights folds into the weights and bias: y = (conv(x) - mean) * gamma /
// sqrt(var + eps) + beta.
import { attrFloat, attrInt, Graph, Node } from '../ir';
import { Tensor } from '../../tensor/tensor';

function f32(g: Graph, name: string | undefined): Float32Array | undefined {
  if (!name) return undefined;
  const t = g.constants.get(name);
  return t && t.dtype === 'float32' ? (t.data as Float32Array) : undefined;
}

export function foldBatchNorm(g: Graph): number {
  const producers = g.producers();
  const consumers = g.consumers();
  let folded = 0;
  for (const bn of [...g.nodes]) {
    if (bn.opType !== 'BatchNormalization' || bn.domain !== '' || bn.outputs.filter((o) => o !== '').length !== 1) continue;
    if (attrInt(bn, 'training_mode', 0) !== 0) continue;
    const conv = producers.get(bn.inputs[0]);
    if (!conv || conv.domain !== '' || (conv.opType !== 'Conv' && conv.opType !== 'ConvTranspose' && conv.opType !== 'Gemm')) continue;
    if ((consumers.get(bn.inputs[0]) ?? []).length !== 1 || g.isGraphOutput(bn.inputs[0])) continue;
    if (conv.opType === 'Gemm') {
      if (foldIntoGemm(g, conv, bn)) folded++;
      continue;
    }
    const w = g.constants.get(conv.inputs[1]);
    const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((i) => f32(g, bn.inputs[i]));
    if (!w || w.dtype !== 'float32' || !gamma || !beta || !mean || !variance) continue;
    const group = attrInt(conv, 'group', 1);
    const m = conv.opType === 'Conv' ? w.shape[0] : w.shape[1] * group;
    if (gamma.length !== m || beta.length !== m || mean.length !== m || variance.length !== m) continue;
    const eps = attrFloat(bn, 'epsilon', 1e-5);
    const bias0 = f32(g, conv.inputs[2]);
    const scale = Float64Array.from(gamma, (s, c) => s / Math.sqrt(variance[c] + eps));
    const wd = w.data as Float32Array;
    const nw = new Float32Array(wd.length);
    if (conv.opType === 'Conv') {
      const per = wd.length / m;
      for (let c = 0; c < m; c++) for (let k = 0; k < per; k++) nw[c * per + k] = wd[c * per + k] * scale[c];
    } else {
      // ConvTranspose weights are [C, M/group, kh, kw]: output channel = group * (M/group) + j.
      const mg = w.shape[1], per = wd.length / (w.shape[0] * mg), cg = w.shape[0] / group;
      for (let c = 0; c < w.shape[0]; c++) {
        const gi = Math.floor(c / cg);
        for (let j = 0; j < mg; j++) for (let k = 0; k < per; k++) {
          const i = (c * mg + j) * per + k;
          nw[i] = wd[i] * scale[gi * mg + j];
        }
      }
    }
    const nb = Float32Array.from(beta, (b, c) => ((bias0 ? bias0[c] : 0) - mean[c]) * scale[c] + b);
    const wName = `${conv.inputs[1]}#bn`, bName = `${bn.outputs[0]}#bias`;
    g.constants.set(wName, new Tensor('float32', nw, [...w.shape]));
    g.constants.set(bName, new Tensor('float32', nb, [m]));
    conv.inputs = [conv.inputs[0], wName, bName];
    conv.outputs = [bn.outputs[0]];
    g.nodes.splice(g.nodes.indexOf(bn), 1);
    folded++;
  }
  return folded;
}

/**
 * Gemm y = alpha * A * B' + beta * C ([M, N], BatchNormalization over N): column
 * n of B' scales by gamma / sqrt(var + eps), and the bias becomes
 * (beta * C - mean) * scale + bn beta with beta = 1. Only for a constant B and a
 * C that is absent or the same for every row ([N], [1, N], one value).
 */
function foldIntoGemm(g: Graph, gemm: Node, bn: Node): boolean {
  const w = g.constants.get(gemm.inputs[1]);
  if (!w || w.dtype !== 'float32' || w.shape.length !== 2) return false;
  const transB = attrInt(gemm, 'transB', 0) === 1;
  const n = transB ? w.shape[0] : w.shape[1], k = transB ? w.shape[1] : w.shape[0];
  const [gamma, bnBeta, mean, variance] = [1, 2, 3, 4].map((i) => f32(g, bn.inputs[i]));
  if (!gamma || !bnBeta || !mean || !variance || [gamma, bnBeta, mean, variance].some((v) => v.length !== n)) return false;
  let c: Float32Array | undefined;
  if (gemm.inputs[2]) {
    const ct = g.constants.get(gemm.inputs[2]);
    if (!ct || ct.dtype !== 'float32') return false;
    const size = ct.shape.reduce((a, b) => a * b, 1);
    const perColumn = (ct.shape.length === 1 && size === n) || (ct.shape.length === 2 && ct.shape[0] === 1 && ct.shape[1] === n);
    if (!perColumn && size !== 1) return false;
    const cd = ct.data as Float32Array;
    c = size === 1 ? new Float32Array(n).fill(cd[0]) : cd;
  }
  const eps = attrFloat(bn, 'epsilon', 1e-5), beta = attrFloat(gemm, 'beta', 1);
  const scale = Float64Array.from(gamma, (s, j) => s / Math.sqrt(variance[j] + eps));
  const wd = w.data as Float32Array;
  const nw = new Float32Array(wd.length);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < k; i++) {
      const at = transB ? j * k + i : i * n + j;
      nw[at] = wd[at] * scale[j];
    }
  }
  const nb = Float32Array.from(bnBeta, (b, j) => ((c ? beta * c[j] : 0) - mean[j]) * scale[j] + b);
  const wName = `${gemm.inputs[1]}#bn`, bName = `${bn.outputs[0]}#bias`;
  g.constants.set(wName, new Tensor('float32', nw, [...w.shape]));
  g.constants.set(bName, new Tensor('float32', nb, [n]));
  gemm.inputs = [gemm.inputs[0], wName, bName];
  gemm.attrs = { ...gemm.attrs, beta: 1 };
  gemm.attrTypes = { ...gemm.attrTypes, beta: 1 }; // FLOAT: an exported model keeps Gemm's beta a float
  gemm.outputs = [bn.outputs[0]];
  g.nodes.splice(g.nodes.indexOf(bn), 1);
  return true;
}
