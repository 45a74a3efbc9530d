// A planned graph run as a flat list of steps over one arena.
//
// The JavaScript planner (lib/runtime) decides shapes, buffer offsets and which
// kernel each node runs, once per input shape. Each op binding then records a
// step: a closure over its parameters and BufferRefs. Running the program is one
// native call that walks the steps, so a run costs no per-node JavaScript and can
// execute on a worker thread while the event loop goes on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "lowbit/aligned_buffer.h"

namespace lowbit {

// Where a tensor lives while a step runs: a fixed address (a constant owned by
// the program, or the caller's buffer when an op runs immediately) or an offset
// into the arena of the current run.
struct BufferRef {
  uint8_t* fixed = nullptr;
  size_t offset = 0;

  template <typename T>
  T* get(uint8_t* arena) const {
    return reinterpret_cast<T*>(fixed != nullptr ? fixed : arena + offset);
  }
  static BufferRef at(void* p) { return BufferRef{static_cast<uint8_t*>(p), 0}; }
  static BufferRef in_arena(size_t offset) { return BufferRef{nullptr, offset}; }
};

// One recorded kernel call. It must not throw: every argument was checked when
// the step was recorded.
using Step = std::function<void(uint8_t* arena)>;

class Program {
 public:
  // Storage for a constant (weights, folded tensors), zero-filled, 64-byte aligned,
  // alive as long as the program.
  uint8_t* add_constant(size_t bytes, size_t* id);
  uint8_t* constant(size_t id, size_t* bytes) const;
  size_t constant_count() const { return constants_.size(); }

  // The arena size is fixed before steps are recorded, so each step's offsets can
  // be checked against it.
  void set_arena_bytes(size_t bytes) { arena_bytes_ = bytes; }
  size_t arena_bytes() const { return arena_bytes_; }

  // cost: a rough operation count, used to decide whether a run is worth sending
  // to a worker thread.
  void add_step(std::string label, Step step, double cost);
  size_t step_count() const { return steps_.size(); }
  double cost() const { return cost_; }
  const std::string& step_label(size_t i) const { return labels_[i]; }

  // Keeps an object (packed weights, a prepared output stage) alive with the program.
  void hold(std::shared_ptr<const void> object) { held_.push_back(std::move(object)); }

  void run(uint8_t* arena) const;

  // Per-step wall time, accumulated over runs while profiling is on.
  void set_profiling(bool on);
  std::vector<double> step_seconds() const;

  // Arenas are reused across runs; concurrent runs each take their own.
  std::unique_ptr<AlignedBuffer> acquire_arena() const;
  void release_arena(std::unique_ptr<AlignedBuffer> arena) const;

 private:
  std::vector<AlignedBuffer> constants_;
  std::vector<Step> steps_;
  std::vector<std::string> labels_;
  std::vector<std::shared_ptr<const void>> held_;
  size_t arena_bytes_ = 0;
  double cost_ = 0;
  bool profiling_ = false;
  mutable std::mutex profile_mutex_;
  mutable std::vector<double> step_seconds_;
  mutable std::mutex arenas_mutex_;
  mutable std::vector<std::unique_ptr<AlignedBuffer>> free_arenas_;
};

}  // namespace lowbit
