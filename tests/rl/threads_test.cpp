// set_compute_threads: torch's intra-op threads and, under Debian's libtorch, OpenBLAS's
// pool follow the count asked for (OpenBLAS's idle threads otherwise spin on every core).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>

#include "ludus/rl/threads.hpp"

namespace ludus::rl {
namespace {

TEST(ComputeThreads, SetsTorchsAndOpenBlassThreadCounts) {
  const int torch_before = torch::get_num_threads();
  const int blas_before = openblas_threads();
  set_compute_threads(1);
  EXPECT_EQ(torch::get_num_threads(), 1);
  if (blas_before > 0) {
    EXPECT_EQ(openblas_threads(), 1);
  }
  set_compute_threads(2);
  EXPECT_EQ(torch::get_num_threads(), 2);
  if (blas_before > 0) {
    EXPECT_EQ(openblas_threads(), std::min(2, blas_before));  // OpenBLAS stops at the core count
  }
  set_compute_threads(0);  // clamped to 1
  EXPECT_EQ(torch::get_num_threads(), 1);
#if defined(__linux__)
  // Debian's libtorch multiplies in OpenBLAS (through libblas.so.3): when OpenBLAS is
  // loaded, its control must be found, or the spinning pool comes back unnoticed.
  std::ifstream maps("/proc/self/maps");
  const std::string text((std::istreambuf_iterator<char>(maps)), std::istreambuf_iterator<char>());
  if (text.find("openblas") != std::string::npos) {
    EXPECT_GT(blas_before, 0) << "OpenBLAS is loaded but openblas_set_num_threads was not found";
  }
#endif
  set_compute_threads(torch_before);
  EXPECT_EQ(torch::get_num_threads(), torch_before);
}

}  // namespace
}  // namespace ludus::rl
