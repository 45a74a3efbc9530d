// Activation statistics for calibration: the min/max of a float32 buffer and a
// histogram of |x|, with exactly the arithmetic of lib/quant/observers.ts, so
// native-backed observers choose the same ranges the JavaScript ones did.
//
// - NaN is ignored everywhere (never a min, a max or a count).
// - The histogram of |x| has `bins` bins of width w over [0, bins * w): the bin
//   of v is floor(double(|v|) * (1 / w)), in double precision, clamped to the
//   last bin. Exact zeros (either sign) are not counted: they are representable
//   under any range and would only sway the threshold search.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "lowbit/cpu.h"

namespace lowbit {

class ThreadPool;

// The one bin formula; every path computes exactly this (double multiply,
// floor, clamp) for each value that is neither zero nor NaN.
inline uint32_t abs_bin_index(float v, double inv_width, uint32_t last_bin) {
  const double b = std::floor(std::fabs(static_cast<double>(v)) * inv_width);
  return b > static_cast<double>(last_bin) ? last_bin : static_cast<uint32_t>(b);
}

// A value the histogram counts: not zero and not NaN.
inline bool abs_histogram_counts(float v) { return v != 0.0f && v == v; }

// The most elements one kernel call bins: its uint32 counts cannot overflow.
constexpr size_t kStatsMaxKernelElements = size_t{1} << 31;
constexpr size_t kHistogramCopies = 4;

struct StatsPath {
  Isa isa;
  // [*lo, *hi] = the least and greatest non-NaN value of x[0..n) (+inf / -inf when
  // there is none). When the least or greatest is a zero, its sign is unspecified
  // here; min_max() below settles it.
  void (*min_max)(const float* x, size_t n, float* lo, float* hi);
  // Counts every counted x[i] in bin abs_bin_index(x[i]); n <= kStatsMaxKernelElements.
  // counts holds kHistogramCopies copies of bins + 1 uint32 (copy c at c * (bins + 1)):
  // a kernel may spread increments over the copies (consecutive increments of one
  // bin then do not wait on each other) and may drop skipped values into each
  // copy's extra last slot; the caller sums copies and ignores the extra slot.
  void (*abs_histogram)(const float* x, size_t n, double inv_width, uint32_t bins, uint32_t* counts);
  // abs_histogram and min_max in one pass over x.
  void (*abs_histogram_min_max)(const float* x, size_t n, double inv_width, uint32_t bins, uint32_t* counts,
                                float* lo, float* hi);
  // min_max, and in the same pass copies every x[i] with |x[i]| >= cutoff (NaN
  // never) to out, in order; returns how many. out holds n floats; a path may
  // write any of them past the count (whole-vector stores). cutoff > 0.
  size_t (*min_max_abs_at_least)(const float* x, size_t n, float cutoff, float* out, float* lo, float* hi);
};

namespace ref {
void min_max(const float* x, size_t n, float* lo, float* hi);
void abs_histogram(const float* x, size_t n, double inv_width, uint32_t bins, uint32_t* counts);
void abs_histogram_min_max(const float* x, size_t n, double inv_width, uint32_t bins, uint32_t* counts, float* lo,
                           float* hi);
size_t abs_at_least(const float* x, size_t n, float cutoff, float* out);
size_t min_max_abs_at_least(const float* x, size_t n, float cutoff, float* out, float* lo, float* hi);
extern const StatsPath kStatsPath;
}  // namespace ref

// The path for an ISA (a path without its own uses the closest one, then ref).
const StatsPath& stats_path(Isa isa);

// Min and max as a left-to-right scan with `v < lo` / `v > hi` finds them (the
// JavaScript loop this replaces): NaN ignored, and a zero extreme keeps the
// sign of the first zero in x. Split over `pool` (may be null) for large n; the
// result does not depend on the thread count.
void min_max(const StatsPath& path, const float* x, size_t n, float* lo, float* hi, ThreadPool* pool);

// Adds the histogram of |x| to counts[0..bins) (doubles: exact up to 2^53 per bin).
void abs_histogram_accumulate(const StatsPath& path, const float* x, size_t n, double width, uint32_t bins,
                              double* counts, ThreadPool* pool);

// Sampled binning, for large activations where binning every value costs more
// than the inference that made them (stats_paths.cc). The thresholds the
// observers choose sit in the tail of |x|, so the tail stays exact and only the
// bulk is sampled:
// - the tail bin T is the least bin such that bins T.. hold at most
//   kSampleTailShare (~0.1%, ten times the 99.99th percentile's share) of the
//   counts so far (after this batch's widening, if any); values whose bin is T
//   or above are all counted, as without sampling;
// - the bulk: x is cut into groups of `sample` consecutive blocks of
//   kSampleBlock values, and one block per group, picked by a fixed hash of the
//   group's index (so no channel or column stride of the layout lines up with
//   it), is binned; its values below bin T count `sample` times (a final
//   partial group bins its picked block's part inside x).
// Buffers shorter than kSampleFromElements, sample <= 1, and batches with no
// counts before them (T = 0) bin every value. When the last bin alone holds more
// than the share, T = bins: no tail. Extremes (and so the width) always come
// from every value. The counted values depend only on x, the counts so far and
// sample, never on the path or the thread count.
constexpr size_t kSampleBlock = 16;
constexpr size_t kSampleFromElements = size_t{1} << 15;
constexpr double kSampleTailShare = 1.0 / 1024;
// The block binned in group g of a buffer sampled one block in `sample`.
size_t sampled_block(size_t group, uint32_t sample);

// One calibration batch into a growing histogram of |x| (observers.ts AbsHistogram.add):
// state = [lo, hi, width, counts[0..bins)]. A batch with an infinite value is
// skipped; otherwise lo/hi take the batch's extremes, the first nonzero batch
// sets width = max|x| / bins, a larger max|x| widens the bins by the whole factor
// ceil(max|x| / (width * bins)) (merging old bins i -> i / factor), then the
// batch is binned (in the same pass as the extremes when the width is already
// set and the batch fits it). With sample > 1 large batches are counted as
// described above kSampleBlock. Returns false (state unchanged) when the batch
// was skipped, or when state[2] is not a usable width (negative, NaN, infinite).
bool abs_histogram_add(const StatsPath& path, const float* x, size_t n, uint32_t bins, double* state,
                       ThreadPool* pool, uint32_t sample = 1);

constexpr size_t kAbsHistogramHeader = 3;  // lo, hi, width before the counts

}  // namespace lowbit
