#pragma once
// How a live stream comes back after losing its input: the policy (per stream), the backoff delays it gives, and
// the pipeline-wide reconnect pacer (a token bucket over all streams' reconnect attempts).
#include <cstdint>
#include <mutex>
#include <random>

namespace camtrack::ingest {

// What a live stream does when it loses its input (read error, server gone, EOF, stall). Files never reconnect.
// Complete values from the binding (defaults and ranges: src/config/schema.ts); zero-initialised only so that
// nothing is left indeterminate.
struct ReconnectPolicy {
  int stall_timeout_ms = 0;  // watchdog: no decoded frame for this long while live → stalled (0 = off)
  int initial_delay_ms = 0;  // wait before the first reconnect attempt
  int max_delay_ms = 0;      // cap of the exponential backoff
  double multiplier = 0;     // delay n = initial · multiplier^(n-1), capped
  double jitter = 0;         // 0..1: each delay is shortened by a random fraction in [0, jitter)
  int max_attempts = 0;      // consecutive failed attempts before 'failed' (-1 = forever, 0 = never reconnect)
  // Lag bound (0 = off): a live connection whose frames arrive more than this many ms later, against the camera's
  // own clock (pts), than the earliest frame of the connection did is dropped and reconnected (reason "lag"): what
  // a link slower than the stream's bit rate builds up in kernel and server buffers is shed (StreamRunner).
  int max_lag_ms = 0;
};

// The delays of one stream's policy: exponential in the consecutive failures, capped, jittered. Owned and used by
// one source thread (it holds the random generator).
class Backoff {
 public:
  Backoff(const ReconnectPolicy& policy, uint32_t seed);
  // Milliseconds to wait before the attempt that follows `failures` consecutive failures (>= 1).
  int64_t DelayMs(int failures);

 private:
  const ReconnectPolicy policy_;
  std::mt19937 rng_;
  std::uniform_real_distribution<double> unit_{0.0, 1.0};
};

// Token bucket over all streams' reconnect attempts (first connects are not paced): at most `rate_per_second`
// attempts per second on average, bursts of up to `burst`. rate 0 = unpaced. Keeps a site-wide outage from turning
// into a stampede of simultaneous reconnects when the network comes back. Thread-safe (source threads).
class ReconnectPacer {
 public:
  ReconnectPacer(double rate_per_second, double burst);
  // Takes a token: 0 when one was taken (or pacing is off), else the milliseconds until one will be there (the
  // caller sleeps — interruptibly — and asks again).
  int64_t TryTake();

 private:
  const double rate_, burst_;
  std::mutex mu_;
  double tokens_ = 0;
  int64_t refill_ns_ = 0;
};

}  // namespace camtrack::ingest
