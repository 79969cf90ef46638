#include "core/track/lapjv.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/common/error.h"

namespace camtrack {
namespace track {

namespace {
// "Infinity" of the algorithm's initial dual values. Costs here are IoU distances (0..1, or small penalties), far
// below it. Same constant as the reference so the dual updates are the same.
constexpr double kLarge = 1000000.0;

// Moves the columns with the smallest d[] among cols[lo..n) to cols[lo..hi) and returns hi.
int FindMinColumns(int n, int lo, const double* d, int* cols) {
  int hi = lo + 1;
  double mind = d[cols[lo]];
  for (int k = hi; k < n; ++k) {
    const int j = cols[k];
    if (d[j] <= mind) {
      if (d[j] < mind) {
        hi = lo;
        mind = d[j];
      }
      cols[k] = cols[hi];
      cols[hi++] = j;
    }
  }
  return hi;
}

// Scans the columns cols[lo..hi) (all at distance mind) and relaxes the distances of the columns still to do,
// cols[hi..n). Returns a free column reached at distance mind, or -1 (then *plo/*phi are updated).
int ScanColumns(int n, const double* cost, int* plo, int* phi, double* d, int* cols, int* pred, const int* y,
                const double* v) {
  int lo = *plo;
  int hi = *phi;
  while (lo != hi) {
    int j = cols[lo++];
    const int i = y[j];
    const double mind = d[j];
    const double h = cost[static_cast<size_t>(i) * n + j] - v[j] - mind;
    for (int k = hi; k < n; ++k) {
      j = cols[k];
      const double reduced = cost[static_cast<size_t>(i) * n + j] - v[j] - h;
      if (reduced < d[j]) {
        d[j] = reduced;
        pred[j] = i;
        if (reduced == mind) {
          if (y[j] < 0) return j;
          cols[k] = cols[hi];
          cols[hi++] = j;
        }
      }
    }
  }
  *plo = lo;
  *phi = hi;
  return -1;
}
}  // namespace

int LapjvSolver::ColumnReduction(int n, const double* cost, int* free_rows, int* x, int* y, double* v) {
  for (int i = 0; i < n; ++i) {
    x[i] = -1;
    v[i] = kLarge;
    y[i] = 0;
  }
  for (int i = 0; i < n; ++i) {
    const double* row = cost + static_cast<size_t>(i) * n;
    for (int j = 0; j < n; ++j) {
      if (row[j] < v[j]) {
        v[j] = row[j];
        y[j] = i;
      }
    }
  }
  // Reduction transfer: scan columns from the last one; a row that is the minimum of several columns keeps the
  // first (highest-index) one.
  char* unique = unique_.data();
  for (int i = 0; i < n; ++i) unique[i] = 1;
  for (int j = n - 1; j >= 0; --j) {
    const int i = y[j];
    if (x[i] < 0) {
      x[i] = j;
    } else {
      unique[i] = 0;
      y[j] = -1;
    }
  }
  int n_free = 0;
  for (int i = 0; i < n; ++i) {
    if (x[i] < 0) {
      free_rows[n_free++] = i;
    } else if (unique[i]) {
      const int j = x[i];
      double min = kLarge;
      const double* row = cost + static_cast<size_t>(i) * n;
      for (int j2 = 0; j2 < n; ++j2) {
        if (j2 == j) continue;
        const double c = row[j2] - v[j2];
        if (c < min) min = c;
      }
      v[j] -= min;
    }
  }
  return n_free;
}

int LapjvSolver::AugmentingRowReduction(int n, const double* cost, int n_free_rows, int* free_rows, int* x, int* y,
                                        double* v) {
  long long current = 0;
  int new_free = 0;
  long long rr_cnt = 0;
  while (current < n_free_rows) {
    ++rr_cnt;
    const int free_i = free_rows[current++];
    const double* row = cost + static_cast<size_t>(free_i) * n;
    // Smallest (v1 at j1) and second smallest (v2 at j2) reduced cost of the row.
    int j1 = 0;
    double v1 = row[0] - v[0];
    int j2 = -1;
    double v2 = kLarge;
    for (int j = 1; j < n; ++j) {
      const double c = row[j] - v[j];
      if (c < v2) {
        if (c >= v1) {
          v2 = c;
          j2 = j;
        } else {
          v2 = v1;
          v1 = c;
          j2 = j1;
          j1 = j;
        }
      }
    }
    int i0 = y[j1];
    const double v1_new = v[j1] - (v2 - v1);
    const bool v1_lowers = v1_new < v[j1];
    if (rr_cnt < current * n) {
      if (v1_lowers) {
        v[j1] = v1_new;
      } else if (i0 >= 0 && j2 >= 0) {
        j1 = j2;
        i0 = y[j2];
      }
      if (i0 >= 0) {
        if (v1_lowers) {
          free_rows[--current] = i0;
        } else {
          free_rows[new_free++] = i0;
        }
      }
    } else if (i0 >= 0) {
      free_rows[new_free++] = i0;
    }
    x[free_i] = j1;
    y[j1] = free_i;
  }
  return new_free;
}

int LapjvSolver::FindPath(int n, const double* cost, int start_row, int* y, double* v, int* pred) {
  int* cols = cols_.data();
  double* d = d_.data();
  int lo = 0, hi = 0;
  int final_j = -1;
  int n_ready = 0;
  const double* row = cost + static_cast<size_t>(start_row) * n;
  for (int i = 0; i < n; ++i) {
    cols[i] = i;
    pred[i] = start_row;
    d[i] = row[i] - v[i];
  }
  while (final_j == -1) {
    if (lo == hi) {  // nothing left to scan: take the next set of closest columns
      n_ready = lo;
      hi = FindMinColumns(n, lo, d, cols);
      for (int k = lo; k < hi; ++k) {
        const int j = cols[k];
        if (y[j] < 0) final_j = j;
      }
    }
    if (final_j == -1) final_j = ScanColumns(n, cost, &lo, &hi, d, cols, pred, y, v);
  }
  const double mind = d[cols[lo]];
  for (int k = 0; k < n_ready; ++k) {
    const int j = cols[k];
    v[j] += d[j] - mind;
  }
  return final_j;
}

int LapjvSolver::Augment(int n, const double* cost, int n_free_rows, const int* free_rows, int* x, int* y,
                         double* v) {
  int* pred = pred_.data();
  for (int f = 0; f < n_free_rows; ++f) {
    const int start = free_rows[f];
    int j = FindPath(n, cost, start, y, v, pred);
    if (j < 0 || j >= n) return -1;
    int i = -1;
    int steps = 0;
    while (i != start) {
      i = pred[j];
      y[j] = i;
      std::swap(j, x[i]);
      if (++steps > n) return -1;  // a cycle: cannot happen with a valid predecessor tree
    }
  }
  return 0;
}

int LapjvSolver::SolveSquare(int n, const double* cost, int* x, int* y) {
  if (n <= 0) return 0;
  const size_t un = static_cast<size_t>(n);
  if (free_rows_.size() < un) {
    free_rows_.resize(un);
    pred_.resize(un);
    cols_.resize(un);
    v_.resize(un);
    d_.resize(un);
    unique_.resize(un);
  }
  int* free_rows = free_rows_.data();
  double* v = v_.data();
  int ret = ColumnReduction(n, cost, free_rows, x, y, v);
  for (int round = 0; ret > 0 && round < 2; ++round) ret = AugmentingRowReduction(n, cost, ret, free_rows, x, y, v);
  if (ret > 0) ret = Augment(n, cost, ret, free_rows, x, y, v);
  return ret;
}

void LapjvSolver::Solve(const float* cost, int rows, int cols, float cost_limit, std::vector<Match>& matches,
                        std::vector<int>& unmatched_rows, std::vector<int>& unmatched_cols) {
  matches.clear();
  unmatched_rows.clear();
  unmatched_cols.clear();
  if (rows == 0 || cols == 0) {
    for (int i = 0; i < rows; ++i) unmatched_rows.push_back(i);
    for (int j = 0; j < cols; ++j) unmatched_cols.push_back(j);
    return;
  }
  // Extended square problem: [[C, L/2], [L/2, 0]] with L = cost_limit. Pairing row i with column j costs C[i][j];
  // leaving both unmatched costs L/2 + L/2 (each paired with a dummy).
  const int n = rows + cols;
  const size_t un = static_cast<size_t>(n);
  if (square_.size() < un * un) square_.resize(un * un);
  if (x_.size() < un) {
    x_.resize(un);
    y_.resize(un);
  }
  const double half = static_cast<double>(cost_limit) / 2.0;
  const double forbidden = std::min(kLarge / 4, 2.0 * std::max(1.0, std::fabs(static_cast<double>(cost_limit))) + 1.0);
  double* sq = square_.data();
  for (int i = 0; i < n; ++i) {
    double* row = sq + static_cast<size_t>(i) * n;
    if (i < rows) {
      const float* src = cost + static_cast<size_t>(i) * cols;
      // A non-finite cost (a NaN IoU from a corrupt box) becomes one no optimum takes (above cost_limit, far below
      // kLarge): NaN comparisons would otherwise steer the solver anywhere.
      for (int j = 0; j < cols; ++j) row[j] = std::isfinite(src[j]) ? static_cast<double>(src[j]) : forbidden;
      for (int j = cols; j < n; ++j) row[j] = half;
    } else {
      for (int j = 0; j < cols; ++j) row[j] = half;
      for (int j = cols; j < n; ++j) row[j] = 0.0;
    }
  }
  int* x = x_.data();
  int* y = y_.data();
  if (SolveSquare(n, sq, x, y) != 0) {
    throw Error(ErrorCode::kInternal, "track", "linear assignment (LAPJV) failed to converge",
                "this is a bug in camtrack's tracker; please report it with the detections that caused it");
  }
  for (int i = 0; i < rows; ++i) {
    // A pair above the limit is never optimal (leaving both unmatched costs exactly the limit); the check keeps a
    // non-finite or forbidden cost from ever becoming a match.
    if (x[i] >= 0 && x[i] < cols && cost[static_cast<size_t>(i) * cols + x[i]] <= cost_limit) {
      matches.push_back({i, x[i]});
    } else {
      unmatched_rows.push_back(i);
    }
  }
  for (int j = 0; j < cols; ++j) {
    if (!(y[j] >= 0 && y[j] < rows) || !(cost[static_cast<size_t>(y[j]) * cols + j] <= cost_limit))
      unmatched_cols.push_back(j);
  }
}

}  // namespace track
}  // namespace camtrack
