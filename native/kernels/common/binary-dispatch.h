// Turns a binary tile's run-time row count and output kind into template
// arguments, so each ISA's tile kernel is instantiated once per (rows, kind)
// and writes only its body. Every x86 and ARM binary kernel file dispatches
// through here.
//
//   dispatch_rows_and_kind<4>(t.m, t.os->kind, [&](auto rows, auto kind) {
//     tile_impl<decltype(rows)::value, decltype(kind)::value>(t);
//   });
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

#include "lowbit/binary.h"

namespace lowbit {

template <BinaryOutputKind kKind>
using BinaryKindConstant = std::integral_constant<BinaryOutputKind, kKind>;

// body(kind) with the output kind as a std::integral_constant.
template <typename Body>
void dispatch_output_kind(BinaryOutputKind kind, Body&& body) {
  switch (kind) {
    case BinaryOutputKind::kFloat32: body(BinaryKindConstant<BinaryOutputKind::kFloat32>{}); break;
    case BinaryOutputKind::kInt8: body(BinaryKindConstant<BinaryOutputKind::kInt8>{}); break;
    case BinaryOutputKind::kBits: body(BinaryKindConstant<BinaryOutputKind::kBits>{}); break;
  }
}

namespace binary_dispatch_detail {
// Rows kRows..kMaxRows; a count above kMaxRows (never asked for) takes kMaxRows.
template <size_t kRows, size_t kMaxRows, typename Body>
void rows_from(size_t m, Body& body) {
  if constexpr (kRows < kMaxRows) {
    if (m > kRows) {
      rows_from<kRows + 1, kMaxRows>(m, body);
      return;
    }
  }
  body(std::integral_constant<size_t, kRows>{});
}
}  // namespace binary_dispatch_detail

// body(rows, kind): rows in 1..kMaxRows (m of 0 or 1 gives 1), both as
// std::integral_constant.
template <size_t kMaxRows, typename Body>
void dispatch_rows_and_kind(size_t m, BinaryOutputKind kind, Body&& body) {
  dispatch_output_kind(kind, [&](auto k) {
    auto with_rows = [&](auto rows) { body(rows, k); };
    binary_dispatch_detail::rows_from<1, kMaxRows>(m, with_rows);
  });
}

}  // namespace lowbit
