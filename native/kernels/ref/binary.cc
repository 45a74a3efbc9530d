// The binary kernels' ground truth: plain scalar C++, one value at a time.
// Every SIMD path is tested bit for bit against these.
#include <cstring>

#include "lowbit/binary.h"

namespace lowbit {
namespace ref {
namespace {

constexpr size_t kMr = 4;
constexpr size_t kNr = 8;  // one output byte of bits per tile row
constexpr size_t kBwMr = 4;
constexpr size_t kBwNr = 8;

int popcount64(uint64_t x) { return __builtin_popcountll(x); }

void tile(const BinaryTile& t) {
  const uint64_t* panel = static_cast<const uint64_t*>(t.panel);
  const BinaryOutput& os = *t.os;
  for (size_t r = 0; r < t.m; ++r) {
    const uint64_t* const* segs = t.rows + r * t.segs;
    const int32_t* corr = t.corr != nullptr ? t.corr[r] : nullptr;
    uint8_t* row = t.out + r * t.out_stride;
    for (size_t col = 0; col < t.n; ++col) {
      int32_t pop = 0;
      for (size_t s = 0; s < t.segs; ++s) {
        for (size_t i = 0; i < t.seg_words; ++i) {
          const size_t j = s * t.seg_words + i;
          pop += popcount64(segs[s][i] ^ panel[j * kNr + col]);
        }
      }
      const size_t c = t.n0 + col;
      int32_t dot = t.k_bits - 2 * pop;
      if (corr != nullptr) dot -= corr[c];
      binary_store_one(os, static_cast<float>(dot), c, row);
    }
  }
}

void bitpack_f32(const float* x, size_t rows, size_t cols, uint64_t* out) {
  const size_t words = bit_words(cols);
  for (size_t r = 0; r < rows; ++r) {
    uint64_t* o = out + r * words;
    std::memset(o, 0, words * 8);
    for (size_t i = 0; i < cols; ++i) {
      if (x[r * cols + i] < 0.0f) o[i / 64] |= uint64_t{1} << (i % 64);
    }
  }
}

void bitpack_s8(const int8_t* x, size_t rows, size_t cols, uint64_t* out) {
  const size_t words = bit_words(cols);
  for (size_t r = 0; r < rows; ++r) {
    uint64_t* o = out + r * words;
    std::memset(o, 0, words * 8);
    for (size_t i = 0; i < cols; ++i) {
      if (x[r * cols + i] < 0) o[i / 64] |= uint64_t{1} << (i % 64);
    }
  }
}

void bw_tile(const BinaryWeightTile& t) {
  const BinaryWeightMatrix& w = *t.w;
  const uint8_t* bits = static_cast<const uint8_t*>(w.bits.data());
  const size_t row_bytes = w.n_words * 8;
  for (size_t r = 0; r < t.m; ++r) {
    const float* a = t.a + r * t.a_stride;
    uint8_t* out = t.out + r * t.out_stride;
    for (size_t col = 0; col < t.n; ++col) {
      const size_t c = t.n0 + col;
      float x = 0.0f;
      for (size_t k = 0; k < w.k; ++k) {
        const bool negative = (bits[k * row_bytes + c / 8] >> (c % 8)) & 1;
        x += negative ? -a[k] : a[k];
      }
      binary_store_one(*t.os, x, c, out);
    }
  }
}

void finish_s32(const int32_t* acc, size_t acc_stride, size_t m, size_t n0, size_t n,
                const BinaryOutput& os, uint8_t* out, size_t out_stride) {
  for (size_t r = 0; r < m; ++r) {
    for (size_t col = 0; col < n; ++col) {
      binary_store_one(os, static_cast<float>(acc[r * acc_stride + col]), n0 + col,
                       out + r * out_stride);
    }
  }
}

bool supported() { return true; }

}  // namespace

void bitunpack_f32(const uint64_t* bits, size_t rows, size_t cols, float* out) {
  const size_t words = bit_words(cols);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t i = 0; i < cols; ++i) {
      out[r * cols + i] = ((bits[r * words + i / 64] >> (i % 64)) & 1) ? -1.0f : 1.0f;
    }
  }
}

void bitunpack_s8(const uint64_t* bits, size_t rows, size_t cols, int8_t* out) {
  const size_t words = bit_words(cols);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t i = 0; i < cols; ++i) {
      out[r * cols + i] = ((bits[r * words + i / 64] >> (i % 64)) & 1) ? -1 : 1;
    }
  }
}

extern const BinaryPath kBinaryPath = {
    "ref", kMr, kNr, 8, kBwMr, kBwNr, supported, tile, bitpack_f32, bitpack_s8, bw_tile, finish_s32,
};

}  // namespace ref
}  // namespace lowbit
