// Calibration statistics (lowbit/stats.h): minMax and absHistogramAdd. Each
// takes an optional Program last (op_call.h), so a calibration run can compute
// them next to the step that produced the activation, inside the model's run.
#include <cmath>
#include <string>

#include "bindings.h"
#include "lowbit/stats.h"
#include "lowbit/thread_pool.h"
#include "op_call.h"
#include "state.h"

namespace lowbit_addon {
namespace {

// At most 2^24 bins: the per-thread working counts (4 copies of uint32 per bin)
// stay a modest allocation.
constexpr size_t kMaxBins = size_t{1} << 24;
// Sampling one block in more than this many keeps too little to be a histogram.
constexpr size_t kMaxSample = 1024;

// minMax(x: Float32Array, count, out: Float32Array(2)[, program]): out = [min, max]
// of x, NaN ignored; [+Infinity, -Infinity] when x has no number.
Napi::Value MinMax(const Napi::CallbackInfo& info) {
  OpCall call(info, "minMax", 3);
  const Args& args = call.args();
  const size_t count = args.size(1, "count");
  const lowbit::BufferRef x = call.tensor<float>(0, "x", napi_float32_array, count);
  const lowbit::BufferRef out = call.tensor<float>(2, "out", napi_float32_array, 2);
  const lowbit::StatsPath* path = &lowbit::stats_path(active_isa());
  return call.finish("min_max", [=](uint8_t* arena) {
    float* o = out.get<float>(arena);
    lowbit::min_max(*path, x.get<const float>(arena), count, &o[0], &o[1], &lowbit::default_thread_pool());
  }, static_cast<double>(count));
}

// absHistogramAdd(x: Float32Array, count, state, bins, sample[, program]): one batch
// into a growing histogram of |x| (stats.h abs_histogram_add). state is [lo, hi,
// width, counts[bins]] as a Float64Array, or, when recording, a uint8 slot of its
// bytes (the caller copies it in and out of the run). sample: large buffers count
// their tail from every value and their bulk from one block in `sample` (1: every
// value; stats.h).
Napi::Value AbsHistogramAdd(const Napi::CallbackInfo& info) {
  OpCall call(info, "absHistogramAdd", 5);
  const Args& args = call.args();
  const size_t count = args.size(1, "count");
  const size_t bins = args.size(3, "bins");
  if (bins == 0 || bins > kMaxBins) args.fail(kRange, "bins must be in [1, " + std::to_string(kMaxBins) + "], got " + std::to_string(bins));
  const size_t sample = args.size(4, "sample");
  if (sample == 0 || sample > kMaxSample) args.fail(kRange, "sample must be in [1, " + std::to_string(kMaxSample) + "], got " + std::to_string(sample));
  const lowbit::BufferRef x = call.tensor<float>(0, "x", napi_float32_array, count);
  const size_t words = lowbit::kAbsHistogramHeader + bins;
  const lowbit::BufferRef state = call.recording() ? call.tensor<uint8_t>(2, "state", napi_uint8_array, words * sizeof(double))
                                                   : call.tensor<double>(2, "state", napi_float64_array, words);
  if (!call.recording()) {
    const double* s = state.get<const double>(nullptr);
    if (!(s[2] >= 0.0) || !std::isfinite(s[2])) {
      args.fail(kRange, "state[2] (the bin width) must be 0 (no data yet) or a positive finite number, got " + std::to_string(s[2]));
    }
  }
  const lowbit::StatsPath* path = &lowbit::stats_path(active_isa());
  const uint32_t nbins = static_cast<uint32_t>(bins), nsample = static_cast<uint32_t>(sample);
  return call.finish("abs_histogram", [=](uint8_t* arena) {
    lowbit::abs_histogram_add(*path, x.get<const float>(arena), count, nbins, state.get<double>(arena),
                              &lowbit::default_thread_pool(), nsample);
  }, 2.0 * static_cast<double>(count));
}

}  // namespace

void register_stats(Napi::Env env, Napi::Object exports) {
  exports.Set("minMax", Napi::Function::New(env, MinMax, "minMax"));
  exports.Set("absHistogramAdd", Napi::Function::New(env, AbsHistogramAdd, "absHistogramAdd"));
}

}  // namespace lowbit_addon
