// Checkpoints: round trip, and refusal of truncated, corrupted and foreign files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <span>
#include <fstream>

#include "ludus/rl/checkpoint.hpp"

#include <unistd.h>

namespace ludus::rl {
namespace {

using ::testing::HasSubstr;

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // One file per test (CTest runs the tests of this suite in parallel processes).
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = (std::filesystem::temp_directory_path() /
             (std::string("ludus_ckpt_test_") + info->name() + "_" + std::to_string(::getpid()) + ".pt"))
                .string();
    NetworkOptions no;
    no.hidden = 16;
    net_ = PolicyNet(5, ActionSpace::discrete(4), no, /*value_head=*/true);
    meta_.env = "reach";
    meta_.obs_dim = 5;
    meta_.action_space = ActionSpace::discrete(4);
    meta_.network = no;
    meta_.value_head = true;
    meta_.update = 7;
    meta_.rng = {1, 2, 3, 4};
    meta_.ratings = {{"learner", 1010.5}, {"greedy", 990}};
  }
  void TearDown() override { std::filesystem::remove(path_); }

  std::vector<char> bytes() const {
    std::ifstream in(path_, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  void put(const std::vector<char>& b) const {
    std::ofstream(path_, std::ios::binary | std::ios::trunc).write(b.data(), static_cast<std::streamsize>(b.size()));
  }

  std::string path_;
  PolicyNet net_{nullptr};
  CheckpointMeta meta_;
};

TEST_F(CheckpointTest, RoundTripsWeightsAndState) {
  save_checkpoint(path_, meta_, net_);
  auto back = load_checkpoint(path_);
  EXPECT_EQ(back.meta.update, 7);
  EXPECT_EQ(back.meta.rng, meta_.rng);
  EXPECT_EQ(back.meta.ratings, meta_.ratings);
  const auto a = net_->named_parameters(), b = back.net->named_parameters();
  ASSERT_EQ(a.size(), b.size());
  for (const auto& p : a) EXPECT_TRUE(torch::equal(p.value(), *b.find(p.key()))) << p.key();
  EXPECT_FALSE(std::filesystem::exists(path_ + ".tmp")) << "the temp file is renamed into place";
}

TEST_F(CheckpointTest, TruncatedCorruptedAndForeignFilesAreRefused) {
  save_checkpoint(path_, meta_, net_);
  const auto good = bytes();
  put(std::vector<char>(good.begin(), good.begin() + static_cast<long>(good.size() / 2)));
  EXPECT_THROW(load_checkpoint(path_), CheckpointError);
  for (size_t pos : {size_t{30}, good.size() / 2, good.size() - 5}) {
    auto b = good;
    b[pos] = static_cast<char>(b[pos] ^ 0x01);
    put(b);
    try {
      load_checkpoint(path_);
      FAIL() << "bit flip at " << pos << " accepted";
    } catch (const CheckpointError& e) {
      EXPECT_THAT(e.what(), HasSubstr(path_));
    }
  }
  put({'n', 'o', 'p', 'e'});
  EXPECT_THROW(load_checkpoint(path_), CheckpointError);
  EXPECT_THROW(load_checkpoint("/nonexistent/ckpt.pt"), CheckpointError);
}

// The torch-free layer (what the fuzz target reads): the metadata record keeps every
// field, and every cut of it, of the container or of its payload is refused by name.
TEST_F(CheckpointTest, MetadataRecordAndContainerRoundTripAndRefuseEveryCut) {
  meta_.pool = {"league/snapshot_0000010.pt"};
  meta_.best_eval = 0.625;
  meta_.action_space = ActionSpace::multi_discrete({3, 5});
  const auto record = encode_checkpoint_meta(meta_);
  const auto back = decode_checkpoint_meta(record, "m.pt");
  EXPECT_EQ(back.env, meta_.env);
  EXPECT_EQ(back.action_space.nvec, meta_.action_space.nvec);
  EXPECT_EQ(back.network.hidden, 16);
  EXPECT_EQ(back.pool, meta_.pool);
  EXPECT_EQ(back.best_eval, 0.625);
  EXPECT_EQ(encode_checkpoint_meta(back), record);
  for (size_t n = 0; n < record.size(); ++n) {
    try {
      decode_checkpoint_meta(std::span(record).first(n), "m.pt");
      FAIL() << "a record cut to " << n << " of " << record.size() << " bytes was read";
    } catch (const CheckpointError& e) {
      EXPECT_THAT(e.what(), HasSubstr("m.pt"));
    }
  }
  const auto file = checkpoint_container(record);
  const auto payload = checkpoint_payload(file, "f.pt");
  EXPECT_TRUE(std::equal(payload.begin(), payload.end(), record.begin(), record.end()));
  for (size_t n = 0; n < file.size(); ++n)
    EXPECT_THROW(checkpoint_payload(std::span(file).first(n), "f.pt"), CheckpointError) << n;
}

// libtorch's own archive reader behind a valid checksum (the part the clang fuzz target
// cannot build): an archive cut anywhere, or replaced by foreign bytes, is refused with a
// CheckpointError naming the file. (Bytes changed inside the archive with the checksum
// recomputed can crash libtorch 1.13's TorchScript type parser: a tampered checkpoint is
// as unsafe as any torch file; the checksum is what stops accidental damage.)
TEST_F(CheckpointTest, CutOrForeignTorchArchivesBehindAValidChecksumAreRefused) {
  save_checkpoint(path_, meta_, net_, [](torch::serialize::OutputArchive& a) { a.write("x", torch::ones({3})); });
  const auto file = bytes();
  const auto payload = checkpoint_payload(std::span(reinterpret_cast<const uint8_t*>(file.data()), file.size()), path_);
  const std::vector<uint8_t> good(payload.begin(), payload.end());
  Rng rng(7);
  for (int k = 0; k < 200; ++k) {
    std::vector<uint8_t> p;
    if (k % 4 == 3) {
      p.resize(1 + rng.next_u64() % 4096);  // foreign bytes
      for (auto& c : p) c = static_cast<uint8_t>(rng.next_u64());
    } else {
      p.assign(good.begin(), good.begin() + static_cast<long>(rng.next_u64() % good.size()));  // cut
    }
    const auto damaged = checkpoint_container(p);
    put(std::vector<char>(damaged.begin(), damaged.end()));
    try {
      load_checkpoint(path_);
      FAIL() << "a " << (k % 4 == 3 ? "foreign" : "cut") << " archive of " << p.size() << " bytes was loaded";
    } catch (const CheckpointError& e) {
      EXPECT_THAT(e.what(), HasSubstr(path_));
    }
  }
}

TEST(PolicyNet, HeadsProduceValidDistributions) {
  NetworkOptions no;
  no.hidden = 8;
  PolicyNet disc(3, ActionSpace::multi_discrete({2, 5}), no, false);
  const auto x = torch::randn({4, 3});
  const auto out = disc->forward(x);
  EXPECT_EQ(out.size(1), 7);
  Rng rng(1);
  std::vector<float> a(8), ea(8);
  disc->head().sample(out.detach(), torch::Tensor(), rng, false, a.data(), ea.data());
  for (int r = 0; r < 4; ++r) {
    EXPECT_GE(a[static_cast<size_t>(2 * r)], 0);
    EXPECT_LT(a[static_cast<size_t>(2 * r)], 2);
    EXPECT_LT(a[static_cast<size_t>(2 * r + 1)], 5);
  }
  const auto lp = disc->head().log_prob(out, torch::Tensor(), torch::from_blob(a.data(), {4, 2}).clone());
  EXPECT_TRUE((lp <= 0).all().item<bool>());

  PolicyNet box(3, ActionSpace::box({-1, 0}, {1, 15}), no, false);
  const auto bo = box->forward(x);
  box->head().sample(bo.detach(), box->log_std().detach(), rng, false, a.data(), ea.data());
  for (int r = 0; r < 4; ++r) {
    EXPECT_GE(ea[static_cast<size_t>(2 * r + 1)], 0.0f);
    EXPECT_LE(ea[static_cast<size_t>(2 * r + 1)], 15.0f);
  }

  no.arch = "entity";
  no.entity_count = 3;
  no.entity_features = 2;
  PolicyNet ent(10, ActionSpace::discrete(4), no, true);
  EXPECT_EQ(ent->forward(torch::randn({5, 10})).sizes(), (std::vector<int64_t>{5, 4}));
  EXPECT_EQ(ent->value(torch::randn({5, 10})).sizes(), (std::vector<int64_t>{5}));
  // Entities are pooled: permuting them leaves the output unchanged.
  auto obs = torch::randn({1, 10});
  auto perm = obs.clone();
  perm.narrow(1, 4, 2).copy_(obs.narrow(1, 8, 2));
  perm.narrow(1, 8, 2).copy_(obs.narrow(1, 4, 2));
  EXPECT_TRUE(torch::allclose(ent->forward(obs), ent->forward(perm), 1e-5, 1e-6));
  no.entity_count = 10;
  EXPECT_THROW(PolicyNet(10, ActionSpace::discrete(4), no, false), std::invalid_argument);
}

}  // namespace
}  // namespace ludus::rl
