// The AMX tile operations the kernels use, in one place, for two reasons:
//
// 1. GCC 12's tile intrinsics are inline asms that do not tell the compiler they
//    read or write memory (ldtilecfg's "m" operand covers only 8 bytes). Without a
//    compiler barrier around them, stores to a staging buffer may be sunk past the
//    tile load that reads it, or the tile configuration dropped entirely (SIGILL).
//    Every macro below carries the barrier, so kernels cannot forget it.
// 2. With LOWBIT_AMX_EMULATE defined they run on a software model of the tiles
//    that follows the hardware's rules (config checks, rows x colsb bytes read and
//    written, nothing more), so the kernels' tiling, tails and output stage can be
//    tested bit for bit on a CPU without AMX (native/tests/test_amx_emulated.cc).
//
// Tile numbers must be literals: GCC pastes them into the instruction text.
#pragma once

// GCC 12 reports its own _mm512_undefined_* placeholders as uninitialized where
// the intrinsics are inlined (fixed in GCC 13); the state at the header counts.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace lowbit {
namespace amx_tiles {

// The 64-byte operand of ldtilecfg (palette 1).
struct alignas(64) TileConfig {
  uint8_t palette_id;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];  // bytes per row, per tile
  uint8_t rows[16];
};
static_assert(sizeof(TileConfig) == 64, "ldtilecfg reads exactly 64 bytes");

}  // namespace amx_tiles
}  // namespace lowbit

#define LOWBIT_TILE_BARRIER() asm volatile("" ::: "memory")

#if !defined(LOWBIT_AMX_EMULATE)

#define LOWBIT_TILE_LOADCONFIG(cfg) \
  do { LOWBIT_TILE_BARRIER(); _tile_loadconfig(cfg); LOWBIT_TILE_BARRIER(); } while (0)
#define LOWBIT_TILE_RELEASE() \
  do { LOWBIT_TILE_BARRIER(); _tile_release(); } while (0)
#define LOWBIT_TILE_ZERO(t) _tile_zero(t)
#define LOWBIT_TILE_LOAD(t, base, stride) \
  do { LOWBIT_TILE_BARRIER(); _tile_loadd(t, base, stride); } while (0)
#define LOWBIT_TILE_STORE(t, base, stride) \
  do { LOWBIT_TILE_BARRIER(); _tile_stored(t, base, stride); LOWBIT_TILE_BARRIER(); } while (0)
#define LOWBIT_TILE_DPBUSD(c, a, b) _tile_dpbusd(c, a, b)
#define LOWBIT_TILE_DPBSSD(c, a, b) _tile_dpbssd(c, a, b)

#else  // LOWBIT_AMX_EMULATE: a software model, for tests only.

namespace lowbit {
namespace amx_tiles {
namespace emulated {

struct State {
  TileConfig cfg;
  bool configured = false;
  alignas(64) uint8_t tile[8][16][64];
};

inline State& state() {
  static thread_local State s;
  return s;
}

// Where the hardware would raise #GP / #UD, the model aborts: a test then fails loudly.
inline void require(bool ok) {
  if (!ok) std::abort();
}

inline void load_config(const void* p) {
  State& s = state();
  std::memcpy(&s.cfg, p, sizeof(TileConfig));
  require(s.cfg.palette_id == 1 && s.cfg.start_row == 0);
  for (int t = 0; t < 8; ++t) {
    require(s.cfg.rows[t] <= 16 && s.cfg.colsb[t] <= 64);
    require((s.cfg.rows[t] == 0) == (s.cfg.colsb[t] == 0));
  }
  std::memset(s.tile, 0, sizeof s.tile);  // ldtilecfg zeroes every tile
  s.configured = true;
}

inline void release() { state().configured = false; }

inline void check_tile(int t) {
  State& s = state();
  require(s.configured && s.cfg.rows[t] != 0);
}

inline void zero(int t) {
  check_tile(t);
  std::memset(state().tile[t], 0, sizeof state().tile[t]);
}

// Reads rows x colsb bytes and nothing else, as tileloadd does.
inline void load(int t, const void* base, long stride) {
  check_tile(t);
  State& s = state();
  std::memset(s.tile[t], 0, sizeof s.tile[t]);
  for (int r = 0; r < s.cfg.rows[t]; ++r) {
    std::memcpy(s.tile[t][r], static_cast<const uint8_t*>(base) + r * stride, s.cfg.colsb[t]);
  }
}

inline void store(int t, void* base, long stride) {
  check_tile(t);
  State& s = state();
  for (int r = 0; r < s.cfg.rows[t]; ++r) {
    std::memcpy(static_cast<uint8_t*>(base) + r * stride, s.tile[t][r], s.cfg.colsb[t]);
  }
}

// tdpb{u,s}sd: C[m][n] += sum over K/4 quads of A[m][4k+i] * B[k][4n+i].
template <bool kASigned>
void dot(int c, int a, int b) {
  check_tile(c);
  check_tile(a);
  check_tile(b);
  State& s = state();
  const TileConfig& cfg = s.cfg;
  require(cfg.colsb[c] % 4 == 0 && cfg.colsb[a] % 4 == 0);
  require(cfg.rows[c] == cfg.rows[a] && cfg.colsb[b] == cfg.colsb[c]);
  require(cfg.colsb[a] / 4 == cfg.rows[b]);
  for (int m = 0; m < cfg.rows[c]; ++m) {
    for (int n = 0; n < cfg.colsb[c] / 4; ++n) {
      uint32_t acc;
      std::memcpy(&acc, &s.tile[c][m][4 * n], 4);
      for (int k = 0; k < cfg.colsb[a] / 4; ++k) {
        for (int i = 0; i < 4; ++i) {
          const uint8_t araw = s.tile[a][m][4 * k + i];
          const int32_t av = kASigned ? static_cast<int8_t>(araw) : araw;
          const int32_t bv = static_cast<int8_t>(s.tile[b][k][4 * n + i]);
          acc += static_cast<uint32_t>(av * bv);
        }
      }
      std::memcpy(&s.tile[c][m][4 * n], &acc, 4);
    }
  }
}

}  // namespace emulated
}  // namespace amx_tiles
}  // namespace lowbit

#define LOWBIT_TILE_LOADCONFIG(cfg) ::lowbit::amx_tiles::emulated::load_config(cfg)
#define LOWBIT_TILE_RELEASE() ::lowbit::amx_tiles::emulated::release()
#define LOWBIT_TILE_ZERO(t) ::lowbit::amx_tiles::emulated::zero(t)
#define LOWBIT_TILE_LOAD(t, base, stride) ::lowbit::amx_tiles::emulated::load(t, base, stride)
#define LOWBIT_TILE_STORE(t, base, stride) ::lowbit::amx_tiles::emulated::store(t, base, stride)
#define LOWBIT_TILE_DPBUSD(c, a, b) ::lowbit::amx_tiles::emulated::dot<false>(c, a, b)
#define LOWBIT_TILE_DPBSSD(c, a, b) ::lowbit::amx_tiles::emulated::dot<true>(c, a, b)

#endif  // LOWBIT_AMX_EMULATE

// The namespace the AMX path's symbols live in; the emulated test build renames it
// so that its copy links beside the real one.
#ifndef LOWBIT_AMX_NAMESPACE
#define LOWBIT_AMX_NAMESPACE amx
#endif
