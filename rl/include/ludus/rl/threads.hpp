// How many threads torch's CPU kernels use, set in one place for every BLAS under them.
#pragma once

namespace ludus::rl {

// Sets torch's intra-op threads for the calling thread and, when the BLAS under libtorch
// is OpenBLAS, OpenBLAS's own thread pool (process-wide: call this once, from the thread
// that starts the work; other threads that run torch ops call torch::set_num_threads, as
// OpenMP's count is per thread). OpenBLAS otherwise keeps one thread per core, and between
// the small matrix products of a policy network its idle threads spin: on the 2-core VM
// they burned a second core (sys time in sched_yield) without making training faster
// (BENCHMARKS.md). Other BLAS builds (MKL in upstream libtorch) are left as they are.
void set_compute_threads(int n);

// OpenBLAS's thread count now, or 0 when the process has no OpenBLAS.
int openblas_threads();

}  // namespace ludus::rl
