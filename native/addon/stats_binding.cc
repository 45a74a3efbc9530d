// Calibration statistics (lowbit/stats.h): minMax and absHistogramAdd. Each
// takes an optional Program last (op_call.h), so a calibration run can compute
// them next to the step that produced the activation, inside the model's run.
// AbsHistogramState keeps a histogram state in native memory, so the steps of
// every run (and of every plan) update it in place instead of the state being
// copied into the run's arena and back out on each batch.
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

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

// The words of a histogram state, and the lock that keeps a run's step and a
// read or write from JS (on another thread) from overlapping.
struct HeldState {
  std::mutex mutex;
  std::vector<double> words;
};

void check_width(const Args& args, double width) {
  if (!(width >= 0.0) || !std::isfinite(width)) {
    args.fail(kRange, "state[2] (the bin width) must be 0 (no data yet) or a positive finite number, got " + std::to_string(width));
  }
}

// new AbsHistogramState(bins): [lo, hi, width, counts[bins]] = [+inf, -inf, 0, 0...]
// (lib/ops/stats.ts absHistogramState), in native memory.
class AbsHistogramStateHandle : public Napi::ObjectWrap<AbsHistogramStateHandle> {
 public:
  static Napi::Function Define(Napi::Env env) {
    Napi::Function fn = DefineClass(env, "AbsHistogramState", {
        InstanceMethod("read", &AbsHistogramStateHandle::Read),
        InstanceMethod("write", &AbsHistogramStateHandle::Write),
        InstanceAccessor("bins", &AbsHistogramStateHandle::GetBins, nullptr),
    });
    ctor_ = new Napi::FunctionReference(Napi::Persistent(fn));
    return fn;
  }

  explicit AbsHistogramStateHandle(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<AbsHistogramStateHandle>(info), state_(std::make_shared<HeldState>()) {
    Args args(info, "AbsHistogramState", 1);
    bins_ = args.size(0, "bins");
    if (bins_ == 0 || bins_ > kMaxBins) args.fail(kRange, "bins must be in [1, " + std::to_string(kMaxBins) + "], got " + std::to_string(bins_));
    state_->words.assign(lowbit::kAbsHistogramHeader + bins_, 0.0);
    state_->words[0] = std::numeric_limits<double>::infinity();
    state_->words[1] = -std::numeric_limits<double>::infinity();
  }

  static bool Is(const Napi::Value& v) {
    return ctor_ != nullptr && v.IsObject() && v.As<Napi::Object>().InstanceOf(ctor_->Value());
  }
  size_t bins() const { return bins_; }
  const std::shared_ptr<HeldState>& state() const { return state_; }

 private:
  // read(out: Float64Array(3 + bins)): copies the state out.
  Napi::Value Read(const Napi::CallbackInfo& info) {
    Args args(info, "AbsHistogramState.read", 1);
    double* out = args.typed<double>(0, "out", napi_float64_array, state_->words.size());
    std::lock_guard<std::mutex> lock(state_->mutex);
    std::memcpy(out, state_->words.data(), state_->words.size() * sizeof(double));
    return info.Env().Undefined();
  }
  // write(from: Float64Array(3 + bins)): replaces the state (its width checked as absHistogramAdd does).
  Napi::Value Write(const Napi::CallbackInfo& info) {
    Args args(info, "AbsHistogramState.write", 1);
    const double* from = args.typed<double>(0, "from", napi_float64_array, state_->words.size());
    check_width(args, from[2]);
    std::lock_guard<std::mutex> lock(state_->mutex);
    std::memcpy(state_->words.data(), from, state_->words.size() * sizeof(double));
    return info.Env().Undefined();
  }
  Napi::Value GetBins(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(bins_)); }

  size_t bins_ = 0;
  std::shared_ptr<HeldState> state_;
  static Napi::FunctionReference* ctor_;
};
Napi::FunctionReference* AbsHistogramStateHandle::ctor_ = nullptr;

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
// width, counts[bins]] as a Float64Array, an AbsHistogramState (updated in place,
// now or at every run of the program), or, when recording, a uint8 slot of its
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
  const lowbit::StatsPath* path = &lowbit::stats_path(active_isa());
  const uint32_t nbins = static_cast<uint32_t>(bins), nsample = static_cast<uint32_t>(sample);
  const double cost = 2.0 * static_cast<double>(count);
  if (AbsHistogramStateHandle::Is(args[2])) {
    const AbsHistogramStateHandle& handle = *AbsHistogramStateHandle::Unwrap(args[2].As<Napi::Object>());
    if (handle.bins() != bins) {
      args.fail(kShape, "state holds " + std::to_string(handle.bins()) + " bins, not " + std::to_string(bins));
    }
    // The step owns the state with the handle: either may go first.
    std::shared_ptr<HeldState> held = handle.state();
    return call.finish("abs_histogram", [=](uint8_t* arena) {
      std::lock_guard<std::mutex> lock(held->mutex);
      lowbit::abs_histogram_add(*path, x.get<const float>(arena), count, nbins, held->words.data(),
                                &lowbit::default_thread_pool(), nsample);
    }, cost);
  }
  const size_t words = lowbit::kAbsHistogramHeader + bins;
  const lowbit::BufferRef state = call.recording() ? call.tensor<uint8_t>(2, "state", napi_uint8_array, words * sizeof(double))
                                                   : call.tensor<double>(2, "state", napi_float64_array, words);
  if (!call.recording()) check_width(args, state.get<const double>(nullptr)[2]);
  return call.finish("abs_histogram", [=](uint8_t* arena) {
    lowbit::abs_histogram_add(*path, x.get<const float>(arena), count, nbins, state.get<double>(arena),
                              &lowbit::default_thread_pool(), nsample);
  }, cost);
}

}  // namespace

void register_stats(Napi::Env env, Napi::Object exports) {
  exports.Set("minMax", Napi::Function::New(env, MinMax, "minMax"));
  exports.Set("absHistogramAdd", Napi::Function::New(env, AbsHistogramAdd, "absHistogramAdd"));
  exports.Set("AbsHistogramState", AbsHistogramStateHandle::Define(env));
}

}  // namespace lowbit_addon
