// A minimal test harness for the native kernel tests (no N-API, no dependencies).
// TEST(name) registers a case; CHECK* record failures and keep going, so one run
// reports every mismatch. The closing line is "N passed, N failed, N skipped".
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "lowbit/cpu.h"

namespace lowbit_test {

struct Case {
  const char* name;
  std::function<void()> body;
};

std::vector<Case>& registry();
void record_failure(const char* file, int line, const std::string& what);
void skip(const std::string& why);  // marks the running case as skipped
int failures_in_current_case();

struct Registrar {
  Registrar(const char* name, std::function<void()> body) { registry().push_back({name, std::move(body)}); }
};

// The ISA paths to exercise: every compiled path the CPU supports, or only the
// one LOWBIT_ISA names (so CI can force each path in turn).
std::vector<lowbit::Isa> isas_under_test();

// Deterministic randomness: each case seeds from its name unless LOWBIT_TEST_SEED is set.
std::mt19937& rng();

}  // namespace lowbit_test

#define LOWBIT_CAT_(a, b) a##b
#define LOWBIT_CAT(a, b) LOWBIT_CAT_(a, b)
#define TEST(name)                                                                  \
  static void LOWBIT_CAT(test_, name)();                                            \
  static ::lowbit_test::Registrar LOWBIT_CAT(registrar_, name)(#name, LOWBIT_CAT(test_, name)); \
  static void LOWBIT_CAT(test_, name)()

#define CHECK(cond)                                                                 \
  do {                                                                              \
    if (!(cond)) ::lowbit_test::record_failure(__FILE__, __LINE__, "CHECK(" #cond ")"); \
  } while (0)

#define CHECK_EQ(a, b)                                                              \
  do {                                                                              \
    const auto va_ = (a);                                                           \
    const auto vb_ = (b);                                                           \
    if (!(va_ == vb_))                                                              \
      ::lowbit_test::record_failure(__FILE__, __LINE__,                             \
          std::string(#a " == " #b ": ") + std::to_string(va_) + " vs " + std::to_string(vb_)); \
  } while (0)

// Stops the current case after this many failures, to keep logs readable.
#define RETURN_IF_FAILED()                                                          \
  do {                                                                              \
    if (::lowbit_test::failures_in_current_case() > 0) return;                      \
  } while (0)
