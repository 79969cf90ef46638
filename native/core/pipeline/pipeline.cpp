#include "core/pipeline/pipeline.h"

#include "core/common/clock.h"
#include "core/pipeline/stream.h"

namespace camtrack::pipeline {
namespace {

batch::BatcherConfig BatcherConfigOf(const ModelConfig& model, const BatchingConfig& batching) {
  batch::BatcherConfig c;
  c.batch_size = model.batch_size;
  c.fixed_batch = model.fixed_batch;
  c.input_elems_per_image = size_t(3) * model.input.width * model.input.height;
  c.output_elems_per_image = model.output_elems_per_image;
  c.max_wait_ms = batching.max_wait_ms;
  c.target_latency_ms = batching.target_latency_ms;
  return c;
}

const ModelConfig& Checked(const ModelConfig& model) {
  CAMTRACK_CHECK(model.batch_size >= 1, ErrorCode::kInvalidArgument, "pipeline", "batch size must be >= 1");
  CAMTRACK_CHECK(model.output_elems_per_image > 0, ErrorCode::kInvalidArgument, "pipeline",
                 "model output size unknown");
  return model;
}

}  // namespace

Pipeline::Pipeline(ModelConfig model, BatchingConfig batching, EventSink* sink, IngestConfig ingest)
    : model_(Checked(model)),
      batching_(batching),
      ingest_(ingest),
      ring_(batching_.result_capacity, model_.parser.max_detections, sink),
      pacer_(ingest_.reconnect_rate_per_second, ingest_.reconnect_burst),
      batcher_(BatcherConfigOf(model_, batching_)),
      breaker_(batching_.breaker),
      post_(model_, batcher_, ring_, stats_, breaker_) {
  post_.Start();
}

Pipeline::~Pipeline() { Stop(); }

int Pipeline::AddWorker(std::shared_ptr<infer::InferenceWorker> worker, batch::Pool pool) {
  return batcher_.AddWorker(std::move(worker), pool);
}

Pipeline::Completion Pipeline::CompleteBatch(int worker, int local_slot, bool ok, const std::string& error) {
  return batcher_.CompleteBatch(worker, local_slot, ok, error);
}

void Pipeline::RetireWorker(int worker, const std::string& why) {
  batcher_.RetireWorker(worker, why);
  // A postprocess thread blocked on a full result ring for one of its images is released (Acquire's abandon).
  ring_.WakeWaiters();
}

int32_t Pipeline::AddStream(StreamConfig config) {
  const decode::LiveMode live_mode = config.source.live;
  // A pushed stream is a camera unless it is lossless (kFile): 'auto' means live for it.
  const bool live = config.push                              ? live_mode != decode::LiveMode::kFile
                    : live_mode == decode::LiveMode::kAuto ? decode::IsLiveUrl(config.source.url)
                                                           : live_mode == decode::LiveMode::kLive;
  config.source.live = live ? decode::LiveMode::kLive : decode::LiveMode::kFile;  // the demuxer/decoder agree
  if (config.push) config.push->live = live;
  StreamServices services;
  services.batcher = &batcher_;
  services.ring = &ring_;
  services.post = &post_;
  services.stats = &stats_;
  services.pacer = &pacer_;
  services.model = &model_;
  services.ingest = &ingest_;
  services.breaker = &breaker_;
  services.breaker_fallback = batching_.breaker_fallback;
  const bool high_priority = config.high_priority;
  std::shared_ptr<Stream> s;
  {
    std::lock_guard<std::mutex> lock(streams_mu_);
    CAMTRACK_CHECK(!stopped_, ErrorCode::kInvalidState, "pipeline", "pipeline is stopped");
    s = std::make_shared<Stream>(next_handle_++, std::move(config), live, services);
    streams_[s->handle] = s;
  }
  batcher_.SetPriority(*s, high_priority);
  batcher_.Join(*s);
  s->Start();
  return s->handle;
}

void Pipeline::ConfigureStream(int32_t handle, const LiveConfig& config) {
  std::shared_ptr<Stream> s;
  {
    std::lock_guard<std::mutex> lock(streams_mu_);
    auto it = streams_.find(handle);
    if (it == streams_.end())
      throw Error(ErrorCode::kInvalidState, "pipeline", "stream " + std::to_string(handle) + " is not running");
    s = it->second;
  }
  s->live_state.Set(config);
}

void Pipeline::ChangeAnalyticsCounts(int32_t handle, CountsCommand cmd) {
  const std::shared_ptr<Stream> s = Find(handle);
  if (!s) throw Error(ErrorCode::kInvalidState, "pipeline", "stream " + std::to_string(handle) + " is not running");
  s->live_state.ChangeCounts(std::move(cmd));
}

std::shared_ptr<Stream> Pipeline::Find(int32_t handle) const {
  std::lock_guard<std::mutex> lock(streams_mu_);
  auto it = streams_.find(handle);
  return it == streams_.end() ? nullptr : it->second;
}

ingest::PushInput::Pushed Pipeline::PushFrame(int32_t handle, int64_t seq, std::unique_ptr<ingest::PushedBytes> bytes,
                                              int64_t pts_ms, bool high) {
  const std::shared_ptr<Stream> s = Find(handle);
  if (!s) throw Error(ErrorCode::kInvalidState, "push", "stream " + std::to_string(handle) + " is not running");
  if (!s->push_input())
    throw Error(ErrorCode::kInvalidState, "push",
                "stream '" + s->config.id + "' is not a pushed stream (input 'push')");
  return s->push_input()->Push(seq, std::move(bytes), pts_ms, high);
}

void Pipeline::EndPush(int32_t handle) {
  const std::shared_ptr<Stream> s = Find(handle);
  if (!s) return;
  if (!s->push_input())
    throw Error(ErrorCode::kInvalidState, "push",
                "stream '" + s->config.id + "' is not a pushed stream (input 'push')");
  s->push_input()->End();
}

bool Pipeline::RequestSnapshot(int32_t handle, bool boxes, int quality) {
  const std::shared_ptr<Stream> s = Find(handle);
  if (!s) throw Error(ErrorCode::kInvalidState, "snapshot", "stream " + std::to_string(handle) + " is not running");
  return s->snapshot.Request(boxes, quality);
}

bool Pipeline::CancelSnapshot(int32_t handle) {
  const std::shared_ptr<Stream> s = Find(handle);
  return s && s->snapshot.Cancel();
}

bool Pipeline::TakeSnapshot(int32_t handle, const std::function<void(const snapshot::SnapshotView&)>& take) {
  const std::shared_ptr<Stream> s = Find(handle);
  if (!s) return false;
  snapshot::SnapshotView v;
  if (!s->snapshot.Ready(&v)) return false;
  try {
    take(v);
  } catch (...) {
    s->snapshot.Release();
    throw;
  }
  s->snapshot.Release();
  return true;
}

void Pipeline::SetStreamPaused(int32_t handle, bool paused) {
  std::shared_ptr<Stream> s;
  {
    std::lock_guard<std::mutex> lock(streams_mu_);
    auto it = streams_.find(handle);
    if (it == streams_.end()) return;
    s = it->second;
  }
  s->runner().SetPaused(paused);
}

void Pipeline::RemoveStream(int32_t handle) {
  std::shared_ptr<Stream> s;
  {
    std::lock_guard<std::mutex> lock(streams_mu_);
    auto it = streams_.find(handle);
    if (it == streams_.end()) return;
    s = it->second;
    streams_.erase(it);
  }
  s->removed.store(true);
  batcher_.Leave(*s);
  s->RequestStop();
  s->Join();
}

void Pipeline::Stop() {
  std::vector<std::shared_ptr<Stream>> streams;
  {
    std::lock_guard<std::mutex> lock(streams_mu_);
    if (stopped_) return;
    stopped_ = true;
    for (auto& [h, s] : streams_) streams.push_back(s);
  }
  // 1. Stop sources: no new frames enter.
  for (auto& s : streams) s->RequestStop();
  for (auto& s : streams) s->Join();
  // 2. Close the batcher; let in-flight batches finish (bounded: a worker that never answers is abandoned).
  batcher_.Close();
  ring_.Stop();
  // 3. Join our threads.
  batcher_.JoinDispatcher();
  post_.Join();
  for (auto& s : streams) batcher_.Leave(*s);
  std::lock_guard<std::mutex> lock(streams_mu_);
  streams_.clear();
}

void Pipeline::DrainEvents(std::vector<FrameResult*>& results, std::vector<StreamEvent>& events) {
  ring_.Drain(results, events);
}

void Pipeline::ReleaseResults(const std::vector<FrameResult*>& results) { ring_.Release(results); }

PipelineStatsSnapshot Pipeline::Stats() const {
  PipelineStatsSnapshot out;
  out.batch_size = model_.batch_size;
  std::vector<std::shared_ptr<Stream>> streams;
  {
    std::lock_guard<std::mutex> lock(streams_mu_);
    for (const auto& [h, s] : streams_) streams.push_back(s);
  }
  out.in_flight = batcher_.in_flight();
  out.batching = batcher_.batching_state();
  stats_.Fill(out);
  out.breaker_state = infer::BreakerStateName(breaker_.state());
  out.breaker_opens = breaker_.opens();
  out.breaker_fallback = batching_.breaker_fallback;
  out.result_waits = ring_.result_waits();
  const int64_t now = SteadyNowNs();
  out.streams.reserve(streams.size());
  for (const auto& s : streams) out.streams.push_back(s->Snapshot(now));
  return out;
}

std::optional<StreamStatsSnapshot> Pipeline::StreamStats(int32_t handle) const {
  std::shared_ptr<Stream> s;
  {
    std::lock_guard<std::mutex> lock(streams_mu_);
    auto it = streams_.find(handle);
    if (it == streams_.end()) return std::nullopt;
    s = it->second;
  }
  return s->Snapshot(SteadyNowNs());
}

}  // namespace camtrack::pipeline
