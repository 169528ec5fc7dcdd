// Bullet collision backend for Codeball (option collision=bullet): the arena as a Bullet
// triangle mesh built from the rules' distance function, sphere contact queries against
// its BVH, and a Bullet broadphase for sphere-sphere candidate pairs. Bullet only detects
// contacts; the response is the rules' (sim.cpp). No Bullet dynamics world is stepped.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "codeball/sim.hpp"

class btBvhTriangleMeshShape;
class btTriangleIndexVertexArray;
class btDbvtBroadphase;
struct btBroadphaseProxy;

namespace ludus::codeball {

// The arena surface as a Bullet BVH triangle mesh, built once per process on first use
// (about a second) and shared read-only by every env: vertices lie on the rules' surface
// and every point of every triangle is within 0.01 units of it.
class BulletArena {
 public:
  static const BulletArena& shared();
  ~BulletArena();
  BulletArena(const BulletArena&) = delete;
  BulletArena& operator=(const BulletArena&) = delete;

  // The nearest mesh point to a sphere of `radius` around `centre`: distance (positive
  // inside the arena) and normal into the arena. False if no triangle is within `radius`.
  bool contact(const Vec3& centre, double radius, ArenaContact& out) const;
  size_t num_triangles() const { return indices_.size() / 3; }
  // Triangle k's corners (for tests).
  std::array<Vec3, 3> triangle(size_t k) const;

  // Grid step of the surface extraction, in arena units.
  static constexpr double kGridStep = 1.0;
  // Largest distance of a mesh point from the rules' surface the build aims for.
  static constexpr double kMaxDeviation = 0.01;

 private:
  BulletArena();
  std::vector<float> vertices_;  // x, y, z triples (Bullet is built in single precision)
  std::vector<int> indices_;
  std::unique_ptr<btTriangleIndexVertexArray> mesh_;
  std::unique_ptr<btBvhTriangleMeshShape> shape_;
};

// One env's Bullet broadphase over its robots and ball: candidate pairs for the rules'
// sphere-sphere collisions, in a fixed order whatever Bullet's internal pair order is.
class BulletBodies {
 public:
  explicit BulletBodies(int num_robots);
  ~BulletBodies();
  BulletBodies(const BulletBodies&) = delete;
  BulletBodies& operator=(const BulletBodies&) = delete;

  // Updates the bodies' bounds from `s` and returns the pairs (i, j), i > j, whose bounds
  // (padded by `margin` units) overlap; j == -1 is robot i with the ball. In no particular
  // order: the simulation walks them in the rules' (shuffled) order.
  const std::vector<std::pair<int, int>>& candidate_pairs(const GameState& s, double margin);

 private:
  std::unique_ptr<btDbvtBroadphase> broadphase_;
  std::vector<btBroadphaseProxy*> proxies_;  // robots in id order, then the ball
  std::vector<std::pair<int, int>> pairs_;
};

}  // namespace ludus::codeball
