// Pooling on the active kernel path: pool2d (MaxPool / AveragePool) and
// globalPool, NCHW or NHWC, with an optional Program last (op_call.h).
#include <string>

#include "bindings.h"
#include "list_args.h"
#include "lowbit/pool.h"
#include "lowbit/thread_pool.h"
#include "op_call.h"
#include "state.h"

namespace lowbit_addon {
namespace {

using lowbit::BufferRef;

constexpr int64_t kMaxDim = int64_t{1} << 53;
constexpr int64_t kMaxWindow = int64_t{1} << 31;
// Taps of one window (the kernels keep one pointer per tap).
constexpr size_t kMaxTaps = size_t{1} << 16;

lowbit::ElementType pool_type(const Args& args, napi_typedarray_type t, lowbit::PoolKind kind) {
  if (t == napi_float32_array) return lowbit::ElementType::kFloat32;
  if (kind == lowbit::PoolKind::kMax && (t == napi_uint8_array || t == napi_int8_array)) return element_type(t);
  args.fail(kDtype, std::string(kind == lowbit::PoolKind::kMax ? "max pooling takes float32, uint8 or int8"
                                                               : "average pooling takes float32") +
                        " tensors, got " + typed_array_name(t));
}

// pool2d(kind, layout, x, out, dims [n, c, h, w, oh, ow],
//        window [kh, kw, sh, sw, dh, dw, padTop, padLeft, padBottom, padRight], countIncludePad[, program])
Napi::Value Pool2d(const Napi::CallbackInfo& info) {
  OpCall call(info, "pool2d", 7);
  const Args& args = call.args();
  const auto kind = static_cast<lowbit::PoolKind>(choice(args, 0, "kind", {"max", "average"}));
  const auto layout = static_cast<lowbit::Layout>(choice(args, 1, "layout", {"nchw", "nhwc"}));
  const std::vector<int64_t> dims = int_list(args, 4, "dims", 6, 0, kMaxDim);
  const std::vector<int64_t> win = int_list(args, 5, "window", 10, 0, kMaxWindow);
  if (dims.size() != 6) args.fail(kShape, "dims must be [n, c, h, w, oh, ow]");
  if (win.size() != 10) args.fail(kShape, "window must be [kh, kw, sh, sw, dh, dw, padTop, padLeft, padBottom, padRight]");
  for (size_t k = 0; k < 6; ++k) {
    if (win[k] < 1) {
      static const char* names[] = {"kernel height", "kernel width", "stride height", "stride width",
                                    "dilation height", "dilation width"};
      args.fail(kRange, std::string(names[k]) + " must be at least 1, got " + std::to_string(win[k]));
    }
  }
  lowbit::Pool2dParams p;
  p.n = static_cast<size_t>(dims[0]);
  p.c = static_cast<size_t>(dims[1]);
  p.h = static_cast<size_t>(dims[2]);
  p.w = static_cast<size_t>(dims[3]);
  p.oh = static_cast<size_t>(dims[4]);
  p.ow = static_cast<size_t>(dims[5]);
  p.kh = static_cast<size_t>(win[0]);
  p.kw = static_cast<size_t>(win[1]);
  p.sh = static_cast<size_t>(win[2]);
  p.sw = static_cast<size_t>(win[3]);
  p.dh = static_cast<size_t>(win[4]);
  p.dw = static_cast<size_t>(win[5]);
  p.pad_top = static_cast<size_t>(win[6]);
  p.pad_left = static_cast<size_t>(win[7]);
  p.pad_bottom = static_cast<size_t>(win[8]);
  p.pad_right = static_cast<size_t>(win[9]);
  p.count_include_pad = args.boolean(6, "countIncludePad");
  const size_t in_count = checked_mul(args, checked_mul(args, p.n, p.c, "x"), checked_mul(args, p.h, p.w, "x"), "x");
  const size_t out_count =
      checked_mul(args, checked_mul(args, p.n, p.c, "out"), checked_mul(args, p.oh, p.ow, "out"), "out");
  const size_t taps = checked_mul(args, p.kh, p.kw, "window");
  if (taps > kMaxTaps) {
    args.fail(kRange, "a window of " + std::to_string(p.kh) + " x " + std::to_string(p.kw) + " taps is above the " +
                          std::to_string(kMaxTaps) + " supported (use globalPool for whole-image pooling)");
  }
  // Window positions are computed in ptrdiff_t: keep them far from overflow.
  checked_mul(args, checked_mul(args, std::max(p.oh, p.ow), std::max(p.sh, p.sw), "window"), 4, "window");
  checked_mul(args, checked_mul(args, std::max(p.kh, p.kw), std::max(p.dh, p.dw), "window"), 4, "window");
  napi_typedarray_type type;
  const BufferRef x = any_tensor(call, 2, "x", in_count, &type);
  const lowbit::ElementType et = pool_type(args, type, kind);
  const BufferRef out = typed_tensor(call, 3, "out", out_count, type);
  const lowbit::PoolPath* path = &lowbit::pool_path(active_isa());
  return call.finish(kind == lowbit::PoolKind::kMax ? "max_pool" : "average_pool", [=](uint8_t* arena) {
    lowbit::pool2d(*path, kind, layout, et, p, x.get<const void>(arena), out.get<void>(arena),
                   &lowbit::default_thread_pool());
  }, static_cast<double>(out_count) * static_cast<double>(taps));
}

// globalPool(kind, layout, x, out, n, c, spatial[, program])
Napi::Value GlobalPool(const Napi::CallbackInfo& info) {
  OpCall call(info, "globalPool", 7);
  const Args& args = call.args();
  const auto kind = static_cast<lowbit::PoolKind>(choice(args, 0, "kind", {"max", "average"}));
  const auto layout = static_cast<lowbit::Layout>(choice(args, 1, "layout", {"nchw", "nhwc"}));
  const size_t n = args.size(4, "n"), c = args.size(5, "c"), spatial = args.size(6, "spatial");
  const size_t out_count = checked_mul(args, n, c, "out");
  const size_t in_count = checked_mul(args, out_count, spatial, "x");
  napi_typedarray_type type;
  const BufferRef x = any_tensor(call, 2, "x", in_count, &type);
  const lowbit::ElementType et = pool_type(args, type, kind);
  const BufferRef out = typed_tensor(call, 3, "out", out_count, type);
  const lowbit::PoolPath* path = &lowbit::pool_path(active_isa());
  return call.finish(kind == lowbit::PoolKind::kMax ? "global_max_pool" : "global_average_pool", [=](uint8_t* arena) {
    lowbit::global_pool(*path, kind, layout, et, n, c, spatial, x.get<const void>(arena), out.get<void>(arena),
                        &lowbit::default_thread_pool());
  }, static_cast<double>(in_count));
}

}  // namespace

void register_pool(Napi::Env env, Napi::Object exports) {
  exports.Set("pool2d", Napi::Function::New(env, Pool2d, "pool2d"));
  exports.Set("globalPool", Napi::Function::New(env, GlobalPool, "globalPool"));
}

}  // namespace lowbit_addon
