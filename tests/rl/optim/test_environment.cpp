// Global setup for the rl optimizer tests: two intra-op threads (the CI machine has two cores).
#include <gtest/gtest.h>
#include <torch/torch.h>

namespace {

class TorchThreads : public ::testing::Environment {
 public:
  void SetUp() override { torch::set_num_threads(2); }
};

const auto* const kTorchThreads = ::testing::AddGlobalTestEnvironment(new TorchThreads);

}  // namespace
