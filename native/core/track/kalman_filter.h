#pragma once
// camtrack::track::KalmanFilter — the 8-dimensional constant-velocity Kalman filter of SORT/DeepSORT/ByteTrack.
//
// State (mean) is (cx, cy, a, h, vcx, vcy, va, vh): box centre, aspect ratio a = w/h, height, and their velocities.
// The measurement is (cx, cy, a, h). The noise model is the reference one (std weights 1/20 for position and 1/160
// for velocity, both scaled by the box height). Arithmetic is single precision, like the official ByteTrack C++
// implementation (Eigen float matrices), so the states agree with it to well below a pixel.
//
// Ownership: plain fixed-size arrays owned by the caller (one mean + covariance per track); no heap, no OpenCV/Eigen.
// Thread-safety: the filter object is immutable after construction; its const methods may be called from any
// thread on distinct state arrays.
#include <array>

namespace camtrack {
namespace track {

using KalmanMean = std::array<float, 8>;        // (cx, cy, a, h, vcx, vcy, va, vh)
using KalmanCovariance = std::array<float, 64>;  // 8x8, row-major
using KalmanMeasurement = std::array<float, 4>;  // (cx, cy, a, h)

class KalmanFilter {
 public:
  explicit KalmanFilter(float std_weight_position = 1.f / 20, float std_weight_velocity = 1.f / 160);

  // Starts a track from one measurement: velocities zero, covariance diagonal from the box height.
  void Initiate(const KalmanMeasurement& measurement, KalmanMean& mean, KalmanCovariance& covariance) const;

  // One time step (dt = 1 frame): x' = F x, P' = F P F^T + Q(h).
  void Predict(KalmanMean& mean, KalmanCovariance& covariance) const;

  // Corrects the state with a measurement (Cholesky solve of the 4x4 innovation covariance).
  void Update(const KalmanMeasurement& measurement, KalmanMean& mean, KalmanCovariance& covariance) const;

 private:
  float std_weight_position_;
  float std_weight_velocity_;
};

}  // namespace track
}  // namespace camtrack
