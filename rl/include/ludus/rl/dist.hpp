// Multi-process training on PyTorch's c10d (Gloo): launcher variables, the process
// group of one job, gradient averaging, and a local launcher for `--nproc`.
#pragma once

#include <torch/torch.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace ludus::rl::dist {

// Bad launcher variables, a build without c10d, a rank that failed, died or hung.
class DistError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// True when this build has c10d's Gloo process group (CMake found gloo and c10d headers).
bool available();

// Where this process sits in a job, as PyTorch launchers describe it.
struct LaunchEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  // The launcher hosts the rendezvous store (torchrun's TORCHELASTIC_USE_AGENT_STORE,
  // `ludus train --nproc`); otherwise rank 0 hosts it.
  bool agent_store = false;
};

// Reads RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT and
// TORCHELASTIC_USE_AGENT_STORE through `lookup` (getenv-like: nullptr when unset).
// Unset WORLD_SIZE means one process; WORLD_SIZE > 1 needs RANK, MASTER_ADDR and
// MASTER_PORT. Throws DistError naming the variable, what it holds and what it must be.
LaunchEnv parse_launch_env(const std::function<const char*(const char*)>& lookup);
LaunchEnv launch_env_from_environment();

struct DistOptions {
  double timeout_s = 60;        // longest wait in a collective or for the store
  double join_timeout_s = 300;  // longest wait for every rank to join at start-up
};

// One process of a job: its rank and its Gloo process group. Collectives are called by
// every rank in the same order; each throws DistError naming the rank that failed, died
// or stopped responding when it cannot complete within options.timeout_s.
class Context {
 public:
  // Joins the job (blocking until every rank has joined, or join_timeout_s).
  // world_size 1 gives a context without a process group whose collectives are no-ops.
  static std::shared_ptr<Context> create(const LaunchEnv& env, const DistOptions& options);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  int local_rank() const { return local_rank_; }
  bool is_main() const { return rank_ == 0; }
  double timeout_s() const { return options_.timeout_s; }

  // Copies rank 0's values of `tensors` into every rank's (in place).
  void broadcast(const std::vector<torch::Tensor>& tensors, const std::string& what);
  // Averages the gradients of `params` over all ranks in one all-reduce (CPU tensors;
  // CUDA gradients travel through a CPU buffer), and sums `extra` alongside. A
  // parameter's gradient stays undefined only when it is undefined on every rank.
  void average_gradients(const std::vector<torch::Tensor>& params, std::vector<double>& extra);
  // Element-wise sum / max of `values` over all ranks (in place).
  void all_reduce_sum(std::vector<double>& values, const std::string& what);
  void all_reduce_max(std::vector<double>& values, const std::string& what);
  // Every rank's `words`, in rank order (an all-gather of a few integers).
  std::vector<std::array<uint64_t, 4>> all_gather(const std::array<uint64_t, 4>& words, const std::string& what);
  // Every rank says whether its part of a step worked (empty `error`: it did); throws
  // DistError quoting the failed ranks' errors on every rank when one did not.
  void agree(const std::string& what, const std::string& error);
  // Leaves a rank's failure in the store, so the other ranks can name it and quote it.
  void report_failure(const std::string& message) noexcept;
  // Orderly end: stops the heartbeat; the store's host waits for every rank to leave.
  void finish();

 private:
  struct Impl;
  Context(const LaunchEnv& env, const DistOptions& options);
  template <class Fn>
  void guarded(const std::string& what, Fn&& fn);

  int rank_ = 0, world_size_ = 1, local_rank_ = 0;
  DistOptions options_;
  std::unique_ptr<Impl> impl_;
};

// `ludus train --nproc N`: hosts the rendezvous store on 127.0.0.1 (a free port), runs N
// copies of `argv` with RANK/WORLD_SIZE/LOCAL_RANK/MASTER_ADDR/MASTER_PORT set, passes
// rank 0's output through and prefixes the others' with "[rank K] ". When a rank fails,
// the others get grace_s to fail on their own (and name the cause), then are killed.
// Returns 0 when every rank succeeded, else 1 after printing which ranks failed.
int launch_local(const std::vector<std::string>& argv, int nproc, double grace_s);

// This process's command line (from /proc/self/cmdline) and executable path.
std::vector<std::string> own_command_line();

}  // namespace ludus::rl::dist
