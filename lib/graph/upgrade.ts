// Opset upgrade of a graph to 13 or later (QDQ export needs per-axis
// DequantizeLinear, 13; HardSwish is 14; int4 and blocked DequantizeLinear, 21). Only the ops whose signature changed between 9 and 13 and
// that lowbit runs are rewritten; anything else that changed is refused.
import { fail } from '../errors';
import { Tensor } from '../tensor/tensor';
import { attrFloat, attrInts, describeNode, Graph, Node } from './ir';

export function upgradeOpset(g: Graph, target = 13): void {
  if (g.opset >= target) return;
  const from = g.opset;
  let k = 0;
  const constInput = (n: Node, t: Tensor, int64: boolean): string => {
    const name = `${n.name}#upgrade${k++}`;
    g.constants.set(name, t);
    if (int64) g.int64.add(name);
    return name;
  };
  const ints = (n: Node, v: number[]) => constInput(n, new Tensor('int32', Int32Array.from(v), [v.length]), true);
  for (const n of g.nodes) {
    if (n.domain !== '') continue;
    const takeAttr = (name: string) => {
      delete n.attrs[name];
      if (n.attrTypes) delete n.attrTypes[name];
    };
    switch (n.opType) {
      case 'Clip':
        if (from < 11) {
          const lo = attrFloat(n, 'min', -3.4028234663852886e38), hi = attrFloat(n, 'max', 3.4028234663852886e38);
          takeAttr('min');
          takeAttr('max');
          n.inputs = [n.inputs[0], constInput(n, new Tensor('float32', [lo], []), false), constInput(n, new Tensor('float32', [hi], []), false)];
        }
        break;
      case 'Slice':
        if (from < 10) {
          const starts = attrInts(n, 'starts'), ends = attrInts(n, 'ends');
          const axes = n.attrs.axes !== undefined ? attrInts(n, 'axes') : undefined;
          ['starts', 'ends', 'axes'].forEach(takeAttr);
          n.inputs = [n.inputs[0], ints(n, starts), ints(n, ends), ...(axes ? [ints(n, axes)] : [])];
        }
        break;
      case 'Squeeze':
      case 'Unsqueeze':
        if (n.attrs.axes !== undefined) {
          const axes = attrInts(n, 'axes');
          takeAttr('axes');
          n.inputs = [n.inputs[0], ints(n, axes)];
        }
        break;
      case 'Pad':
        if (from < 11) {
          const pads = attrInts(n, 'pads'), value = attrFloat(n, 'value', 0);
          takeAttr('pads');
          takeAttr('value');
          n.inputs = [n.inputs[0], ints(n, pads), constInput(n, new Tensor('float32', [value], []), false)];
        }
        break;
      case 'Dropout':
        n.opType = 'Identity';
        n.attrs = {};
        n.attrTypes = {};
        n.outputs = [n.outputs[0]];
        break;
      case 'Softmax':
      case 'LogSoftmax':
        // Before 13 these flatten to 2-D at `axis`; 13 normalises one axis. The two
        // agree when `axis` is the last axis, the usual case (classifier heads).
        // Other cases would need a Flatten/Reshape pair around the op.
        break;
      case 'Resize':
        if (from < 11) n.inputs = [n.inputs[0], '', n.inputs[1] ?? ''];
        break;
      case 'ReduceSum':
        if (n.attrs.axes !== undefined) {
          const axes = attrInts(n, 'axes');
          takeAttr('axes');
          n.inputs = [n.inputs[0], ints(n, axes)];
        }
        break;
      case 'ReduceMean':
      case 'ReduceMax':
      case 'ReduceMin':
      case 'ReduceProd':
      case 'ReduceL1':
      case 'ReduceL2':
      case 'ReduceLogSum':
      case 'ReduceLogSumExp':
      case 'ReduceSumSquare':
        // Opset 18 moved their axes from an attribute to an input.
        if (target >= 18 && n.attrs.axes !== undefined) {
          const axes = attrInts(n, 'axes');
          takeAttr('axes');
          n.inputs = [n.inputs[0], ints(n, axes)];
        }
        break;
      case 'Split':
        if (from >= 13) break; // 13 made `split` an input; 18 only added num_outputs
        fail('E_UNSUPPORTED', `${describeNode(n)}: upgrading it from opset ${from} to ${target} is not supported`);
      case 'Upsample':
        fail('E_UNSUPPORTED', `${describeNode(n)}: upgrading it from opset ${from} to ${target} is not supported`);
      default:
        break;
    }
  }
  g.opset = target;
}
