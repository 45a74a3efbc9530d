// onnxruntime-node as the oracle: run a model built in memory on lowbit Tensors.
import * as ort from 'onnxruntime-node';
import { Tensor } from '../../lib/tensor/tensor';

export { ort };

export async function createSession(model: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(model, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
}

export function toOrt(t: Tensor): ort.Tensor {
  return new ort.Tensor(t.dtype as 'float32' | 'int8' | 'uint8' | 'int32', t.data as Float32Array, [...t.shape]);
}

export async function runOrt(session: ort.InferenceSession, feeds: Record<string, Tensor>): Promise<Record<string, ort.Tensor>> {
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = toOrt(v);
  return session.run(ortFeeds);
}
