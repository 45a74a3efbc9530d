// Binary (1-bit) networks: sign packing, XNOR-popcount GEMM and convolution with
// a fused per-channel output transform, and binary-weight (BinaryConnect) GEMM.
// docs/binary.md explains the arithmetic; this header is the kernels' plain C++ API.
//
// Conventions (DESIGN.md, "Binary (1-bit) conventions"):
// - one bit per value: 0 means +1, 1 means -1; sign(x) = -1 exactly when x < 0
//   (so +0, -0 and NaN binarize to +1);
// - bits are packed along the reduction axis into 64-bit little-endian words,
//   each row starting on a word, zero-filled at the tail;
// - dot(a, w) over K bits = K - 2 * popcount(a XOR w) (zero tails XOR to zero);
// - output transform per output channel c: v = float32(float32(alpha_c * x) + beta_c),
//   where x = float32(dot) (exact: |dot| < 2^24), then
//     float32: v
//     int8:    saturate(round_half_even(v / y_scale) + y_zero_point)  (ONNX QuantizeLinear)
//     bits:    bit = 1 (-1) exactly when v < threshold_c, else 0 (+1)
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "lowbit/aligned_buffer.h"
#include "lowbit/cpu.h"
#include "lowbit/gemm.h"

namespace lowbit {

class ThreadPool;
struct BinaryPath;

// 64-bit words holding `bits` packed values.
inline size_t bit_words(size_t bits) { return (bits + 63) / 64; }

// Largest reduction length (bits): dot and every sum stay exact in float32.
constexpr size_t kBinaryMaxK = size_t{1} << 24;

// ---------------------------------------------------------------- output stage

enum class BinaryOutputKind : int { kFloat32 = 0, kInt8 = 1, kBits = 2 };

// The per-layer output transform, prepared once (XNNPACK's "microparams"). The
// per-channel arrays are expanded to `n` values and zero-padded to a multiple
// of 64, so vector kernels load whole registers past the last channel.
struct BinaryOutput {
  BinaryOutputKind kind = BinaryOutputKind::kFloat32;
  size_t n = 0;
  AlignedBuffer alpha;      // float[padded n]
  AlignedBuffer beta;       // float[padded n]
  AlignedBuffer threshold;  // float[padded n] (bits)
  float y_scale = 1.0f;     // int8
  int32_t y_zero_point = 0; // int8

  const float* alpha_data() const { return static_cast<const float*>(alpha.data()); }
  const float* beta_data() const { return static_cast<const float*>(beta.data()); }
  const float* threshold_data() const { return static_cast<const float*>(threshold.data()); }
};

// alpha/beta/threshold hold 1 (per tensor) or n values; threshold may be null
// (all zero). The caller has checked the values (finite alpha/beta, non-NaN
// threshold, positive finite y_scale, y_zero_point in int8 range).
void prepare_binary_output(BinaryOutputKind kind, size_t n, const float* alpha, size_t alpha_count,
                           const float* beta, size_t beta_count, const float* threshold,
                           size_t threshold_count, float y_scale, int32_t y_zero_point,
                           BinaryOutput* out);

// Bytes one output row of n channels takes for this kind.
size_t binary_output_row_bytes(BinaryOutputKind kind, size_t n);

// The transform of one value x of channel c: the definition every path matches.
inline float binary_value(const BinaryOutput& os, float x, size_t c) {
  const float ax = os.alpha_data()[c] * x;  // -ffp-contract=off: two roundings, as specified
  return ax + os.beta_data()[c];
}

inline int8_t binary_quantize(const BinaryOutput& os, float v) {
  float q = v / os.y_scale;  // a divide, as ONNX QuantizeLinear specifies
  const float lo = static_cast<float>(-128 - os.y_zero_point);
  const float hi = static_cast<float>(127 - os.y_zero_point);
  q = q < lo ? lo : (q > hi ? hi : q);
  return static_cast<int8_t>(static_cast<int32_t>(std::nearbyint(q)) + os.y_zero_point);
}

// Writes the transformed value of x for channel c into an output row.
inline void binary_store_one(const BinaryOutput& os, float x, size_t c, uint8_t* row) {
  const float v = binary_value(os, x, c);
  switch (os.kind) {
    case BinaryOutputKind::kFloat32: reinterpret_cast<float*>(row)[c] = v; break;
    case BinaryOutputKind::kInt8: reinterpret_cast<int8_t*>(row)[c] = binary_quantize(os, v); break;
    case BinaryOutputKind::kBits: {
      const uint8_t bit = v < os.threshold_data()[c] ? 1 : 0;
      row[c / 8] = static_cast<uint8_t>((row[c / 8] & ~(1u << (c % 8))) | (bit << (c % 8)));
      break;
    }
  }
}

// ---------------------------------------------------------------- packed weights

// Binary weights for an XNOR-popcount GEMM or convolution, packed once for one
// path. A row of the unpacked form is one output channel: `taps` groups of
// `tap_words` words (a convolution's kh*kw taps, each holding the input
// channels' bits; a GEMM has one tap). Real K = taps * tap_bits.
struct BinaryWeights {
  const BinaryPath* path = nullptr;
  size_t n = 0;          // output channels
  size_t taps = 1;
  size_t tap_bits = 0;   // input channels per tap
  size_t tap_words = 0;  // bit_words(tap_bits)
  size_t k_words = 0;    // taps * tap_words
  size_t k_bits = 0;     // taps * tap_bits
  AlignedBuffer data;    // panels of the path's nr columns (see BinaryPath)
  // sum over a tap's input channels of sign(w): tap_bits - 2 * popcount, [taps][n];
  // the zero-padding correction of a padded tap.
  std::vector<int32_t> tap_sum;
};

// Binary weights of a BinaryConnect layer: W[n][k] signs, applied to int8,
// uint8 or float32 activations. Stored transposed, bits along n
// ([k][bit_words(n)] words), for the float kernels; int8 activations go through
// the int8 GEMM path with the signs expanded to +-1 int8, packed on first use.
struct BinaryWeightMatrix {
  const BinaryPath* path = nullptr;
  size_t n = 0, k = 0;
  size_t n_words = 0;   // bit_words(n)
  AlignedBuffer bits;   // [k][n_words] words
  // int8 form, for the GEMM path it was packed for (created by binary_weight_gemm).
  mutable std::mutex int8_mutex;
  mutable PackedMatrix int8;
  mutable bool int8_ready = false;
};

// ---------------------------------------------------------------- kernel paths

// One tile of the XNOR-popcount GEMM: rows [0, m) (m <= mr) by the panel's
// columns [0, n) (n <= nr), whole K, then the output stage. A row of A is
// `segs` segments of `seg_words` words each, anywhere in memory (an indirect
// GEMM: a convolution points them into its input, one segment per kernel row),
// so that k_words = segs * seg_words. Bits output is written whole bytes at a
// time (zeros past n), so tiles of different panels never share a byte.
struct BinaryTile {
  const uint64_t* const* rows = nullptr;  // m * segs pointers: row r, segment s at rows[r * segs + s]
  size_t segs = 1;
  size_t seg_words = 0;
  size_t m = 0;
  const void* panel = nullptr;            // the packed panel of channels [n0, n0 + nr)
  size_t k_words = 0;
  int32_t k_bits = 0;
  size_t n0 = 0;                          // first channel (a multiple of nr)
  size_t n = 0;                           // valid channels in this panel
  // Zero-padding corrections: null, or m pointers, each null (no correction)
  // or indexed by absolute channel: dot = k_bits - 2 * popcount - corr[c].
  const int32_t* const* corr = nullptr;
  const BinaryOutput* os = nullptr;
  uint8_t* out = nullptr;                 // row 0 of the output (channel 0)
  size_t out_stride = 0;                  // bytes between output rows
};

// BinaryConnect with float activations: for rows [0, m) and channels
// [n0, n0 + n), x = the float32 sum over k, in order k = 0, 1, ..., of
// (w bit ? -a[k] : a[k]) starting from +0; then the output stage.
struct BinaryWeightTile {
  const float* a = nullptr;
  size_t a_stride = 0;  // floats between rows
  size_t m = 0;
  const BinaryWeightMatrix* w = nullptr;
  size_t n0 = 0, n = 0;  // n0 a multiple of the path's bw_nr
  const BinaryOutput* os = nullptr;
  uint8_t* out = nullptr;
  size_t out_stride = 0;
};

// A binary kernel path. Several ISAs share one (avxvnni uses avx2's; amx the
// AVX-512 one). The packed panel layout: units of `unit_bytes` (4 or 8) bytes,
// k_units = k_words * 8 / unit_bytes per column,
//   data[(panel * k_units + j) * nr + col] = unit j of weight row panel * nr + col,
// zero for columns past n.
struct BinaryPath {
  const char* name;
  size_t mr, nr, unit_bytes;
  size_t bw_mr, bw_nr;  // BinaryConnect float tile
  bool (*supported)();
  void (*tile)(const BinaryTile& t);
  // Signs of rows x cols values into rows of bit_words(cols) words.
  void (*bitpack_f32)(const float* x, size_t rows, size_t cols, uint64_t* out);
  void (*bitpack_s8)(const int8_t* x, size_t rows, size_t cols, uint64_t* out);
  void (*bw_tile)(const BinaryWeightTile& t);
  // The output stage over int32 accumulators (x = float32(acc)): rows [0, m),
  // channels [n0, n0 + n) (n0 a multiple of 64); acc row r at acc + r * acc_stride.
  void (*finish_s32)(const int32_t* acc, size_t acc_stride, size_t m, size_t n0, size_t n,
                     const BinaryOutput& os, uint8_t* out, size_t out_stride);
};

// Every binary path this binary has (ref first), supported by the CPU or not.
const std::vector<const BinaryPath*>& binary_paths();
// The binary path that serves a kernel path (ISA): the fastest compiled one
// whose instructions the CPU has, within that ISA's family.
const BinaryPath& binary_path_for(Isa isa);
const BinaryPath& binary_ref_path();

// ---------------------------------------------------------------- operations

// Packs rows of bits: n rows (output channels) of taps * bit_words(tap_bits)
// words, row_stride words apart. Computes tap_sum.
void pack_binary_weights(const BinaryPath& path, const uint64_t* w, size_t n, size_t taps,
                         size_t tap_bits, size_t row_stride, BinaryWeights* out);

// BinaryConnect weights from W[n][k] as rows of bit_words(k) words.
void pack_binary_weight_matrix(const BinaryPath& path, const uint64_t* w, size_t n, size_t k,
                               BinaryWeightMatrix* out);

// Y[m][.] = output stage of dot(A[m], W[c]); A rows of w.k_words words,
// a_stride words apart. pool may be null (single thread).
void binary_gemm(const BinaryWeights& w, const BinaryOutput& os, size_t m, const uint64_t* a,
                 size_t a_stride, void* y, ThreadPool* pool);

struct BinaryConvShape {
  size_t batch = 1, in_h = 1, in_w = 1;  // input channels: the weights' tap_bits
  size_t kh = 1, kw = 1;
  size_t stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  size_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  bool zero_padding = true;  // false: pad with +1 ("one" padding)
  size_t out_h() const;      // 0 when the kernel does not fit
  size_t out_w() const;
};

// Maximum kernel extent (kh, kw) the convolution accepts.
constexpr size_t kBinaryMaxKernel = 64;

// NHWC convolution, groups = 1. x: batch*in_h*in_w pixels of tap_words words
// (the weights' channel count); y: batch*out_h*out_w rows of the output kind.
// Padded taps read +1; with zero padding the result is corrected to equal the
// float convolution with zeros at the border.
void binary_conv2d(const BinaryWeights& w, const BinaryOutput& os, const BinaryConvShape& s,
                   const uint64_t* x, void* y, ThreadPool* pool);

// BinaryConnect: x[m][c] = sum_k (a[m][k] - a_zero_point) * sign(W[c][k]), then
// the output stage. a is float32 (a_zero_point ignored; float sum in k order),
// int8 or uint8 (exact int32 through the int8 GEMM `gemm` path).
enum class BinaryActivation : int { kFloat32 = 0, kInt8 = 1, kUint8 = 2 };
void binary_weight_gemm(const BinaryWeightMatrix& w, const BinaryOutput& os, const GemmPath& gemm,
                        size_t m, const void* a, BinaryActivation a_type, int32_t a_zero_point,
                        void* y, ThreadPool* pool);

// Packs the signs of rows x cols values into rows of bit_words(cols) words.
void bitpack_f32(const BinaryPath& path, const float* x, size_t rows, size_t cols, uint64_t* out,
                 ThreadPool* pool);
void bitpack_s8(const BinaryPath& path, const int8_t* x, size_t rows, size_t cols, uint64_t* out,
                ThreadPool* pool);

namespace ref {
// +1 / -1 values of rows x cols packed bits.
void bitunpack_f32(const uint64_t* bits, size_t rows, size_t cols, float* out);
void bitunpack_s8(const uint64_t* bits, size_t rows, size_t cols, int8_t* out);
}  // namespace ref

}  // namespace lowbit
