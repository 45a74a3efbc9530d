#include "lowbit/program.h"

#include <chrono>

namespace lowbit {

uint8_t* Program::add_constant(size_t bytes, size_t* id) {
  constants_.emplace_back(bytes);
  *id = constants_.size() - 1;
  return static_cast<uint8_t*>(constants_.back().data());
}

uint8_t* Program::constant(size_t id, size_t* bytes) const {
  if (id >= constants_.size()) return nullptr;
  *bytes = constants_[id].size();
  return static_cast<uint8_t*>(const_cast<void*>(constants_[id].data()));
}

void Program::add_step(std::string label, Step step, double cost) {
  labels_.push_back(std::move(label));
  steps_.push_back(std::move(step));
  cost_ += cost;
}

void Program::run(uint8_t* arena) const {
  if (!profiling_) {
    for (const Step& step : steps_) step(arena);
    return;
  }
  std::vector<double> seconds(steps_.size());
  for (size_t i = 0; i < steps_.size(); ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    steps_[i](arena);
    seconds[i] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  std::lock_guard<std::mutex> lock(profile_mutex_);
  step_seconds_.resize(steps_.size());
  for (size_t i = 0; i < seconds.size(); ++i) step_seconds_[i] += seconds[i];
}

void Program::set_profiling(bool on) {
  std::lock_guard<std::mutex> lock(profile_mutex_);
  profiling_ = on;
  step_seconds_.assign(steps_.size(), 0.0);
}

std::vector<double> Program::step_seconds() const {
  std::lock_guard<std::mutex> lock(profile_mutex_);
  return step_seconds_;
}

std::unique_ptr<AlignedBuffer> Program::acquire_arena() const {
  {
    std::lock_guard<std::mutex> lock(arenas_mutex_);
    if (!free_arenas_.empty()) {
      std::unique_ptr<AlignedBuffer> arena = std::move(free_arenas_.back());
      free_arenas_.pop_back();
      if (arena->size() == arena_bytes_ + 64) return arena;
    }
  }
  // One extra vector's worth so kernels may over-read the last row.
  return std::make_unique<AlignedBuffer>(arena_bytes_ + 64);
}

void Program::release_arena(std::unique_ptr<AlignedBuffer> arena) const {
  std::lock_guard<std::mutex> lock(arenas_mutex_);
  if (free_arenas_.size() < 4) free_arenas_.push_back(std::move(arena));
}

}  // namespace lowbit
