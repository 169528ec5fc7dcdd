#include "ludus/rl/threads.hpp"

#include <torch/torch.h>

#include <algorithm>

// OpenBLAS's controls, when libtorch's BLAS is OpenBLAS (Debian's libtorch through
// libblas.so.3); weak, so a libtorch on MKL (or another BLAS) links and runs without them.
extern "C" {
void openblas_set_num_threads(int n) __attribute__((weak));
int openblas_get_num_threads() __attribute__((weak));
}

namespace ludus::rl {

void set_compute_threads(int n) {
  n = std::max(1, n);
  torch::set_num_threads(n);
  if (openblas_set_num_threads != nullptr) openblas_set_num_threads(n);
}

int openblas_threads() { return openblas_get_num_threads != nullptr ? openblas_get_num_threads() : 0; }

}  // namespace ludus::rl
