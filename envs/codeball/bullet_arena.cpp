// Building the arena mesh (surface nets on the rules' distance function) and Bullet queries.
#include "codeball/bullet_arena.hpp"

#include <BulletCollision/BroadphaseCollision/btDbvtBroadphase.h>
#include <BulletCollision/BroadphaseCollision/btOverlappingPairCache.h>
#include <BulletCollision/CollisionShapes/btBvhTriangleMeshShape.h>
#include <BulletCollision/CollisionShapes/btTriangleCallback.h>
#include <BulletCollision/CollisionShapes/btTriangleIndexVertexArray.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace ludus::codeball {

using namespace constants;

namespace {

Vec3 to_vec(const btVector3& v) { return {v.x(), v.y(), v.z()}; }

// Closest point to p on triangle (a, b, c) (Ericson, Real-Time Collision Detection 5.1.5).
Vec3 closest_on_triangle(const Vec3& p, const Vec3& a, const Vec3& b, const Vec3& c) {
  const Vec3 ab = b - a, ac = c - a, ap = p - a;
  const double d1 = ab.dot(ap), d2 = ac.dot(ap);
  if (d1 <= 0 && d2 <= 0) return a;
  const Vec3 bp = p - b;
  const double d3 = ab.dot(bp), d4 = ac.dot(bp);
  if (d3 >= 0 && d4 <= d3) return b;
  const double vc = d1 * d4 - d3 * d2;
  if (vc <= 0 && d1 >= 0 && d3 <= 0) return a + ab * (d1 / (d1 - d3));
  const Vec3 cp = p - c;
  const double d5 = ab.dot(cp), d6 = ac.dot(cp);
  if (d6 >= 0 && d5 <= d6) return c;
  const double vb = d5 * d2 - d1 * d6;
  if (vb <= 0 && d2 >= 0 && d6 <= 0) return a + ac * (d2 / (d2 - d6));
  const double va = d3 * d6 - d5 * d4;
  if (va <= 0 && (d4 - d3) >= 0 && (d5 - d6) >= 0) return b + (c - b) * ((d4 - d3) / ((d4 - d3) + (d5 - d6)));
  const double denom = 1.0 / (va + vb + vc);
  return a + ab * (vb * denom) + ac * (vc * denom);
}

Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}

// Moves p onto the surface along the distance function's normal.
Vec3 project(Vec3 p) {
  for (int it = 0; it < 4; ++it) {
    const ArenaContact c = dan_to_arena(p);
    p -= c.normal * c.distance;
  }
  return p;
}

struct NearestTriangle final : btTriangleCallback {
  Vec3 centre;
  double best = 1e300;
  Vec3 point, face_normal;
  void processTriangle(btVector3* t, int, int) override {
    const Vec3 a = to_vec(t[0]), b = to_vec(t[1]), c = to_vec(t[2]);
    const Vec3 q = closest_on_triangle(centre, a, b, c);
    const double d2 = (centre - q).length_sq();
    if (d2 < best) {
      best = d2;
      point = q;
      face_normal = cross(b - a, c - a);
    }
  }
};

// The arena's signed distance sampled on a grid offset by a fraction of a step, so that no
// node lies exactly on a plane of the arena.
struct SurfaceGrid {
  double h = BulletArena::kGridStep, off = 0.37 * BulletArena::kGridStep;
  double x0 = -ARENA_WIDTH / 2 - 2 * h - off, y0 = -2 * h - off, z0 = -ARENA_DEPTH / 2 - ARENA_GOAL_DEPTH - 2 * h - off;
  int nx = static_cast<int>((ARENA_WIDTH + 4 * h) / h) + 2;
  int ny = static_cast<int>((ARENA_HEIGHT + 4 * h) / h) + 2;
  int nz = static_cast<int>((ARENA_DEPTH + 2 * ARENA_GOAL_DEPTH + 4 * h) / h) + 2;
  std::vector<float> f;

  Vec3 node(int i, int j, int k) const { return Vec3{x0 + i * h, y0 + j * h, z0 + k * h}; }
  size_t at(int i, int j, int k) const {
    return (static_cast<size_t>(k) * static_cast<size_t>(ny) + static_cast<size_t>(j)) * static_cast<size_t>(nx) +
           static_cast<size_t>(i);
  }
  SurfaceGrid() {
    f.resize(static_cast<size_t>(nx) * static_cast<size_t>(ny) * static_cast<size_t>(nz));
    for (int k = 0; k < nz; ++k)
      for (int j = 0; j < ny; ++j)
        for (int i = 0; i < nx; ++i) f[at(i, j, k)] = static_cast<float>(dan_to_arena(node(i, j, k)).distance);
  }
};

constexpr int kCorner[8][3] = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {1, 1, 0}, {0, 0, 1}, {1, 0, 1}, {0, 1, 1}, {1, 1, 1}};
constexpr int kEdge[12][2] = {{0, 1}, {2, 3}, {4, 5}, {6, 7}, {0, 2}, {1, 3},
                              {4, 6}, {5, 7}, {0, 4}, {1, 5}, {2, 6}, {3, 7}};

// Surface nets, vertices: one per grid cell the surface crosses (the mean of its edge
// crossings, projected onto the surface). Returns each cell's vertex (-1: none).
std::vector<int> place_vertices(const SurfaceGrid& g, std::vector<Vec3>& verts) {
  std::vector<int> cell_vertex(g.f.size(), -1);
  for (int k = 0; k + 1 < g.nz; ++k)
    for (int j = 0; j + 1 < g.ny; ++j)
      for (int i = 0; i + 1 < g.nx; ++i) {
        float v[8];
        int inside = 0;
        for (int c = 0; c < 8; ++c) {
          v[c] = g.f[g.at(i + kCorner[c][0], j + kCorner[c][1], k + kCorner[c][2])];
          inside += v[c] > 0 ? 1 : 0;
        }
        if (inside == 0 || inside == 8) continue;
        Vec3 sum;
        int count = 0;
        for (const auto& e : kEdge) {
          const float a = v[e[0]], b = v[e[1]];
          if ((a > 0) == (b > 0)) continue;
          const double t = a / (a - b);
          const Vec3 pa = g.node(i + kCorner[e[0]][0], j + kCorner[e[0]][1], k + kCorner[e[0]][2]);
          const Vec3 pb = g.node(i + kCorner[e[1]][0], j + kCorner[e[1]][1], k + kCorner[e[1]][2]);
          sum += pa + (pb - pa) * t;
          ++count;
        }
        cell_vertex[g.at(i, j, k)] = static_cast<int>(verts.size());
        verts.push_back(project(sum * (1.0 / count)));
      }
  return cell_vertex;
}

// Surface nets, faces: one quad (two triangles wound to face into the arena) per grid edge
// with a sign change, joining the vertices of the four cells around it.
std::vector<int> connect_quads(const SurfaceGrid& g, const std::vector<int>& cell_vertex,
                               const std::vector<Vec3>& verts) {
  std::vector<int> indices;
  auto emit = [&](int a, int b, int c) {
    if (a < 0 || b < 0 || c < 0 || a == b || b == c || a == c) return;
    Vec3 pa = verts[static_cast<size_t>(a)], pb = verts[static_cast<size_t>(b)], pc = verts[static_cast<size_t>(c)];
    const Vec3 n = cross(pb - pa, pc - pa);
    if (n.length_sq() < 1e-18) return;
    const ArenaContact at_centre = dan_to_arena((pa + pb + pc) * (1.0 / 3));
    if (n.dot(at_centre.normal) < 0) std::swap(b, c);
    indices.insert(indices.end(), {a, b, c});
  };
  auto quad = [&](size_t c0, size_t c1, size_t c2, size_t c3) {
    const int q[4] = {cell_vertex[c0], cell_vertex[c1], cell_vertex[c2], cell_vertex[c3]};
    emit(q[0], q[1], q[2]);
    emit(q[0], q[2], q[3]);
  };
  for (int k = 1; k + 1 < g.nz; ++k)
    for (int j = 1; j + 1 < g.ny; ++j)
      for (int i = 1; i + 1 < g.nx; ++i) {
        const bool in0 = g.f[g.at(i, j, k)] > 0;
        // Edges along +x, +y, +z from node (i, j, k); the four cells around each.
        if (in0 != (g.f[g.at(i + 1, j, k)] > 0))
          quad(g.at(i, j - 1, k - 1), g.at(i, j, k - 1), g.at(i, j, k), g.at(i, j - 1, k));
        if (in0 != (g.f[g.at(i, j + 1, k)] > 0))
          quad(g.at(i - 1, j, k - 1), g.at(i, j, k - 1), g.at(i, j, k), g.at(i - 1, j, k));
        if (in0 != (g.f[g.at(i, j, k + 1)] > 0))
          quad(g.at(i - 1, j - 1, k), g.at(i, j - 1, k), g.at(i, j, k), g.at(i - 1, j, k));
      }
  return indices;
}

// Where a flat triangle strays too far from a curved part of the surface, splits its long
// edges at their projected midpoints. Edges are split once for both triangles that share
// them, so the mesh stays without cracks. False when nothing needed a split.
bool refine_once(std::vector<Vec3>& verts, std::vector<int>& indices) {
  std::unordered_map<uint64_t, int> midpoint;
  auto key = [](int a, int b) {
    return (static_cast<uint64_t>(std::min(a, b)) << 32) | static_cast<uint32_t>(std::max(a, b));
  };
  auto needs_split = [&](int a, int b) {
    const Vec3 m = (verts[static_cast<size_t>(a)] + verts[static_cast<size_t>(b)]) * 0.5;
    return std::abs(dan_to_arena(m).distance) > BulletArena::kMaxDeviation * 0.5;
  };
  for (size_t t = 0; t < indices.size(); t += 3)
    for (int e = 0; e < 3; ++e) {
      const int a = indices[t + static_cast<size_t>(e)], b = indices[t + static_cast<size_t>((e + 1) % 3)];
      if (midpoint.count(key(a, b)) || !needs_split(a, b)) continue;
      midpoint[key(a, b)] = static_cast<int>(verts.size());
      verts.push_back(project((verts[static_cast<size_t>(a)] + verts[static_cast<size_t>(b)]) * 0.5));
    }
  if (midpoint.empty()) return false;
  std::vector<int> out;
  out.reserve(indices.size() * 2);
  for (size_t t = 0; t < indices.size(); t += 3) {
    int v[3] = {indices[t], indices[t + 1], indices[t + 2]};
    int m[3];
    int splits = 0;
    for (int e = 0; e < 3; ++e) {
      const auto it = midpoint.find(key(v[e], v[(e + 1) % 3]));
      m[e] = it == midpoint.end() ? -1 : it->second;
      splits += m[e] >= 0 ? 1 : 0;
    }
    if (splits == 3) {
      out.insert(out.end(), {v[0], m[0], m[2], m[0], v[1], m[1], m[2], m[1], v[2], m[0], m[1], m[2]});
      continue;
    }
    if (splits == 0) {
      out.insert(out.end(), {v[0], v[1], v[2]});
      continue;
    }
    // Rotate (keeping the winding) so that edge 0 (v0 -> v1) is split and, with two
    // splits, edge 2 (v2 -> v0) is the one left whole.
    for (int r = 0; r < 3 && !(m[0] >= 0 && (splits == 1 || m[2] < 0)); ++r) {
      std::rotate(v, v + 1, v + 3);
      std::rotate(m, m + 1, m + 3);
    }
    if (splits == 1)
      out.insert(out.end(), {v[0], m[0], v[2], m[0], v[1], v[2]});
    else
      out.insert(out.end(), {m[0], v[1], m[1], v[0], m[0], m[1], v[0], m[1], v[2]});
  }
  indices = std::move(out);
  return true;
}

}  // namespace

BulletArena::BulletArena() {
  const SurfaceGrid grid;
  std::vector<Vec3> verts;
  const std::vector<int> cell_vertex = place_vertices(grid, verts);
  indices_ = connect_quads(grid, cell_vertex, verts);
  for (int pass = 0; pass < 6; ++pass)
    if (!refine_once(verts, indices_)) break;
  vertices_.reserve(verts.size() * 3);
  for (const Vec3& p : verts)
    vertices_.insert(vertices_.end(), {static_cast<float>(p.x), static_cast<float>(p.y), static_cast<float>(p.z)});
  mesh_ = std::make_unique<btTriangleIndexVertexArray>(
      static_cast<int>(indices_.size() / 3), indices_.data(), static_cast<int>(3 * sizeof(int)),
      static_cast<int>(verts.size()), vertices_.data(), static_cast<int>(3 * sizeof(float)));
  shape_ = std::make_unique<btBvhTriangleMeshShape>(mesh_.get(), /*useQuantizedAabbCompression=*/true);
}

BulletArena::~BulletArena() = default;

const BulletArena& BulletArena::shared() {
  static const BulletArena arena;
  return arena;
}

std::array<Vec3, 3> BulletArena::triangle(size_t k) const {
  std::array<Vec3, 3> t;
  for (size_t c = 0; c < 3; ++c) {
    const auto v = static_cast<size_t>(indices_[3 * k + c]) * 3;
    t[c] = {vertices_[v], vertices_[v + 1], vertices_[v + 2]};
  }
  return t;
}

bool BulletArena::contact(const Vec3& centre, double radius, ArenaContact& out) const {
  NearestTriangle cb;
  cb.centre = centre;
  const auto r = static_cast<btScalar>(radius);
  const btVector3 c(static_cast<btScalar>(centre.x), static_cast<btScalar>(centre.y), static_cast<btScalar>(centre.z));
  shape_->processAllTriangles(&cb, c - btVector3(r, r, r), c + btVector3(r, r, r));
  if (cb.best > radius * radius) return false;
  const double dist = std::sqrt(cb.best);
  const Vec3 away = centre - cb.point;
  const bool outside = away.dot(cb.face_normal) < 0;
  out.distance = outside ? -dist : dist;
  if (dist > 1e-12)
    out.normal = away * ((outside ? -1.0 : 1.0) / dist);
  else
    out.normal = cb.face_normal.normalized();
  return true;
}

BulletBodies::BulletBodies(int num_robots) : broadphase_(std::make_unique<btDbvtBroadphase>()) {
  for (int i = 0; i <= num_robots; ++i) {
    const btVector3 lo(1e4f + static_cast<float>(10 * i), 0, 0), hi = lo + btVector3(1, 1, 1);
    proxies_.push_back(broadphase_->createProxy(lo, hi, SPHERE_SHAPE_PROXYTYPE,
                                                reinterpret_cast<void*>(static_cast<intptr_t>(i + 1)), 1, 1, nullptr));
  }
}

BulletBodies::~BulletBodies() {
  for (auto* p : proxies_) broadphase_->destroyProxy(p, nullptr);
}

const std::vector<std::pair<int, int>>& BulletBodies::candidate_pairs(const GameState& s, double margin) {
  const int n = s.num_robots;
  auto set = [&](int k, const Vec3& p, double r) {
    const auto e = static_cast<btScalar>(r + margin);
    const btVector3 c(static_cast<btScalar>(p.x), static_cast<btScalar>(p.y), static_cast<btScalar>(p.z));
    broadphase_->setAabb(proxies_[static_cast<size_t>(k)], c - btVector3(e, e, e), c + btVector3(e, e, e), nullptr);
  };
  for (int i = 0; i < n; ++i)
    set(i, s.robots[static_cast<size_t>(i)].position, s.robots[static_cast<size_t>(i)].radius);
  set(n, s.ball.position, s.ball.radius);
  broadphase_->calculateOverlappingPairs(nullptr);
  pairs_.clear();
  btBroadphasePairArray& arr = broadphase_->getOverlappingPairCache()->getOverlappingPairArray();
  for (int k = 0; k < arr.size(); ++k) {
    const auto a = static_cast<int>(reinterpret_cast<intptr_t>(arr[k].m_pProxy0->m_clientObject)) - 1;
    const auto b = static_cast<int>(reinterpret_cast<intptr_t>(arr[k].m_pProxy1->m_clientObject)) - 1;
    // Bullet keeps pairs whose bounds stopped overlapping until it next cleans up; those
    // are harmless: the exact test follows.
    const int hi = std::max(a, b), lo = std::min(a, b);
    if (hi == n)
      pairs_.emplace_back(lo, -1);
    else
      pairs_.emplace_back(hi, lo);
  }
  return pairs_;
}

}  // namespace ludus::codeball
