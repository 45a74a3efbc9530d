// Reference quantized Add / Mul and global-average-pool sums: the scalar
// definitions of lowbit/qelementwise.h, one element at a time.
#include "lowbit/qelementwise.h"

namespace lowbit {
namespace ref {

void qbinary_row(const QBinaryParams& p, const void* a, const void* b, void* out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    qstore(out, i, qbinary_one(p, qload(a, i, p.a_signed), qload(b, i, p.b_signed)), p.out_signed);
  }
}

void qbinary_row_prepared(const QBinaryParams& p, const void* a, const float* b_terms, size_t st, void* out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    qstore(out, i, qbinary_one_prepared(p, qload(a, i, p.a_signed), b_terms[i * st]), p.out_signed);
  }
}

void qsum_pixels(const void* x, bool is_signed, size_t spatial, size_t c, size_t stride, int32_t* acc) {
  for (size_t j = 0; j < c; ++j) acc[j] = 0;
  for (size_t s = 0; s < spatial; ++s) {
    for (size_t j = 0; j < c; ++j) acc[j] += qload(x, s * stride + j, is_signed);
  }
}

int32_t qsum_row(const void* x, bool is_signed, size_t n) {
  int32_t sum = 0;
  for (size_t i = 0; i < n; ++i) sum += qload(x, i, is_signed);
  return sum;
}

extern const QElementwisePath kQElementwisePath = {Isa::kRef, qbinary_row, qbinary_row_prepared, qsum_pixels, qsum_row};

}  // namespace ref
}  // namespace lowbit
