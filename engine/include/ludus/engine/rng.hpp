// Seedable, serializable random number generator (xoshiro256**) for per-env randomness.
#pragma once

#include <array>
#include <cstdint>
#include <utility>

namespace ludus {

// Small-state PRNG so that an env's snapshot carries its randomness exactly.
// Never shared between envs: each env owns one, seeded from its reset seed.
class Rng {
 public:
  Rng() { seed(0); }
  explicit Rng(uint64_t s) { seed(s); }

  void seed(uint64_t s) {
    // splitmix64 expands one seed into the four state words.
    for (auto& word : state_) {
      s += 0x9E3779B97F4A7C15ull;
      uint64_t z = s;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      word = z ^ (z >> 31);
    }
  }

  uint64_t next_u64() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [0, n), n > 0 (Lemire's multiply-shift, slight bias below 2^-32).
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(((next_u64() >> 32) * static_cast<uint64_t>(n)) >> 32); }

  // Shuffles a short array (n <= 12) uniformly from a single 64-bit draw. Each
  // Fisher-Yates index is the high word of the draw times the range and the low word goes
  // on to the next index (multiply-shift with the bits reused), so the bias of any one
  // permutation stays below n! / 2^64.
  template <class T>
  void shuffle_short(T* a, int n) {
    __extension__ using u128 = unsigned __int128;  // GCC and Clang; __extension__ keeps -Wpedantic quiet
    uint64_t r = next_u64();
    for (int i = n - 1; i > 0; --i) {
      const u128 p = static_cast<u128>(r) * static_cast<uint64_t>(i + 1);
      std::swap(a[i], a[static_cast<uint64_t>(p >> 64)]);
      r = static_cast<uint64_t>(p);
    }
  }

  const std::array<uint64_t, 4>& state() const { return state_; }
  void set_state(const std::array<uint64_t, 4>& s) { state_ = s; }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<uint64_t, 4> state_{};
};

}  // namespace ludus
