// Multi-process training on c10d: launcher variables, the Gloo process group with
// heartbeats that name a lost rank, and the local launcher behind `ludus train --nproc`.
#include "ludus/rl/dist.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#ifdef LUDUS_HAVE_DIST
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

extern char** environ;

namespace ludus::rl::dist {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

[[maybe_unused]] std::chrono::milliseconds to_ms(double s) {
  return std::chrono::milliseconds(static_cast<int64_t>(s * 1000.0));
}

// A whole decimal number in [lo, hi], or DistError naming the variable.
int parse_env_int(const char* name, const char* text, long lo, long hi, const std::string& expected) {
  errno = 0;
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (*text == '\0' || end == nullptr || *end != '\0' || errno != 0 || v < lo || v > hi)
    throw DistError(fmt::format("launcher variable {}='{}': expected {}", name, text, expected));
  return static_cast<int>(v);
}

constexpr const char* kNoDist =
    "this ludus was built without c10d's Gloo process group (CMake did not find the gloo and "
    "torch/csrc/distributed/c10d headers; on Debian install libgloo-dev through scripts/install-deps.sh and "
    "reconfigure), so it trains in one process only";

}  // namespace

bool available() {
#ifdef LUDUS_HAVE_DIST
  return true;
#else
  return false;
#endif
}

LaunchEnv parse_launch_env(const std::function<const char*(const char*)>& lookup) {
  LaunchEnv e;
  const char* ws = lookup("WORLD_SIZE");
  const char* rank = lookup("RANK");
  if (ws == nullptr) {
    if (rank != nullptr && std::string(rank) != "0")
      throw DistError(
          fmt::format("launcher variable RANK='{}' is set but WORLD_SIZE is not: set WORLD_SIZE to the "
                      "number of processes in the job",
                      rank));
    return e;
  }
  e.world_size = parse_env_int("WORLD_SIZE", ws, 1, 1 << 20, "the number of processes in the job (1 or more)");
  if (e.world_size == 1) {
    if (rank != nullptr) parse_env_int("RANK", rank, 0, 0, "0 (WORLD_SIZE=1)");
    return e;
  }
  if (rank == nullptr)
    throw DistError(
        fmt::format("launcher variable RANK is not set, but WORLD_SIZE={}: every process of the job needs "
                    "its RANK, 0 to {}",
                    e.world_size, e.world_size - 1));
  e.rank = parse_env_int("RANK", rank, 0, e.world_size - 1,
                         fmt::format("0 to {} (WORLD_SIZE={})", e.world_size - 1, e.world_size));
  if (const char* lr = lookup("LOCAL_RANK"))
    e.local_rank = parse_env_int("LOCAL_RANK", lr, 0, e.world_size - 1,
                                 fmt::format("0 to {} (WORLD_SIZE={})", e.world_size - 1, e.world_size));
  const char* addr = lookup("MASTER_ADDR");
  if (addr == nullptr || *addr == '\0')
    throw DistError(
        fmt::format("launcher variable MASTER_ADDR is {}, but WORLD_SIZE={}: set it to the host name or "
                    "address of the machine that runs rank 0",
                    addr == nullptr ? "not set" : "empty", e.world_size));
  e.master_addr = addr;
  const char* port = lookup("MASTER_PORT");
  if (port == nullptr)
    throw DistError(
        fmt::format("launcher variable MASTER_PORT is not set, but WORLD_SIZE={}: set it to a free TCP "
                    "port on MASTER_ADDR (1 to 65535)",
                    e.world_size));
  e.master_port = parse_env_int("MASTER_PORT", port, 1, 65535, "a TCP port, 1 to 65535");
  if (const char* agent = lookup("TORCHELASTIC_USE_AGENT_STORE")) {
    const std::string a = agent;
    e.agent_store = a == "True" || a == "true" || a == "1";
  }
  return e;
}

LaunchEnv launch_env_from_environment() {
  return parse_launch_env([](const char* name) { return std::getenv(name); });
}

#ifdef LUDUS_HAVE_DIST

struct Context::Impl {
  LaunchEnv env;
  DistOptions options;
  c10::intrusive_ptr<c10d::TCPStore> store;     // this thread's connection (the server too on its host)
  c10::intrusive_ptr<c10d::TCPStore> pg_store;  // the process group's own connection
  c10::intrusive_ptr<c10d::TCPStore> hb_store;  // the heartbeat thread's own connection
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
  std::thread heartbeat;
  std::mutex hb_mutex;
  std::condition_variable hb_cv;
  bool hb_stop = false;
  std::chrono::milliseconds hb_interval{1000};
  int64_t agree_round = 0;
  bool finished = false;

  std::string prefix = "ludus/";  // + the restart count under torchrun, whose store outlives restarts

  // A key of this job in the store.
  template <class... Args>
  std::string key(fmt::format_string<Args...> f, Args&&... args) const {
    return prefix + fmt::format(f, std::forward<Args>(args)...);
  }

  bool hosts_store() const { return env.rank == 0 && !env.agent_store; }
  std::string store_where() const {
    return fmt::format("{}:{} ({})", env.master_addr, env.master_port,
                       env.agent_store ? "hosted by the launcher" : "hosted by rank 0");
  }

  c10::intrusive_ptr<c10d::TCPStore> connect(bool server, double timeout_s) const {
    c10d::TCPStoreOptions o;
    o.port = static_cast<std::uint16_t>(env.master_port);
    o.isServer = server;
    o.waitWorkers = false;
    o.timeout = to_ms(timeout_s);
    return c10::make_intrusive<c10d::TCPStore>(env.master_addr, o);
  }

  void start_heartbeat() {
    heartbeat = std::thread([this] {
      const std::string hb_key = key("hb/{}", env.rank);
      std::unique_lock<std::mutex> lock(hb_mutex);
      while (!hb_stop) {
        lock.unlock();
        try {
          hb_store->add(hb_key, 1);
        } catch (const std::exception&) {
          // The store is gone; the next collective or store access reports it.
        }
        lock.lock();
        hb_cv.wait_for(lock, hb_interval, [this] { return hb_stop; });
      }
    });
  }

  ~Impl() { stop_heartbeat(); }

  // Until every other rank has left or reported a failure, or `deadline`; true if all did.
  bool wait_for_others(Clock::time_point deadline) {
    for (int r = 0; r < env.world_size;) {
      if (r == env.rank || store->check({key("failed/{}", r)}) || store->check({key("left/{}", r)})) {
        ++r;
      } else if (Clock::now() >= deadline) {
        return false;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    return true;
  }

  void stop_heartbeat() {
    {
      std::lock_guard<std::mutex> lock(hb_mutex);
      hb_stop = true;
    }
    hb_cv.notify_all();
    if (heartbeat.joinable()) heartbeat.join();
  }

  // Who is to blame for a collective that failed: ranks that reported a failure, else
  // ranks whose heartbeat stopped, else nobody we can name.
  std::string diagnose(const std::string& what, double waited_s, const std::string& cause) {
    const std::string head = fmt::format("rank {}: {} failed after {:.1f} s (dist.timeout_s: {:g})", env.rank, what,
                                         waited_s, options.timeout_s);
    std::string first_line = cause.substr(0, cause.find('\n'));
    const int W = env.world_size;
    try {
      store->setTimeout(to_ms(std::max(1.0, 4.0 * std::chrono::duration<double>(hb_interval).count())));
      std::vector<std::string> reports;
      for (int r = 0; r < W; ++r) {
        if (r == env.rank) continue;
        const std::string failed_key = key("failed/{}", r);
        if (store->check({failed_key})) {
          const auto v = store->get(failed_key);
          reports.push_back(fmt::format("rank {} failed: {}", r, std::string(v.begin(), v.end())));
        }
      }
      if (!reports.empty()) {
        std::string s = head + ": ";
        for (size_t i = 0; i < reports.size(); ++i) s += (i ? "; " : "") + reports[i];
        return s;
      }
      std::vector<int64_t> before(static_cast<size_t>(W)), after(static_cast<size_t>(W));
      for (int r = 0; r < W; ++r) before[static_cast<size_t>(r)] = store->add(key("hb/{}", r), 0);
      std::this_thread::sleep_for(3 * hb_interval);
      std::vector<int> stale;
      for (int r = 0; r < W; ++r) {
        after[static_cast<size_t>(r)] = store->add(key("hb/{}", r), 0);
        if (r != env.rank && after[static_cast<size_t>(r)] == before[static_cast<size_t>(r)]) stale.push_back(r);
      }
      store->setTimeout(to_ms(options.timeout_s));
      if (!stale.empty()) {
        std::string names;
        for (size_t i = 0; i < stale.size(); ++i) names += (i ? ", " : "") + std::to_string(stale[i]);
        return fmt::format(
            "{}: lost contact with rank {}: its heartbeat stopped (the process died, was stopped or "
            "its machine is unreachable). c10d: {}",
            head, names, first_line);
      }
      return fmt::format(
          "{}: every rank's heartbeat is alive, so a rank is stuck outside the collectives or the "
          "network between ranks is down. c10d: {}",
          head, first_line);
    } catch (const std::exception& e) {
      const std::string store_err = std::string(e.what()).substr(0, std::string(e.what()).find('\n'));
      if (!env.agent_store && env.rank != 0)
        return fmt::format(
            "{}: lost contact with rank 0: the rendezvous store it hosts ({}:{}) is unreachable ({}). "
            "c10d: {}",
            head, env.master_addr, env.master_port, store_err, first_line);
      return fmt::format("{}: the rendezvous store at {} is unreachable ({}). c10d: {}", head, store_where(), store_err,
                         first_line);
    }
  }
};

Context::Context(const LaunchEnv& env, const DistOptions& options)
    : rank_(env.rank), world_size_(env.world_size), local_rank_(env.local_rank), options_(options) {
  if (!(options.timeout_s > 0) || !(options.join_timeout_s > 0))
    throw DistError(fmt::format("dist.timeout_s ({}) and dist.join_timeout_s ({}) must be positive", options.timeout_s,
                                options.join_timeout_s));
  if (world_size_ == 1) return;
  impl_ = std::make_unique<Impl>();
  auto& im = *impl_;
  im.env = env;
  im.options = options;
  if (const char* restart = std::getenv("TORCHELASTIC_RESTART_COUNT")) im.prefix = fmt::format("ludus/{}/", restart);
  im.hb_interval =
      std::chrono::milliseconds(static_cast<int64_t>(std::clamp(options.timeout_s / 10.0, 0.05, 1.0) * 1000.0));
  const auto t0 = Clock::now();
  try {
    im.store = im.connect(im.hosts_store(), options.join_timeout_s);
    im.pg_store = im.connect(false, options.join_timeout_s);
    im.hb_store = im.connect(false, options.join_timeout_s);
  } catch (const std::exception& e) {
    const std::string msg = e.what();
    throw DistError(fmt::format(
        "rank {}: could not {} the rendezvous store at {} within dist.join_timeout_s ({:g} s){}: {}", rank_,
        im.hosts_store() ? "open" : "reach", im.store_where(), options.join_timeout_s,
        im.hosts_store() ? " (is MASTER_PORT in use?)" : " (is rank 0 running, and MASTER_ADDR/MASTER_PORT right?)",
        msg.substr(0, msg.find('\n'))));
  }
  im.start_heartbeat();

  // Join: every rank announces itself; a rank that never comes is named.
  im.store->set(im.key("joined/{}", rank_), std::vector<uint8_t>{1});
  std::vector<std::string> keys;
  for (int r = 0; r < world_size_; ++r) keys.push_back(im.key("joined/{}", r));
  try {
    im.store->wait(keys, to_ms(options.join_timeout_s));
  } catch (const std::exception&) {
    std::string missing;
    try {
      for (int r = 0; r < world_size_; ++r)
        if (!im.store->check({keys[static_cast<size_t>(r)]}))
          missing += (missing.empty() ? "" : ", ") + std::to_string(r);
    } catch (const std::exception&) {
      missing = "?";
    }
    im.stop_heartbeat();
    throw DistError(
        fmt::format("rank {}: rank {} did not join the job within dist.join_timeout_s ({:g} s); store at {}", rank_,
                    missing, options.join_timeout_s, im.store_where()));
  }

  auto pg_options = c10d::ProcessGroupGloo::Options::create(to_ms(options.timeout_s));
  // Gloo's own connections: the interface GLOO_SOCKET_IFNAME names (as in PyTorch), loopback
  // for a job on 127.x, else the address this machine's host name resolves to.
  const bool loopback = env.master_addr == "localhost" || env.master_addr.rfind("127.", 0) == 0;
  const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
  try {
    if (ifname != nullptr && *ifname != '\0')
      pg_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    else if (loopback)
      pg_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    else
      pg_options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  } catch (const std::exception& e) {
    const std::string msg = e.what();
    throw DistError(fmt::format("rank {}: no network device for Gloo ({}): {}", rank_,
                                ifname != nullptr && *ifname != '\0' ? fmt::format("GLOO_SOCKET_IFNAME='{}'", ifname)
                                                                     : "this machine's host name",
                                msg.substr(0, msg.find('\n'))));
  }
  pg_options->threads = 2;
  try {
    // The process group's keys live under their own prefix; its rendezvous is quick now
    // that every rank has joined.
    im.pg_store->setTimeout(to_ms(options.timeout_s));
    im.pg = c10::make_intrusive<c10d::ProcessGroupGloo>(
        c10::make_intrusive<c10d::PrefixStore>(im.key("pg"), im.pg_store), rank_, world_size_, pg_options);
  } catch (const std::exception& e) {
    const std::string why = im.diagnose("connecting the Gloo process group", seconds_since(t0), e.what());
    im.stop_heartbeat();
    throw DistError(why);
  }
  im.store->setTimeout(to_ms(options.timeout_s));
}

std::shared_ptr<Context> Context::create(const LaunchEnv& env, const DistOptions& options) {
  return std::shared_ptr<Context>(new Context(env, options));
}

Context::~Context() {
  if (impl_) {
    impl_->stop_heartbeat();
    impl_->pg.reset();
  }
}

template <class Fn>
void Context::guarded(const std::string& what, Fn&& fn) {
  if (!impl_->pg) throw DistError(fmt::format("rank {}: {}: this rank already failed and left the job", rank_, what));
  const auto t0 = Clock::now();
  try {
    fn();
  } catch (const DistError&) {
    throw;
  } catch (const std::exception& e) {
    throw DistError(impl_->diagnose(what, seconds_since(t0), e.what()));
  }
}

void Context::broadcast(const std::vector<torch::Tensor>& tensors, const std::string& what) {
  if (world_size_ == 1 || tensors.empty()) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> flat;
  for (const auto& t : tensors) flat.push_back(t.detach().to(torch::kCPU, torch::kFloat).reshape({-1}));
  std::vector<torch::Tensor> buf{torch::cat(flat)};
  guarded(what, [&] {
    c10d::BroadcastOptions o;
    o.rootRank = 0;
    impl_->pg->broadcast(buf, o)->wait();
  });
  int64_t off = 0;
  for (const auto& t : tensors) {
    const int64_t n = t.numel();
    t.detach().copy_(buf[0].narrow(0, off, n).view(t.sizes()));
    off += n;
  }
}

void Context::average_gradients(const std::vector<torch::Tensor>& params, std::vector<double>& extra) {
  if (world_size_ == 1) return;
  torch::NoGradGuard no_grad;
  const int64_t P = static_cast<int64_t>(params.size()), E = static_cast<int64_t>(extra.size());
  int64_t total = 0;
  for (const auto& p : params) total += p.numel();
  // [gradients | has-gradient flag per parameter | extra], summed in one all-reduce.
  std::vector<torch::Tensor> buf{torch::zeros({total + P + E}, torch::kFloat)};
  auto* flags = buf[0].data_ptr<float>() + total;
  int64_t off = 0;
  for (int64_t i = 0; i < P; ++i) {
    const auto& p = params[static_cast<size_t>(i)];
    const auto& g = p.grad();
    if (g.defined()) {
      buf[0].narrow(0, off, p.numel()).copy_(g.detach().reshape({-1}));
      flags[i] = 1.0f;
    }
    off += p.numel();
  }
  for (int64_t j = 0; j < E; ++j) flags[P + j] = static_cast<float>(extra[static_cast<size_t>(j)]);
  guarded("all-reduce of gradients", [&] { impl_->pg->allreduce(buf)->wait(); });
  buf[0].narrow(0, 0, total).div_(static_cast<double>(world_size_));
  off = 0;
  for (int64_t i = 0; i < P; ++i) {
    auto p = params[static_cast<size_t>(i)];
    const auto slice = buf[0].narrow(0, off, p.numel()).view(p.sizes());
    off += p.numel();
    if (flags[i] == 0.0f) {
      p.mutable_grad() = torch::Tensor();
      continue;
    }
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    p.mutable_grad().copy_(slice);
  }
  for (int64_t j = 0; j < E; ++j) extra[static_cast<size_t>(j)] = static_cast<double>(flags[P + j]);
}

namespace {
void reduce_doubles(c10d::ProcessGroupGloo& pg, std::vector<double>& values, c10d::ReduceOp op) {
  std::vector<torch::Tensor> buf{torch::tensor(values, torch::kDouble)};
  c10d::AllreduceOptions o;
  o.reduceOp = op;
  pg.allreduce(buf, o)->wait();
  const auto* d = buf[0].data_ptr<double>();
  std::copy(d, d + values.size(), values.begin());
}
}  // namespace

void Context::all_reduce_sum(std::vector<double>& values, const std::string& what) {
  if (world_size_ == 1 || values.empty()) return;
  guarded(what, [&] { reduce_doubles(*impl_->pg, values, c10d::ReduceOp::SUM); });
}

void Context::all_reduce_max(std::vector<double>& values, const std::string& what) {
  if (world_size_ == 1 || values.empty()) return;
  guarded(what, [&] { reduce_doubles(*impl_->pg, values, c10d::ReduceOp::MAX); });
}

std::vector<std::array<uint64_t, 4>> Context::all_gather(const std::array<uint64_t, 4>& words,
                                                         const std::string& what) {
  std::vector<std::array<uint64_t, 4>> out(static_cast<size_t>(world_size_));
  out[static_cast<size_t>(rank_)] = words;
  if (world_size_ == 1) return out;
  // Each rank fills its own row of zeros; a sum is then a gather.
  std::vector<torch::Tensor> buf{torch::zeros({world_size_, 4}, torch::kLong)};
  std::memcpy(buf[0].data_ptr<int64_t>() + 4 * rank_, words.data(), sizeof words);
  guarded(what, [&] { impl_->pg->allreduce(buf)->wait(); });
  std::memcpy(out.data(), buf[0].data_ptr<int64_t>(), out.size() * sizeof words);
  return out;
}

void Context::agree(const std::string& what, const std::string& error) {
  if (world_size_ == 1) {
    if (!error.empty()) throw DistError(error);
    return;
  }
  auto& im = *impl_;
  const int64_t round = ++im.agree_round;
  std::vector<std::string> keys;
  for (int r = 0; r < world_size_; ++r) keys.push_back(im.key("agree/{}/{}", round, r));
  std::string failures;
  guarded(what, [&] {
    im.store->set(keys[static_cast<size_t>(rank_)], std::vector<uint8_t>(error.begin(), error.end()));
    im.store->wait(keys);
    for (int r = 0; r < world_size_; ++r) {
      const auto v = im.store->get(keys[static_cast<size_t>(r)]);
      if (!v.empty())
        failures += fmt::format("{}rank {}: {}", failures.empty() ? "" : "; ", r, std::string(v.begin(), v.end()));
    }
  });
  if (!failures.empty()) throw DistError(fmt::format("{} failed on {}", what, failures));
}

void Context::report_failure(const std::string& message) noexcept {
  if (!impl_) return;
  auto& im = *impl_;
  try {
    im.store->setTimeout(std::chrono::milliseconds(2000));
    im.store->set(im.key("failed/{}", rank_), std::vector<uint8_t>(message.begin(), message.end()));
    // Closing this rank's connections wakes the others at once; when this process hosts
    // the store, it stays up long enough for them to read why.
    im.pg.reset();
    if (im.hosts_store()) im.wait_for_others(Clock::now() + 5 * im.hb_interval + std::chrono::milliseconds(1000));
  } catch (...) {
    // Nobody to tell: the store is gone with its host.
  }
}

void Context::finish() {
  if (!impl_ || impl_->finished) return;
  auto& im = *impl_;
  im.finished = true;
  im.stop_heartbeat();
  try {
    im.store->set(im.key("left/{}", rank_), std::vector<uint8_t>{1});
    // The others may still be reading from the store this process hosts.
    if (im.hosts_store() && !im.wait_for_others(Clock::now() + to_ms(options_.timeout_s)))
      fmt::print(stderr, "ludus: warning: rank {}: not every rank finished within dist.timeout_s ({:g} s)\n", rank_,
                 options_.timeout_s);
  } catch (const std::exception& e) {
    fmt::print(stderr, "ludus: warning: rank {}: not every rank said goodbye: {}\n", rank_,
               std::string(e.what()).substr(0, std::string(e.what()).find('\n')));
  }
}

#else  // no c10d in this build

struct Context::Impl {};

Context::Context(const LaunchEnv& env, const DistOptions& options)
    : rank_(env.rank), world_size_(env.world_size), local_rank_(env.local_rank), options_(options) {
  if (world_size_ != 1) throw DistError(fmt::format("WORLD_SIZE={}: {}", world_size_, kNoDist));
}
std::shared_ptr<Context> Context::create(const LaunchEnv& env, const DistOptions& options) {
  return std::shared_ptr<Context>(new Context(env, options));
}
Context::~Context() = default;
void Context::broadcast(const std::vector<torch::Tensor>&, const std::string&) {}
void Context::average_gradients(const std::vector<torch::Tensor>&, std::vector<double>&) {}
void Context::all_reduce_sum(std::vector<double>&, const std::string&) {}
void Context::all_reduce_max(std::vector<double>&, const std::string&) {}
std::vector<std::array<uint64_t, 4>> Context::all_gather(const std::array<uint64_t, 4>& words, const std::string&) {
  return {words};
}
void Context::agree(const std::string&, const std::string& error) {
  if (!error.empty()) throw DistError(error);
}
void Context::report_failure(const std::string&) noexcept {}
void Context::finish() {}

#endif

std::vector<std::string> own_command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::vector<std::string> args;
  for (std::string a; std::getline(in, a, '\0');) args.push_back(a);
  char exe[4096];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (args.empty() || n <= 0) throw DistError("cannot read this process's command line from /proc/self");
  args[0] = std::string(exe, static_cast<size_t>(n));
  return args;
}

namespace {

volatile std::sig_atomic_t g_launcher_signal = 0;
extern "C" void on_launcher_signal(int sig) { g_launcher_signal = sig; }

struct Child {
  int rank = 0;
  pid_t pid = -1;
  int out_fd = -1, err_fd = -1;  // rank > 0: read ends of its stdout / stderr pipes
  std::string out_buf, err_buf;
  bool running = true;
  bool stopped_by_launcher = false;
  int status = 0;
};

std::string describe_status(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return fmt::format("was killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  return "ended";
}

bool failed(int status) { return !WIFEXITED(status) || WEXITSTATUS(status) != 0; }

// Prints whole lines of `buf` with the rank's prefix; keeps a partial last line.
void flush_lines(std::string& buf, int rank, FILE* to, bool all) {
  size_t start = 0;
  for (size_t nl; (nl = buf.find('\n', start)) != std::string::npos; start = nl + 1)
    fmt::print(to, "[rank {}] {}\n", rank, std::string_view(buf).substr(start, nl - start));
  buf.erase(0, start);
  if (all && !buf.empty()) {
    fmt::print(to, "[rank {}] {}\n", rank, buf);
    buf.clear();
  }
  std::fflush(to);
}

// The children's environment: ours without any launcher variable, plus the job's.
std::vector<std::string> launch_env(int nproc, int port) {
  const std::map<std::string, std::string> vars = {{"WORLD_SIZE", std::to_string(nproc)},
                                                   {"MASTER_ADDR", "127.0.0.1"},
                                                   {"MASTER_PORT", std::to_string(port)},
                                                   {"TORCHELASTIC_USE_AGENT_STORE", "True"},
                                                   {"LOCAL_WORLD_SIZE", std::to_string(nproc)}};
  std::vector<std::string> base_env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv = *e;
    const std::string name = kv.substr(0, kv.find('='));
    if (vars.count(name) || name == "RANK" || name == "LOCAL_RANK") continue;
    base_env.push_back(kv);
  }
  for (const auto& [k, v] : vars) base_env.push_back(k + "=" + v);
  return base_env;
}

// Starts rank r of the job (rank 0 writes to our stdout/stderr, the others to pipes).
// Returns an error message, empty when it started.
std::string spawn_rank(Child& c, int r, const std::vector<std::string>& argv,
                       const std::vector<std::string>& base_env) {
  c.rank = r;
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  std::vector<std::string> env = base_env;
  env.push_back(fmt::format("RANK={}", r));
  env.push_back(fmt::format("LOCAL_RANK={}", r));
  std::vector<char*> cenv;
  for (auto& kv : env) cenv.push_back(kv.data());
  cenv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
  if (r > 0) {
    if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
      posix_spawn_file_actions_destroy(&fa);
      return fmt::format("cannot create pipes for rank {}: {}", r, std::strerror(errno));
    }
    posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  }
  const int rc = posix_spawn(&c.pid, cargv[0], &fa, nullptr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&fa);
  if (r > 0) {
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    c.out_fd = out_pipe[0];
    c.err_fd = err_pipe[0];
  }
  if (rc != 0) {
    c.running = false;
    c.pid = -1;
    return fmt::format("cannot start rank {} ({}): {}", r, argv[0], std::strerror(rc));
  }
  return {};
}

// Waits up to 100 ms for output of ranks > 0 and passes whole lines on with their prefix.
void pump_output(std::vector<Child>& children) {
  std::vector<pollfd> fds;
  std::vector<std::pair<Child*, bool>> owners;  // (child, is stderr)
  for (auto& c : children) {
    if (c.out_fd >= 0) {
      fds.push_back({c.out_fd, POLLIN, 0});
      owners.emplace_back(&c, false);
    }
    if (c.err_fd >= 0) {
      fds.push_back({c.err_fd, POLLIN, 0});
      owners.emplace_back(&c, true);
    }
  }
  if (!fds.empty())
    ::poll(fds.data(), fds.size(), 100);
  else
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  for (size_t i = 0; i < fds.size(); ++i) {
    if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    auto& [c, is_err] = owners[i];
    char chunk[4096];
    const ssize_t n = ::read(fds[i].fd, chunk, sizeof chunk);
    std::string& buf = is_err ? c->err_buf : c->out_buf;
    FILE* to = is_err ? stderr : stdout;
    if (n > 0) {
      buf.append(chunk, static_cast<size_t>(n));
      flush_lines(buf, c->rank, to, false);
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
      flush_lines(buf, c->rank, to, true);
      ::close(fds[i].fd);
      (is_err ? c->err_fd : c->out_fd) = -1;
    }
  }
}

// Collects the ranks that ended; notes the time of the first failure. True while any runs.
bool reap(std::vector<Child>& children, Clock::time_point& first_failure) {
  bool any_running = false;
  for (auto& c : children) {
    if (!c.running || c.pid < 0) continue;
    int status = 0;
    const pid_t w = ::waitpid(c.pid, &status, WNOHANG);
    if (w == c.pid) {
      c.running = false;
      c.status = status;
      if (failed(status) && first_failure == Clock::time_point::max()) first_failure = Clock::now();
    } else {
      any_running = true;
    }
  }
  return any_running;
}

void signal_running(std::vector<Child>& children, int sig, bool mark) {
  for (auto& c : children) {
    if (!c.running || c.pid <= 0) continue;
    if (mark) c.stopped_by_launcher = true;
    ::kill(c.pid, sig);
  }
}

// 0 when every rank succeeded, else 1 (128 + signal when we were interrupted), after
// saying which ranks failed.
int job_status(const std::vector<Child>& children, bool spawn_failed) {
  int rc = spawn_failed ? 1 : 0;
  for (const auto& c : children) {
    if (c.pid < 0 || !failed(c.status)) continue;
    fmt::print(stderr, "ludus: rank {} {}{}\n", c.rank, describe_status(c.status),
               c.stopped_by_launcher ? " (stopped by the launcher after another rank failed)" : "");
    rc = 1;
  }
  if (g_launcher_signal != 0) rc = 128 + g_launcher_signal;
  return rc;
}

}  // namespace

int launch_local(const std::vector<std::string>& argv, int nproc, double grace_s) {
  if (nproc < 1) throw DistError(fmt::format("--nproc {}: expected 1 or more processes", nproc));
  if (nproc > 1 && !available()) throw DistError(fmt::format("--nproc {}: {}", nproc, kNoDist));
  if (argv.empty()) throw DistError("launch_local: empty command line");
#ifdef LUDUS_HAVE_DIST
  // The launcher hosts the store (as torchrun's agent does), on a port the kernel picks:
  // parallel jobs on one machine cannot collide, and the store outlives any one rank.
  c10d::TCPStoreOptions so;
  so.port = 0;
  so.isServer = true;
  so.waitWorkers = false;
  c10::intrusive_ptr<c10d::TCPStore> store;
  if (nproc > 1) store = c10::make_intrusive<c10d::TCPStore>("127.0.0.1", so);
  const int port = store ? store->getPort() : 0;
#else
  const int port = 0;
#endif
  const std::vector<std::string> base_env = launch_env(nproc, port);

  struct sigaction sa {
  }, old_int{}, old_term{};
  sa.sa_handler = on_launcher_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);

  std::vector<Child> children(static_cast<size_t>(nproc));
  std::string spawn_error;
  for (int r = 0; r < nproc && spawn_error.empty(); ++r)
    spawn_error = spawn_rank(children[static_cast<size_t>(r)], r, argv, base_env);

  // A failed rank (or a signal to us) starts the grace period; after it the others get
  // SIGTERM, and SIGKILL 3 s later.
  auto first_failure = Clock::time_point::max();
  bool terminated = false;
  auto kill_time = Clock::time_point::max();
  if (!spawn_error.empty()) {
    fmt::print(stderr, "ludus: error: {}\n", spawn_error);
    first_failure = Clock::now();
    grace_s = 0;
  }
  for (;;) {
    pump_output(children);
    const bool any_running = reap(children, first_failure);
    const bool pipes_open =
        std::any_of(children.begin(), children.end(), [](const Child& c) { return c.out_fd >= 0 || c.err_fd >= 0; });
    if (!any_running && !pipes_open) break;
    if (!any_running) continue;
    if (g_launcher_signal != 0 && first_failure == Clock::time_point::max()) {
      first_failure = Clock::now();
      grace_s = 0;
    }
    const bool over_grace = first_failure != Clock::time_point::max() && seconds_since(first_failure) >= grace_s;
    if (over_grace && !terminated) {
      terminated = true;
      kill_time = Clock::now() + std::chrono::seconds(3);
      signal_running(children, SIGTERM, true);
    } else if (terminated && Clock::now() >= kill_time) {
      signal_running(children, SIGKILL, false);
      kill_time = Clock::time_point::max();
    }
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  return job_status(children, !spawn_error.empty());
}

}  // namespace ludus::rl::dist
