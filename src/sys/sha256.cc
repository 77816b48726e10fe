#include "sys/sha256.h"

#include <cstdint>
#include <algorithm>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#include <cpuid.h>
#endif

namespace guise::sys {

namespace {

constexpr uint32_t kRound[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

inline uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

void compress(uint32_t h[8], const unsigned char block[64]) {
  uint32_t w[64];
  for (int i = 0; i < 16; ++i)
    w[i] = uint32_t(block[4 * i]) << 24 | uint32_t(block[4 * i + 1]) << 16 | uint32_t(block[4 * i + 2]) << 8 |
           uint32_t(block[4 * i + 3]);
  for (int i = 16; i < 64; ++i) {
    uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
  for (int i = 0; i < 64; ++i) {
    uint32_t t1 = k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + kRound[i] + w[i];
    uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    k = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += k;
}

void compress_portable(uint32_t h[8], const unsigned char* p, size_t blocks) {
  for (; blocks; --blocks, p += 64) compress(h, p);
}

#if defined(__x86_64__)
// The SHA extensions (Intel since Goldmont/Ice Lake, AMD since Zen) do the rounds in
// hardware, about 8x the portable code: pulls hash every layer twice (the blob, and the
// uncompressed tar for its diff id), so this is most of a pull's CPU otherwise.
__attribute__((target("sha,sse4.1,ssse3"))) void compress_sha_ni(uint32_t h[8], const unsigned char* p,
                                                                   size_t blocks) {
  const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  __m128i tmp = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(&h[0])), 0xB1);  // CDAB
  __m128i state1 = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(&h[4])), 0x1B);  // EFGH
  __m128i state0 = _mm_alignr_epi8(tmp, state1, 8);     // ABEF
  state1 = _mm_blend_epi16(state1, tmp, 0xF0);          // CDGH
  for (; blocks; --blocks, p += 64) {
    __m128i abef = state0, cdgh = state1, w[4];
#pragma GCC unroll 16
    for (int g = 0; g < 16; ++g) {
      if (g < 4) {
        w[g] = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * g)), byte_swap);
      } else {
        __m128i s = _mm_sha256msg1_epu32(w[(g - 4) & 3], w[(g - 3) & 3]);
        s = _mm_add_epi32(s, _mm_alignr_epi8(w[(g - 1) & 3], w[(g - 2) & 3], 4));
        w[g & 3] = _mm_sha256msg2_epu32(s, w[(g - 1) & 3]);
      }
      __m128i msg = _mm_add_epi32(w[g & 3], _mm_loadu_si128(reinterpret_cast<const __m128i*>(&kRound[4 * g])));
      state1 = _mm_sha256rnds2_epu32(state1, state0, msg);
      state0 = _mm_sha256rnds2_epu32(state0, state1, _mm_shuffle_epi32(msg, 0x0E));
    }
    state0 = _mm_add_epi32(state0, abef);
    state1 = _mm_add_epi32(state1, cdgh);
  }
  tmp = _mm_shuffle_epi32(state0, 0x1B);                 // FEBA
  state1 = _mm_shuffle_epi32(state1, 0xB1);              // DCHG
  state0 = _mm_blend_epi16(tmp, state1, 0xF0);           // DCBA
  state1 = _mm_alignr_epi8(state1, tmp, 8);              // HGFE
  _mm_storeu_si128(reinterpret_cast<__m128i*>(&h[0]), state0);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(&h[4]), state1);
}

using CompressFn = void (*)(uint32_t*, const unsigned char*, size_t);

bool cpu_has_sha() {
#if defined(__clang__)
  // clang before 16 knows no "sha" feature name: CPUID leaf 7 says it (EBX bit 29).
  unsigned a, b, c, d;
  return __get_cpuid_count(7, 0, &a, &b, &c, &d) && ((b >> 29) & 1);
#else
  return __builtin_cpu_supports("sha");
#endif
}

CompressFn pick_compress() {
  __builtin_cpu_init();
  if (cpu_has_sha() && __builtin_cpu_supports("sse4.1") && __builtin_cpu_supports("ssse3"))
    return compress_sha_ni;
  return compress_portable;
}
#else
using CompressFn = void (*)(uint32_t*, const unsigned char*, size_t);
CompressFn pick_compress() { return compress_portable; }
#endif

void compress_blocks(uint32_t h[8], const unsigned char* p, size_t blocks) {
  static const CompressFn fn = pick_compress();
  fn(h, p, blocks);
}

}  // namespace

Sha256::Sha256() : h_{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19} {}

void Sha256::update(std::string_view data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size();
  total_ += n;
  if (fill_) {
    size_t take = std::min(n, sizeof block_ - fill_);
    std::memcpy(block_ + fill_, p, take);
    fill_ += take;
    p += take;
    n -= take;
    if (fill_ < sizeof block_) return;
    compress_blocks(h_, block_, 1);
    fill_ = 0;
  }
  compress_blocks(h_, p, n / 64);
  p += n / 64 * 64;
  n %= 64;
  std::memcpy(block_, p, n);
  fill_ = n;
}

std::string Sha256::hex() {
  unsigned char tail[128] = {};
  std::memcpy(tail, block_, fill_);
  tail[fill_] = 0x80;
  size_t tail_len = fill_ + 9 <= 64 ? 64 : 128;
  uint64_t bits = total_ * 8;
  for (int i = 0; i < 8; ++i) tail[tail_len - 1 - i] = static_cast<unsigned char>(bits >> (8 * i));
  compress_blocks(h_, tail, tail_len / 64);
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (uint32_t v : h_)
    for (int s = 28; s >= 0; s -= 4) out += digits[(v >> s) & 0xf];
  return out;
}

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.hex();
}

}  // namespace guise::sys
