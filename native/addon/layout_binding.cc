// Data movement on the active kernel path: transpose, copyRows (Concat, Split,
// Identity), gatherAxes (Slice, Pad, nearest Resize, Expand, Tile), gather,
// resize2d (linear / cubic). Each takes an optional Program last (op_call.h).
#include <array>
#include <cstring>
#include <memory>
#include <string>

#include "bindings.h"
#include "list_args.h"
#include "lowbit/layout.h"
#include "lowbit/thread_pool.h"
#include "op_call.h"
#include "state.h"

namespace lowbit_addon {
namespace {

using lowbit::BufferRef;

constexpr int64_t kMaxDim = int64_t{1} << 53;

// transpose(x, out, shape, perm[, program])
Napi::Value Transpose(const Napi::CallbackInfo& info) {
  OpCall call(info, "transpose", 4);
  const Args& args = call.args();
  const std::vector<int64_t> shape = int_list(args, 2, "shape", lowbit::kMaxRank, 0, kMaxDim);
  const std::vector<int64_t> perm = int_list(args, 3, "perm", lowbit::kMaxRank, 0, lowbit::kMaxRank - 1);
  if (perm.size() != shape.size()) {
    args.fail(kShape, "perm has " + std::to_string(perm.size()) + " entries for a rank-" + std::to_string(shape.size()) +
                          " shape");
  }
  bool seen[lowbit::kMaxRank] = {};
  for (int64_t a : perm) {
    if (static_cast<size_t>(a) >= shape.size() || seen[a]) {
      args.fail(kRange, "perm must be a permutation of 0.." + std::to_string(static_cast<int64_t>(shape.size()) - 1));
    }
    seen[a] = true;
  }
  const size_t count = product(args, shape, "x");
  napi_typedarray_type type;
  const BufferRef x = any_tensor(call, 0, "x", count, &type);
  const BufferRef out = typed_tensor(call, 1, "out", count, type);
  std::array<size_t, lowbit::kMaxRank> s{}, p{};
  for (size_t d = 0; d < shape.size(); ++d) {
    s[d] = static_cast<size_t>(shape[d]);
    p[d] = static_cast<size_t>(perm[d]);
  }
  const size_t rank = shape.size(), eb = type_bytes(type);
  const lowbit::LayoutPath* path = &lowbit::layout_path(active_isa());
  return call.finish("transpose", [=](uint8_t* arena) {
    lowbit::transpose(*path, eb, rank, s.data(), p.data(), x.get<const void>(arena), out.get<void>(arena),
                      &lowbit::default_thread_pool());
  }, static_cast<double>(count));
}

void check_rows(const Args& args, size_t count, size_t offset, size_t stride, size_t rows, size_t row, const char* what) {
  if (rows == 0 || row == 0) return;
  const size_t end = checked_mul(args, rows - 1, stride, what) + row;
  if (offset > count || end > count - offset) {
    args.fail(kShape, std::string(what) + ": " + std::to_string(rows) + " rows of " + std::to_string(row) +
                          " elements, stride " + std::to_string(stride) + ", from element " + std::to_string(offset) +
                          " pass its end (" + std::to_string(count) + " elements)");
  }
}

// copyRows(src, srcCount, srcOffset, srcStride, dst, dstCount, dstOffset, dstStride, rows, rowElements[, program])
// dst[dstOffset + r * dstStride + j] = src[srcOffset + r * srcStride + j], in elements.
Napi::Value CopyRows(const Napi::CallbackInfo& info) {
  OpCall call(info, "copyRows", 10);
  const Args& args = call.args();
  const size_t src_count = args.size(1, "srcCount"), src_offset = args.size(2, "srcOffset");
  const size_t src_stride = args.size(3, "srcStride");
  const size_t dst_count = args.size(5, "dstCount"), dst_offset = args.size(6, "dstOffset");
  const size_t dst_stride = args.size(7, "dstStride");
  const size_t rows = args.size(8, "rows"), row = args.size(9, "rowElements");
  check_rows(args, src_count, src_offset, src_stride, rows, row, "src");
  check_rows(args, dst_count, dst_offset, dst_stride, rows, row, "dst");
  napi_typedarray_type type;
  const BufferRef src = any_tensor(call, 0, "src", src_count, &type);
  const BufferRef dst = typed_tensor(call, 4, "dst", dst_count, type);
  const size_t eb = type_bytes(type);
  return call.finish("copy", [=](uint8_t* arena) {
    lowbit::copy_rows(src.get<const uint8_t>(arena) + src_offset * eb, src_stride * eb,
                      dst.get<uint8_t>(arena) + dst_offset * eb, dst_stride * eb, rows, row * eb,
                      &lowbit::default_thread_pool());
  }, static_cast<double>(rows) * static_cast<double>(row));
}

// A fill value as the bytes of one element of `type`.
std::array<uint8_t, 4> fill_value(const Args& args, size_t i, napi_typedarray_type type) {
  if (!args[i].IsNumber()) args.fail(kArg, "fill must be a number");
  const double v = args[i].As<Napi::Number>().DoubleValue();
  std::array<uint8_t, 4> bytes{};
  if (type == napi_float32_array) {
    const float f = static_cast<float>(v);
    std::memcpy(bytes.data(), &f, 4);
    return bytes;
  }
  const int64_t lo = type == napi_int32_array ? INT32_MIN : (type == napi_int8_array ? -128 : 0);
  const int64_t hi = type == napi_int32_array ? INT32_MAX : (type == napi_int8_array ? 127 : 255);
  if (!(v >= static_cast<double>(lo) && v <= static_cast<double>(hi)) || v != std::floor(v)) {
    args.fail(kRange, "fill must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "] for " +
                          typed_array_name(type) + " data, got " + std::to_string(v));
  }
  if (type == napi_int32_array) {
    const int32_t k = static_cast<int32_t>(v);
    std::memcpy(bytes.data(), &k, 4);
  } else {
    bytes[0] = static_cast<uint8_t>(static_cast<int32_t>(v));
  }
  return bytes;
}

// gatherAxes(x, out, inDims, outDims, maps, fill[, program]): maps holds each
// axis's out-dim entries in turn, each in [-1, inDims[d]) (-1: fill).
Napi::Value GatherAxes(const Napi::CallbackInfo& info) {
  OpCall call(info, "gatherAxes", 6);
  const Args& args = call.args();
  const std::vector<int64_t> in_dims = int_list(args, 2, "inDims", lowbit::kMaxRank, 0, INT32_MAX);
  const std::vector<int64_t> out_dims = int_list(args, 3, "outDims", lowbit::kMaxRank, 0, kMaxDim);
  if (in_dims.size() != out_dims.size()) {
    args.fail(kShape, "inDims and outDims must have the same rank, got " + std::to_string(in_dims.size()) + " and " +
                          std::to_string(out_dims.size()));
  }
  const size_t in_count = product(args, in_dims, "x"), out_count = product(args, out_dims, "out");
  size_t map_len = 0;
  for (int64_t d : out_dims) map_len += static_cast<size_t>(d);
  const int32_t* maps = args.typed<int32_t>(4, "maps", napi_int32_array, map_len);
  auto plan = std::make_shared<lowbit::AxisMaps>();
  plan->rank = in_dims.size();
  size_t at = 0;
  for (size_t d = 0; d < in_dims.size(); ++d) {
    plan->in_dims[d] = static_cast<size_t>(in_dims[d]);
    plan->out_dims[d] = static_cast<size_t>(out_dims[d]);
    plan->map[d].assign(maps + at, maps + at + out_dims[d]);
    for (size_t o = 0; o < static_cast<size_t>(out_dims[d]); ++o) {
      const int32_t m = plan->map[d][o];
      if (m < -1 || m >= in_dims[d]) {
        args.fail(kRange, "maps: axis " + std::to_string(d) + " entry " + std::to_string(o) + " = " + std::to_string(m) +
                              " is outside [-1, " + std::to_string(in_dims[d]) + ")");
      }
    }
    at += static_cast<size_t>(out_dims[d]);
  }
  napi_typedarray_type type;
  const BufferRef x = any_tensor(call, 0, "x", in_count, &type);
  const BufferRef out = typed_tensor(call, 1, "out", out_count, type);
  const std::array<uint8_t, 4> fill = fill_value(args, 5, type);
  const size_t eb = type_bytes(type);
  return call.finish("gather_axes", [=](uint8_t* arena) {
    lowbit::gather_axes(eb, *plan, x.get<const void>(arena), out.get<void>(arena), fill.data(),
                        &lowbit::default_thread_pool());
  }, static_cast<double>(out_count));
}

// gather(x, indices, out, outer, axisLen, inner, count[, program])
Napi::Value Gather(const Napi::CallbackInfo& info) {
  OpCall call(info, "gather", 7);
  const Args& args = call.args();
  const size_t outer = args.size(3, "outer"), axis = args.size(4, "axisLen"), inner = args.size(5, "inner");
  const size_t count = args.size(6, "count");
  if (axis > static_cast<size_t>(INT32_MAX)) args.fail(kRange, "axisLen must fit int32 indices");
  const size_t in_count = checked_mul(args, checked_mul(args, outer, axis, "x"), inner, "x");
  const size_t out_count = checked_mul(args, checked_mul(args, outer, count, "out"), inner, "out");
  napi_typedarray_type type;
  const BufferRef x = any_tensor(call, 0, "x", in_count, &type);
  const BufferRef idx = call.tensor<int32_t>(1, "indices", napi_int32_array, count);
  const BufferRef out = typed_tensor(call, 2, "out", out_count, type);
  const size_t eb = type_bytes(type);
  return call.finish("gather", [=](uint8_t* arena) {
    lowbit::gather(eb, outer, axis, inner, idx.get<const int32_t>(arena), count, x.get<const void>(arena),
                   out.get<void>(arena), &lowbit::default_thread_pool());
  }, static_cast<double>(out_count));
}

// {taps, index: Int32Array, weight: Float32Array, outside?: Uint8Array} for one axis of `size` inputs.
lowbit::ResizeAxis resize_axis(const Args& args, size_t i, const char* what, size_t size) {
  if (!args[i].IsObject()) args.fail(kArg, std::string(what) + " must be {taps, index, weight, outside?}");
  Napi::Object o = args[i].As<Napi::Object>();
  Napi::Value taps_v = o.Get("taps"), index_v = o.Get("index"), weight_v = o.Get("weight"), outside_v = o.Get("outside");
  if (!taps_v.IsNumber()) args.fail(kArg, std::string(what) + ".taps must be a number");
  const double taps_d = taps_v.As<Napi::Number>().DoubleValue();
  if (!(taps_d >= 1 && taps_d <= 64) || taps_d != std::floor(taps_d)) {
    args.fail(kRange, std::string(what) + ".taps must be an integer in [1, 64]");
  }
  const size_t taps = static_cast<size_t>(taps_d);
  if (!index_v.IsTypedArray() || index_v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    args.fail(kArg, std::string(what) + ".index must be an Int32Array");
  }
  if (!weight_v.IsTypedArray() || weight_v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    args.fail(kArg, std::string(what) + ".weight must be a Float32Array");
  }
  Napi::Int32Array index = index_v.As<Napi::Int32Array>();
  Napi::Float32Array weight = weight_v.As<Napi::Float32Array>();
  if (index.ElementLength() % taps != 0 || weight.ElementLength() != index.ElementLength()) {
    args.fail(kShape, std::string(what) + ": index and weight must both hold out * taps values");
  }
  lowbit::ResizeAxis a;
  a.taps = taps;
  a.out = index.ElementLength() / taps;
  a.index.assign(index.Data(), index.Data() + index.ElementLength());
  a.weight.assign(weight.Data(), weight.Data() + weight.ElementLength());
  a.outside.assign(a.out, 0);
  if (!outside_v.IsUndefined() && !outside_v.IsNull()) {
    if (!outside_v.IsTypedArray() || outside_v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array ||
        outside_v.As<Napi::TypedArray>().ElementLength() != a.out) {
      args.fail(kArg, std::string(what) + ".outside must be a Uint8Array of one flag per output position");
    }
    Napi::Uint8Array outside = outside_v.As<Napi::Uint8Array>();
    a.outside.assign(outside.Data(), outside.Data() + a.out);
  }
  for (size_t k = 0; k < a.index.size(); ++k) {
    if (!a.outside[k / taps] && (a.index[k] < 0 || static_cast<size_t>(a.index[k]) >= size)) {
      args.fail(kRange, std::string(what) + ".index[" + std::to_string(k) + "] = " + std::to_string(a.index[k]) +
                            " is outside [0, " + std::to_string(size) + ")");
    }
    if (a.outside[k / taps]) a.index[k] = 0;
  }
  return a;
}

// resize2d(layout, x, out, dims [n, c, h, w], ry, rx, extrapolation[, program])
Napi::Value Resize2d(const Napi::CallbackInfo& info) {
  OpCall call(info, "resize2d", 7);
  const Args& args = call.args();
  const auto layout = static_cast<lowbit::Layout>(choice(args, 0, "layout", {"nchw", "nhwc"}));
  const std::vector<int64_t> dims = int_list(args, 3, "dims", 4, 0, kMaxDim);
  if (dims.size() != 4) args.fail(kShape, "dims must be [n, c, h, w]");
  const size_t n = static_cast<size_t>(dims[0]), c = static_cast<size_t>(dims[1]);
  const size_t h = static_cast<size_t>(dims[2]), w = static_cast<size_t>(dims[3]);
  auto ry = std::make_shared<lowbit::ResizeAxis>(resize_axis(args, 4, "ry", h));
  auto rx = std::make_shared<lowbit::ResizeAxis>(resize_axis(args, 5, "rx", w));
  const float extrapolation = float_arg(args, 6, "extrapolation");
  const size_t in_count = product(args, dims, "x");
  const size_t out_count = checked_mul(args, checked_mul(args, n, c, "out"), checked_mul(args, ry->out, rx->out, "out"), "out");
  const BufferRef x = call.tensor<float>(1, "x", napi_float32_array, in_count);
  const BufferRef out = call.tensor<float>(2, "out", napi_float32_array, out_count);
  const lowbit::LayoutPath* path = &lowbit::layout_path(active_isa());
  return call.finish("resize", [=](uint8_t* arena) {
    lowbit::resize2d_f32(*path, layout, n, c, h, w, *ry, *rx, extrapolation, x.get<const float>(arena),
                         out.get<float>(arena), &lowbit::default_thread_pool());
  }, static_cast<double>(out_count) * static_cast<double>(ry->taps * rx->taps));
}

}  // namespace

void register_layout(Napi::Env env, Napi::Object exports) {
  exports.Set("transpose", Napi::Function::New(env, Transpose, "transpose"));
  exports.Set("copyRows", Napi::Function::New(env, CopyRows, "copyRows"));
  exports.Set("gatherAxes", Napi::Function::New(env, GatherAxes, "gatherAxes"));
  exports.Set("gather", Napi::Function::New(env, Gather, "gather"));
  exports.Set("resize2d", Napi::Function::New(env, Resize2d, "resize2d"));
}

}  // namespace lowbit_addon
