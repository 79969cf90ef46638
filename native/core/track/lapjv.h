#pragma once
// camtrack::track::LinearAssignment — minimum-cost rectangular assignment with a cost limit, solved with the
// Jonker-Volgenant algorithm (LAPJV: column reduction, two rounds of augmenting row reduction, then shortest
// augmenting paths). It reproduces the semantics that ByteTrack uses through `lap.lapjv(cost, extend_cost=True,
// cost_limit=thresh)`: the rows x cols matrix is embedded in an (rows+cols)^2 square matrix whose extra entries are
// cost_limit/2 (and 0 in the dummy-dummy block), so a pair is only matched when that beats leaving both unmatched.
// The steps and their tie-breaking follow the published algorithm as implemented by the reference, so the chosen
// matching is the same as the reference's, ties included.
//
// Ownership: LapjvSolver owns its scratch buffers; they grow to the largest problem seen and are then reused, so a
// steady-state call does not allocate. Thread-safety: none; one solver per tracker (per stream thread).
#include <cstddef>
#include <vector>

namespace camtrack {
namespace track {

struct Match {
  int row;
  int col;
};

class LapjvSolver {
 public:
  // Solves the assignment for `cost` (rows x cols, row-major floats). Results are appended to the cleared output
  // vectors: `matches` in row order, `unmatched_rows` and `unmatched_cols` ascending. With rows or cols == 0
  // everything is unmatched. Throws camtrack::Error(kInternal) if the solver fails (a bug).
  void Solve(const float* cost, int rows, int cols, float cost_limit, std::vector<Match>& matches,
             std::vector<int>& unmatched_rows, std::vector<int>& unmatched_cols);

  // Square dense LAPJV on an n x n row-major matrix: x[i] = column of row i, y[j] = row of column j.
  // Returns 0 on success. Exposed for tests.
  int SolveSquare(int n, const double* cost, int* x, int* y);

 private:
  int ColumnReduction(int n, const double* cost, int* free_rows, int* x, int* y, double* v);
  int AugmentingRowReduction(int n, const double* cost, int n_free_rows, int* free_rows, int* x, int* y, double* v);
  int FindPath(int n, const double* cost, int start_row, int* y, double* v, int* pred);
  int Augment(int n, const double* cost, int n_free_rows, const int* free_rows, int* x, int* y, double* v);

  std::vector<double> square_;  // (rows+cols)^2 extended cost matrix
  std::vector<int> x_, y_, free_rows_, pred_, cols_;
  std::vector<double> v_, d_;
  std::vector<char> unique_;
};

}  // namespace track
}  // namespace camtrack
