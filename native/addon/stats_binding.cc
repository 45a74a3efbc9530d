// Calibration statistics (lowbit/stats.h): minMax and absHistogramAdd. Each
// takes an optional Program last (op_call.h), so a calibration run can compute
// them next to the step that produced the activation, inside the model's run.
// AbsHistogramState keeps a histogram state in native memory, so the steps of
// every run (and of every plan) update it in place instead of the state being
// copied into the run's arena and back out on each batch.
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
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
// read or write from JS (on another thread) from overlapping. Turns: runs of
// consecutive batches may be in flight at once (calibration on several
// threads); a step given a turn waits until every earlier turn has been added
// or passed, so the state sees the batches in order, as one thread would.
struct HeldState {
  std::mutex mutex;
  std::vector<double> words;
  std::atomic<uint64_t> next_turn{0};  // written under mutex, read by spinning waiters
  std::condition_variable turn_done;
};

// Ends turn `turn` (under the state's lock): the next one may go.
void end_turn(HeldState& held, uint64_t turn) {
  if (held.next_turn.load() == turn) held.next_turn.store(turn + 1);
}

// Waits (with the lock) until turn `turn` may go. The turn before is usually
// one histogram step on another core, tens of microseconds: poll that long
// before sleeping, since a sleeping thread wakes 50-100 us late on a VM.
void wait_for_turn(HeldState& held, std::unique_lock<std::mutex>& lock, uint64_t turn) {
  if (held.next_turn.load() >= turn) return;
  lock.unlock();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(500);
  while (held.next_turn.load(std::memory_order_acquire) < turn && std::chrono::steady_clock::now() < deadline) {
    for (int i = 0; i < 32 && held.next_turn.load(std::memory_order_relaxed) < turn; ++i) std::this_thread::yield();
  }
  lock.lock();
  held.turn_done.wait(lock, [&] { return held.next_turn.load() >= turn; });
}

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
        InstanceMethod("pass", &AbsHistogramStateHandle::Pass),
        InstanceAccessor("nextTurn", &AbsHistogramStateHandle::GetNextTurn, nullptr),
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
  // pass(turn): turn `turn` adds nothing (a batch whose run does not update this
  // state, or failed): steps waiting for a later turn may go. A turn already
  // ended is left as it is.
  Napi::Value Pass(const Napi::CallbackInfo& info) {
    Args args(info, "AbsHistogramState.pass", 1);
    const uint64_t turn = args.size(0, "turn");
    {
      std::lock_guard<std::mutex> lock(state_->mutex);
      end_turn(*state_, turn);
    }
    state_->turn_done.notify_all();
    return info.Env().Undefined();
  }
  Napi::Value GetNextTurn(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(state_->next_turn.load()));
  }

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

// The arguments absHistogramAdd and absHistogramAddInTurn share: x (count
// floats), bins and sample, checked the same way for both.
struct HistogramArgs {
  size_t count, bins;
  uint32_t nbins, nsample;
  lowbit::BufferRef x;
  const lowbit::StatsPath* path;
};

HistogramArgs histogram_args(OpCall& call) {
  const Args& args = call.args();
  HistogramArgs h;
  h.count = args.size(1, "count");
  h.bins = args.size(3, "bins");
  if (h.bins == 0 || h.bins > kMaxBins) args.fail(kRange, "bins must be in [1, " + std::to_string(kMaxBins) + "], got " + std::to_string(h.bins));
  const size_t sample = args.size(4, "sample");
  if (sample == 0 || sample > kMaxSample) args.fail(kRange, "sample must be in [1, " + std::to_string(kMaxSample) + "], got " + std::to_string(sample));
  h.nbins = static_cast<uint32_t>(h.bins);
  h.nsample = static_cast<uint32_t>(sample);
  h.x = call.tensor<float>(0, "x", napi_float32_array, h.count);
  h.path = &lowbit::stats_path(active_isa());
  return h;
}

// The native state behind argument 2, which must hold `bins` bins.
std::shared_ptr<HeldState> held_state(const Args& args, size_t bins) {
  const AbsHistogramStateHandle& handle = *AbsHistogramStateHandle::Unwrap(args[2].As<Napi::Object>());
  if (handle.bins() != bins) args.fail(kShape, "state holds " + std::to_string(handle.bins()) + " bins, not " + std::to_string(bins));
  return handle.state();
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
  const HistogramArgs h = histogram_args(call);
  const double cost = 2.0 * static_cast<double>(h.count);
  if (AbsHistogramStateHandle::Is(args[2])) {
    // The step owns the state with the handle: either may go first.
    std::shared_ptr<HeldState> held = held_state(args, h.bins);
    return call.finish("abs_histogram", [=](uint8_t* arena) {
      std::lock_guard<std::mutex> lock(held->mutex);
      lowbit::abs_histogram_add(*h.path, h.x.get<const float>(arena), h.count, h.nbins, held->words.data(),
                                &lowbit::default_thread_pool(), h.nsample);
    }, cost);
  }
  const size_t words = lowbit::kAbsHistogramHeader + h.bins;
  const lowbit::BufferRef state = call.recording() ? call.tensor<uint8_t>(2, "state", napi_uint8_array, words * sizeof(double))
                                                   : call.tensor<double>(2, "state", napi_float64_array, words);
  if (!call.recording()) check_width(args, state.get<const double>(nullptr)[2]);
  return call.finish("abs_histogram", [=](uint8_t* arena) {
    lowbit::abs_histogram_add(*h.path, h.x.get<const float>(arena), h.count, h.nbins, state.get<double>(arena),
                              &lowbit::default_thread_pool(), h.nsample);
  }, cost);
}

// absHistogramAddInTurn(x, count, state, bins, sample, turn, program): as
// absHistogramAdd into an AbsHistogramState, recorded into `program`, at the
// batch's turn: `turn` is a float32 slot holding the batch's number. The step
// waits for the earlier turns (runs of earlier batches, on other threads), adds,
// and ends its turn. The numbers start at 0 for a fresh state and go up by one
// a batch; a batch that does not reach the step has its turn passed (pass()).
Napi::Value AbsHistogramAddInTurn(const Napi::CallbackInfo& info) {
  OpCall call(info, "absHistogramAddInTurn", 6);
  const Args& args = call.args();
  if (!call.recording()) args.fail(kArg, "absHistogramAddInTurn records into a program (its last argument)");
  if (!AbsHistogramStateHandle::Is(args[2])) args.fail(kArg, "state must be an AbsHistogramState");
  const HistogramArgs h = histogram_args(call);
  std::shared_ptr<HeldState> held = held_state(args, h.bins);
  const lowbit::BufferRef turn = call.tensor<float>(5, "turn", napi_float32_array, 1);
  return call.finish("abs_histogram", [=](uint8_t* arena) {
    // A number that is not a turn (negative, NaN, past 2^24) reads as turn 0,
    // long ended: the step adds nothing rather than wait for a turn that never comes.
    const float t = turn.get<const float>(arena)[0];
    const uint64_t mine = t >= 0.0f && t < 16777216.0f ? static_cast<uint64_t>(t) : 0;
    {
      std::unique_lock<std::mutex> lock(held->mutex);
      wait_for_turn(*held, lock, mine);
      // A turn passed already (by a caller that gave up on this batch) adds nothing.
      if (held->next_turn.load() == mine) {
        lowbit::abs_histogram_add(*h.path, h.x.get<const float>(arena), h.count, h.nbins, held->words.data(),
                                  &lowbit::default_thread_pool(), h.nsample);
        end_turn(*held, mine);
      }
    }
    held->turn_done.notify_all();
  }, 2.0 * static_cast<double>(h.count));
}

}  // namespace

void register_stats(Napi::Env env, Napi::Object exports) {
  exports.Set("minMax", Napi::Function::New(env, MinMax, "minMax"));
  exports.Set("absHistogramAdd", Napi::Function::New(env, AbsHistogramAdd, "absHistogramAdd"));
  exports.Set("absHistogramAddInTurn", Napi::Function::New(env, AbsHistogramAddInTurn, "absHistogramAddInTurn"));
  exports.Set("AbsHistogramState", AbsHistogramStateHandle::Define(env));
}

}  // namespace lowbit_addon
