#include "core/track/kalman_filter.h"

#include <cmath>

namespace camtrack {
namespace track {

namespace {
inline float Sq(float v) { return v * v; }
}  // namespace

KalmanFilter::KalmanFilter(float std_weight_position, float std_weight_velocity)
    : std_weight_position_(std_weight_position), std_weight_velocity_(std_weight_velocity) {}

void KalmanFilter::Initiate(const KalmanMeasurement& z, KalmanMean& mean, KalmanCovariance& cov) const {
  for (int i = 0; i < 4; ++i) {
    mean[i] = z[i];
    mean[i + 4] = 0.f;
  }
  const float h = z[3];
  float sd[8];
  sd[0] = 2 * std_weight_position_ * h;
  sd[1] = 2 * std_weight_position_ * h;
  sd[2] = 1e-2f;
  sd[3] = 2 * std_weight_position_ * h;
  sd[4] = 10 * std_weight_velocity_ * h;
  sd[5] = 10 * std_weight_velocity_ * h;
  sd[6] = 1e-5f;
  sd[7] = 10 * std_weight_velocity_ * h;
  cov.fill(0.f);
  for (int i = 0; i < 8; ++i) cov[i * 8 + i] = Sq(sd[i]);
}

void KalmanFilter::Predict(KalmanMean& mean, KalmanCovariance& cov) const {
  // Process noise uses the height before the step, like the reference.
  const float h = mean[3];
  float q[8];
  q[0] = Sq(std_weight_position_ * h);
  q[1] = Sq(std_weight_position_ * h);
  q[2] = Sq(1e-2f);
  q[3] = Sq(std_weight_position_ * h);
  q[4] = Sq(std_weight_velocity_ * h);
  q[5] = Sq(std_weight_velocity_ * h);
  q[6] = Sq(1e-5f);
  q[7] = Sq(std_weight_velocity_ * h);

  // x' = F x with F = [[I, I], [0, I]].
  for (int i = 0; i < 4; ++i) mean[i] = mean[i] + mean[i + 4];

  // P' = F P F^T + Q. First T = F P (rows 0..3 gain the velocity rows), then T F^T (columns likewise).
  float t[64];
  for (int i = 0; i < 8; ++i) {
    for (int j = 0; j < 8; ++j) t[i * 8 + j] = i < 4 ? cov[i * 8 + j] + cov[(i + 4) * 8 + j] : cov[i * 8 + j];
  }
  for (int i = 0; i < 8; ++i) {
    for (int j = 0; j < 8; ++j) cov[i * 8 + j] = j < 4 ? t[i * 8 + j] + t[i * 8 + j + 4] : t[i * 8 + j];
    cov[i * 8 + i] += q[i];
  }
}

void KalmanFilter::Update(const KalmanMeasurement& z, KalmanMean& mean, KalmanCovariance& cov) const {
  // Projection into measurement space: S = H P H^T + R.
  const float h = mean[3];
  float r[4];
  r[0] = Sq(std_weight_position_ * h);
  r[1] = Sq(std_weight_position_ * h);
  r[2] = Sq(1e-1f);
  r[3] = Sq(std_weight_position_ * h);
  float s[16];
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) s[i * 4 + j] = cov[i * 8 + j];
    s[i * 4 + i] += r[i];
  }

  // Cholesky S = L L^T (S is symmetric positive definite by construction).
  float l[16] = {0};
  for (int j = 0; j < 4; ++j) {
    float d = s[j * 4 + j];
    for (int k = 0; k < j; ++k) d -= l[j * 4 + k] * l[j * 4 + k];
    const float ljj = std::sqrt(d > 0.f ? d : 0.f);
    l[j * 4 + j] = ljj;
    for (int i = j + 1; i < 4; ++i) {
      float v = s[i * 4 + j];
      for (int k = 0; k < j; ++k) v -= l[i * 4 + k] * l[j * 4 + k];
      l[i * 4 + j] = ljj > 0.f ? v / ljj : 0.f;
    }
  }

  // Kalman gain K (8x4) = P H^T S^-1, computed as X = S^-1 B with B = (P H^T)^T (4x8), K = X^T.
  float x[32];
  for (int c = 0; c < 8; ++c) {
    float y[4];
    for (int i = 0; i < 4; ++i) {  // forward: L y = b
      float v = cov[c * 8 + i];    // B[i][c] = (P H^T)[c][i] = P[c][i]
      for (int k = 0; k < i; ++k) v -= l[i * 4 + k] * y[k];
      y[i] = v / l[i * 4 + i];
    }
    for (int i = 3; i >= 0; --i) {  // backward: L^T x = y
      float v = y[i];
      for (int k = i + 1; k < 4; ++k) v -= l[k * 4 + i] * x[k * 8 + c];
      x[i * 8 + c] = v / l[i * 4 + i];
    }
  }
  // k[i][r] = x[r][i]
  float innovation[4];
  for (int i = 0; i < 4; ++i) innovation[i] = z[i] - mean[i];
  for (int i = 0; i < 8; ++i) {
    float v = 0.f;
    for (int rr = 0; rr < 4; ++rr) v += innovation[rr] * x[rr * 8 + i];
    mean[i] += v;
  }

  // P' = P - K S K^T, evaluated as (K S) K^T like the reference.
  float ks[32];
  for (int i = 0; i < 8; ++i) {
    for (int j = 0; j < 4; ++j) {
      float v = 0.f;
      for (int rr = 0; rr < 4; ++rr) v += x[rr * 8 + i] * s[rr * 4 + j];
      ks[i * 4 + j] = v;
    }
  }
  for (int i = 0; i < 8; ++i) {
    for (int j = 0; j < 8; ++j) {
      float v = 0.f;
      for (int rr = 0; rr < 4; ++rr) v += ks[i * 4 + rr] * x[rr * 8 + j];
      cov[i * 8 + j] -= v;
    }
  }
}

}  // namespace track
}  // namespace camtrack
