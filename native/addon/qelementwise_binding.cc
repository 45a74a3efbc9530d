// Quantized elementwise ops on the active kernel path (lowbit/qelementwise.h):
// qbinary (QLinearAdd / QLinearMul with a broadcast plan from JavaScript) and
// qglobalAveragePool (QLinearGlobalAveragePool, NCHW or NHWC). Each takes an
// optional Program last (op_call.h). Every scale, zero point and range is
// checked here so that a recorded step cannot fail or meet a NaN.
#include <cmath>
#include <string>

#include "bindings.h"
#include "list_args.h"
#include "lowbit/qelementwise.h"
#include "lowbit/thread_pool.h"
#include "op_call.h"
#include "state.h"

namespace lowbit_addon {
namespace {

using lowbit::BufferRef;

constexpr int64_t kMaxDim = int64_t{1} << 53;
// Factors above this could overflow float32 in a + b (255 * 2 * 1e30 < 3.4e38).
constexpr float kMaxFactor = 1e30f;

void check_zero_point(const Args& args, int64_t zp, bool is_signed, const std::string& what) {
  const int64_t lo = is_signed ? -128 : 0, hi = is_signed ? 127 : 255;
  if (zp < lo || zp > hi) {
    args.fail(kRange, what + " = " + std::to_string(zp) + " is outside the " + (is_signed ? "int8" : "uint8") +
                          " range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
}

// `count` positive finite float32 scales.
const float* scales(const Args& args, size_t i, size_t count, const char* names) {
  const float* s = args.typed<float>(i, "scales", napi_float32_array, count);
  for (size_t k = 0; k < count; ++k) {
    if (!(s[k] > 0.0f) || std::isinf(s[k])) {
      args.fail(kRange, std::string("scales[") + std::to_string(k) + "] (" + names + ") must be a positive finite number, got " +
                            std::to_string(s[k]));
    }
  }
  return s;
}

void check_factor(const Args& args, float f, const char* what) {
  if (!(f <= kMaxFactor) || std::isnan(f)) {
    args.fail(kRange, std::string(what) + " = " + std::to_string(f) + " is out of range (scales too far apart)");
  }
}

// The output range [qlo, qhi] within the output type's.
void out_range(const Args& args, size_t i, bool out_signed, int32_t* qlo, int32_t* qhi) {
  const int64_t lo = out_signed ? -128 : 0, hi = out_signed ? 127 : 255;
  const std::vector<int64_t> r = int_list(args, i, "outRange", 2, lo, hi);
  if (r.size() != 2 || r[0] > r[1]) args.fail(kRange, "outRange must be [min, max] with min <= max");
  *qlo = static_cast<int32_t>(r[0]);
  *qhi = static_cast<int32_t>(r[1]);
}

// qbinary(op, a, b, out, dims, aStrides, bStrides, aCount, bCount, scales [sa, sb, sy],
//         zeroPoints [za, zb, zy], outRange [min, max][, program])
Napi::Value QBinary(const Napi::CallbackInfo& info) {
  OpCall call(info, "qbinary", 12);
  const Args& args = call.args();
  const auto op = static_cast<lowbit::QBinaryOp>(choice(args, 0, "op", {"add", "mul"}));
  const std::vector<int64_t> dims = int_list(args, 4, "dims", lowbit::kMaxRank, 0, kMaxDim);
  const std::vector<int64_t> as = int_list(args, 5, "aStrides", lowbit::kMaxRank, 0, kMaxDim);
  const std::vector<int64_t> bs = int_list(args, 6, "bStrides", lowbit::kMaxRank, 0, kMaxDim);
  if (as.size() != dims.size() || bs.size() != dims.size()) {
    args.fail(kShape, "dims, aStrides and bStrides must have the same length, got " + std::to_string(dims.size()) +
                          ", " + std::to_string(as.size()) + ", " + std::to_string(bs.size()));
  }
  const size_t count = product(args, dims, "out");
  const size_t a_count = args.size(7, "aCount"), b_count = args.size(8, "bCount");
  check_extent(args, dims, as, a_count, "a");
  check_extent(args, dims, bs, b_count, "b");
  bool a_signed = false, b_signed = false, out_signed = false;
  const BufferRef a = call.bytes(1, "a", a_count, &a_signed);
  const BufferRef b = call.bytes(2, "b", b_count, &b_signed);
  const BufferRef out = call.bytes(3, "out", count, &out_signed);
  const float* s = scales(args, 9, 3, "[aScale, bScale, yScale]");
  const std::vector<int64_t> zp = int_list(args, 10, "zeroPoints", 3, -128, 255);
  if (zp.size() != 3) args.fail(kShape, "zeroPoints must be [aZeroPoint, bZeroPoint, yZeroPoint]");
  check_zero_point(args, zp[0], a_signed, "aZeroPoint");
  check_zero_point(args, zp[1], b_signed, "bZeroPoint");
  check_zero_point(args, zp[2], out_signed, "yZeroPoint");
  int32_t qlo, qhi;
  out_range(args, 11, out_signed, &qlo, &qhi);
  const lowbit::QBinaryParams p = lowbit::make_qbinary_params(
      op, s[0], static_cast<int32_t>(zp[0]), a_signed, s[1], static_cast<int32_t>(zp[1]), b_signed, s[2],
      static_cast<int32_t>(zp[2]), out_signed, qlo, qhi);
  check_factor(args, p.fa, op == lowbit::QBinaryOp::kAdd ? "aScale / yScale" : "aScale * bScale / yScale");
  check_factor(args, p.fb, "bScale / yScale");
  lowbit::BroadcastPlan plan;
  plan.rank = dims.size();
  for (size_t d = 0; d < dims.size(); ++d) {
    plan.dims[d] = static_cast<size_t>(dims[d]);
    plan.a_stride[d] = static_cast<size_t>(as[d]);
    plan.b_stride[d] = static_cast<size_t>(bs[d]);
  }
  const lowbit::QElementwisePath* path = &lowbit::qelementwise_path(active_isa());
  const std::string label = std::string(op == lowbit::QBinaryOp::kAdd ? "qlinear_add" : "qlinear_mul") +
                            (out_signed ? "_s8" : "_u8");
  return call.finish(label, [=](uint8_t* arena) {
    lowbit::qbinary(*path, p, plan, a.get<const void>(arena), b.get<const void>(arena), out.get<void>(arena),
                    &lowbit::default_thread_pool());
  }, static_cast<double>(count));
}

// qglobalAveragePool(layout, x, out, n, c, spatial, scales [sx, sy], zeroPoints [zx, zy],
//                    outRange [min, max][, program])
Napi::Value QGlobalAveragePool(const Napi::CallbackInfo& info) {
  OpCall call(info, "qglobalAveragePool", 9);
  const Args& args = call.args();
  const bool nhwc = choice(args, 0, "layout", {"nchw", "nhwc"}) == 1;
  const size_t n = args.size(3, "n"), c = args.size(4, "c"), spatial = args.size(5, "spatial");
  if (spatial == 0) args.fail(kShape, "spatial must be at least 1 (an average over no pixels is undefined)");
  if (spatial > lowbit::kMaxQPoolSpatial) {
    args.fail(kRange, "spatial = " + std::to_string(spatial) + " is above the " +
                          std::to_string(lowbit::kMaxQPoolSpatial) + " pixels an int32 sum supports");
  }
  const size_t out_count = checked_mul(args, n, c, "out");
  const size_t in_count = checked_mul(args, out_count, spatial, "x");
  bool x_signed = false, out_signed = false;
  const BufferRef x = call.bytes(1, "x", in_count, &x_signed);
  const BufferRef out = call.bytes(2, "out", out_count, &out_signed);
  const float* s = scales(args, 6, 2, "[xScale, yScale]");
  const std::vector<int64_t> zp = int_list(args, 7, "zeroPoints", 2, -128, 255);
  if (zp.size() != 2) args.fail(kShape, "zeroPoints must be [xZeroPoint, yZeroPoint]");
  check_zero_point(args, zp[0], x_signed, "xZeroPoint");
  check_zero_point(args, zp[1], out_signed, "yZeroPoint");
  int32_t qlo, qhi;
  out_range(args, 8, out_signed, &qlo, &qhi);
  const lowbit::QRequant r = lowbit::make_qpool_requant(s[0], s[1], static_cast<int32_t>(zp[1]), out_signed, spatial,
                                                        qlo, qhi);
  check_factor(args, r.factor, "xScale / (yScale * spatial)");
  const int32_t zx = static_cast<int32_t>(zp[0]);
  const lowbit::QElementwisePath* path = &lowbit::qelementwise_path(active_isa());
  return call.finish(out_signed ? "qlinear_global_average_pool_s8" : "qlinear_global_average_pool_u8",
                     [=](uint8_t* arena) {
    lowbit::qglobal_average_pool(*path, r, x_signed, nhwc, n, c, spatial, zx, x.get<const void>(arena),
                                 out.get<void>(arena), &lowbit::default_thread_pool());
  }, static_cast<double>(in_count));
}

}  // namespace

void register_qelementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("qbinary", Napi::Function::New(env, QBinary, "qbinary"));
  exports.Set("qglobalAveragePool", Napi::Function::New(env, QGlobalAveragePool, "qglobalAveragePool"));
}

}  // namespace lowbit_addon
