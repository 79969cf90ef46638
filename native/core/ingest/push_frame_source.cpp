#include "core/ingest/push_frame_source.h"

#include <algorithm>
#include <utility>

#include "core/common/clock.h"
#include "core/preprocess/gray_thumbnail.h"

namespace camtrack::ingest {

const char* PushCodecName(PushCodec codec) noexcept {
  switch (codec) {
    case PushCodec::kJpeg: return "jpeg";
    case PushCodec::kPng: return "png";
    case PushCodec::kH264: return "h264";
    case PushCodec::kHevc: return "hevc";
  }
  return "jpeg";
}

namespace {

bool IsVideo(PushCodec c) { return c == PushCodec::kH264 || c == PushCodec::kHevc; }

const PushOptions& Checked(const PushOptions& o) {
  CAMTRACK_CHECK(o.queue_size >= 1, ErrorCode::kInvalidArgument, "push", "push queue size must be >= 1");
  CAMTRACK_CHECK(o.max_pixels > 0, ErrorCode::kInvalidArgument, "push", "maxPixels must be > 0");
  CAMTRACK_CHECK(o.decoder_threads >= 1, ErrorCode::kInvalidArgument, "push", "decoder threads must be >= 1");
  return o;
}

}  // namespace

// ---- PushInput ------------------------------------------------------------------------------------------------

PushInput::PushInput(PushOptions options) : options_(Checked(options)) {}

PushInput::Pushed PushInput::Push(int64_t seq, std::unique_ptr<PushedBytes> bytes, int64_t pts_ms, bool high) {
  // Frames this push drops (live) are released after the lock: a holder's destructor may take the binding's locks.
  std::deque<PushedFrame> dropped;
  Pushed r;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_)
      throw Error(ErrorCode::kInvalidState, "push", "the stream is no longer running: no frame can be pushed");
    if (ended_) throw Error(ErrorCode::kInvalidState, "push", "end() was called: no frame can be pushed after it");
    if (seq != next_seq_)
      throw Error(ErrorCode::kInternal, "push",
                  "pushed frame number " + std::to_string(seq) + " is out of step (expected " +
                      std::to_string(next_seq_) + ")");
    const size_t cap = size_t(options_.queue_size);
    if (queue_.size() >= cap) {
      if (!options_.live) {
        ++refused_;
        throw Error(ErrorCode::kInvalidState, "push",
                    "the push queue is full (" + std::to_string(cap) + " frames): push() returned false and the "
                    "'drain' event has not come yet",
                    "a lossless pushed stream (live: false) never drops: after push() returns false, wait for the "
                    "stream's 'drain' event before pushing again (or use live: true to keep only the newest frames)");
      }
      if (IsVideo(options_.codec)) {
        // Inter-coded data cannot be thinned out: everything queued goes, and decoding resumes at a keyframe.
        dropped_queue_ += queue_.size();
        dropped.swap(queue_);
        discontinuity_ = true;
      } else {
        dropped_queue_ += 1;
        dropped.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    const int64_t now = SteadyNowNs();
    if (first_push_ns_ < 0) first_push_ns_ = now;
    if (pts_ms < 0) pts_ms = (now - first_push_ns_) / 1000000;
    queue_.push_back(PushedFrame{std::move(bytes), seq, pts_ms, high});
    ++next_seq_;
    ++pushed_;
    r.queued = queue_.size();
    waiting_.store(queue_.size());
    if (!options_.live && queue_.size() >= cap) {
      r.full = true;
      want_drain_ = true;
    }
  }
  cv_.notify_one();
  if (options_.live && on_push_) on_push_();
  return r;
}

void PushInput::End() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ended_ = true;
  }
  cv_.notify_all();
}

void PushInput::Close() {
  std::deque<PushedFrame> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    left.swap(queue_);
    waiting_.store(0);
  }
  cv_.notify_all();
}

PushInput::Take PushInput::Pop(PushedFrame* out, bool* discontinuity) {
  bool drain = false;
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return closed_ || ended_ || !queue_.empty(); });
    if (closed_) return Take::kClosed;
    if (queue_.empty()) return Take::kEnd;
    *out = std::move(queue_.front());
    queue_.pop_front();
    waiting_.store(queue_.size());
    *discontinuity = discontinuity_;
    discontinuity_ = false;
    if (want_drain_ && queue_.size() <= size_t(options_.queue_size) / 2) {
      want_drain_ = false;
      drain = true;
    }
  }
  if (drain && on_drain_) on_drain_();
  return Take::kFrame;
}

void PushInput::CountRejected(decode::FrameFault fault) noexcept {
  const size_t i = size_t(fault);
  if (i < rejected_.size()) rejected_[i].fetch_add(1, std::memory_order_relaxed);
}

PushStats PushInput::Stats() const {
  PushStats s;
  s.codec = options_.codec;
  s.live = options_.live;
  s.queue_size = options_.queue_size;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s.queued = queue_.size();
    s.pushed = pushed_;
    s.refused = refused_;
    s.dropped_queue = dropped_queue_;
  }
  s.dropped_until_keyframe = until_keyframe_.load(std::memory_order_relaxed);
  s.warnings_suppressed = suppressed_.load(std::memory_order_relaxed);
  for (size_t i = 0; i < rejected_.size(); ++i) s.rejected[i] = rejected_[i].load(std::memory_order_relaxed);
  return s;
}

int64_t PushInput::next_seq() const {
  std::lock_guard<std::mutex> lock(mu_);
  return next_seq_;
}

// ---- PushFrameSource ------------------------------------------------------------------------------------------

PushFrameSource::PushFrameSource(std::shared_ptr<PushInput> input, const preprocess::ModelInputSpec& spec,
                                 preprocess::CpuLetterboxer* letterboxer, Connection connection)
    : input_(std::move(input)), spec_(spec), letterboxer_(letterboxer), connection_(std::move(connection)) {
  errors_.reserve(16);
}

PushFrameSource::~PushFrameSource() = default;

void PushFrameSource::Open() {
  const PushOptions& o = input_->options();
  try {
    switch (o.codec) {
      case PushCodec::kJpeg: {
        decode::JpegDecoderOptions jo;
        jo.max_pixels = o.max_pixels;
        jo.keep_damaged = false;           // a damaged frame is an error for that frame (issue 10)
        jo.apply_exif_orientation = true;  // results are in the coordinates of the picture as displayed
        jo.output = decode::JpegOutput::kAuto;
        jpeg_ = std::make_unique<decode::JpegDecoder>(jo);
        break;
      }
      case PushCodec::kPng: {
        decode::PngDecoderOptions po;
        po.max_pixels = o.max_pixels;
        png_ = std::make_unique<decode::PngDecoder>(po);
        break;
      }
      case PushCodec::kH264:
      case PushCodec::kHevc: {
        decode::AnnexBDecoderOptions vo;
        vo.codec = o.codec == PushCodec::kH264 ? decode::VideoCodec::kH264 : decode::VideoCodec::kHevc;
        vo.input = decode::AnnexBInput::kAccessUnits;
        vo.max_pixels = o.max_pixels;
        vo.threads = o.decoder_threads;
        vo.keep_damaged = false;
        video_ = std::make_unique<decode::AnnexBDecoder>(vo);
        break;
      }
    }
  } catch (const Error&) {
    reason_ = "decoder";
    throw;
  }
}

int64_t PushFrameSource::PtsOf(int64_t seq, int64_t fallback, bool* high) {
  for (const RingEntry& e : pts_ring_) {
    if (e.seq == seq) {
      *high = e.high;
      return e.pts_ms;
    }
  }
  *high = false;
  return fallback;
}

void PushFrameSource::SetCurrent(int64_t seq, int64_t pts_ms, bool high) {
  seq_ = seq;
  high_ = high;
  // The runner's time line is monotone (fps limit): a picture never goes back in time, whatever was pushed.
  pts_ms_ = std::max(pts_ms, pts_ms_);
  width_ = current_.info().source_width;
  height_ = current_.info().source_height;
  decoded_.fetch_add(1, std::memory_order_relaxed);
}

bool PushFrameSource::Next() {
  for (;;) {
    if (video_) {
      const bool got = video_->Receive(&current_, &errors_);
      RejectAll();
      if (got) {
        skipping_ = false;
        const int64_t seq = current_.info().tag;
        bool high = false;
        const int64_t pts = PtsOf(seq, pts_ms_, &high);
        SetCurrent(seq, pts, high);
        return true;
      }
      if (flushed_) return false;
    }
    PushedFrame f;
    bool gap = false;
    const PushInput::Take take = input_->Pop(&f, &gap);
    if (take == PushInput::Take::kClosed) {
      reason_ = "interrupted";
      throw Error(ErrorCode::kSourceRead, "source", "interrupted");
    }
    if (take == PushInput::Take::kEnd) {
      if (video_ && !flushed_) {
        video_->Flush(&errors_);  // the pictures still inside the decoder become receivable
        RejectAll();
        flushed_ = true;
        continue;
      }
      return false;
    }
    packets_.fetch_add(1, std::memory_order_relaxed);
    const uint8_t* data = f.bytes ? f.bytes->data() : nullptr;
    const size_t size = f.bytes ? f.bytes->size() : 0;
    if (video_) {
      if (gap) {
        skipping_ = true;
        video_->DropUntilKeyframe(&errors_);
        RejectAll();
      }
      pts_ring_[pts_ring_next_++ % kPtsRing] = RingEntry{f.seq, f.pts_ms, f.high};
      video_->Push(data, size, f.seq, &errors_);  // copies the bytes
      f.bytes.reset();
      RejectAll();
      continue;
    }
    try {
      if (jpeg_)
        jpeg_->Decode(data, size, &spec_, &current_);
      else
        png_->Decode(data, size, &current_);
    } catch (const decode::FrameError& e) {
      f.bytes.reset();
      Reject(e, f.seq);
      continue;
    }
    f.bytes.reset();  // read only during the call
    SetCurrent(f.seq, f.pts_ms, f.high);
    return true;
  }
}

void PushFrameSource::RejectAll() {
  for (const decode::FrameError& e : errors_) Reject(e, e.tag());
  errors_.clear();
}

void PushFrameSource::Reject(const decode::FrameError& e, int64_t seq) {
  if (e.fault() == decode::FrameFault::kUntilKeyframe ||
      (skipping_ && e.fault() == decode::FrameFault::kNoKeyframe)) {
    // Not bad input: the live policy dropped the access units this one was predicted from.
    input_->CountUntilKeyframe();
    return;
  }
  input_->CountRejected(e.fault());
  rejected_.fetch_add(1, std::memory_order_relaxed);
  // Rate limit: a token bucket of kWarnBurst warnings, refilled by one per kWarnIntervalMs.
  const int64_t now = SteadyNowNs();
  if (warn_refill_ns_ == 0) warn_refill_ns_ = now;
  warn_tokens_ = std::min<double>(kWarnBurst, warn_tokens_ + double(now - warn_refill_ns_) / (kWarnIntervalMs * 1e6));
  warn_refill_ns_ = now;
  if (warn_tokens_ < 1) {
    ++warn_suppressed_;
    input_->CountSuppressed();
    return;
  }
  warn_tokens_ -= 1;
  if (!connection_.warn) return;
  SourceWarning w;
  w.code = e.code();
  w.reason = e.reason();
  w.frame = seq;
  w.message = (seq >= 0 ? "pushed frame " + std::to_string(seq) : std::string("a pushed frame")) +
              " dropped: " + e.what();
  if (warn_suppressed_ > 0)
    w.message += " (and " + std::to_string(warn_suppressed_) +
                 " more bad frames since the last warning, not reported one by one)";
  w.hint = !e.hint().empty() ? e.hint()
                             : std::string("the stream goes on with the next frame; stats().push.rejected counts bad "
                                           "frames by reason");
  warn_suppressed_ = 0;
  connection_.warn(w);
}

bool PushFrameSource::GrayThumbnail(int w, int h, uint8_t* out) {
  // The decoded picture may be smaller than the source (JPEG at DCT scale): the cells cover the same proportions.
  return preprocess::GrayThumbnail(current_.frame(), w, h, out);
}

LetterboxInfo PushFrameSource::LetterboxInto(const preprocess::ModelInputSpec& spec, float* dst) {
  return current_.ToSource(letterboxer_->Run(current_.frame(), spec, dst));
}

FrameSourceCounters PushFrameSource::counters() const {
  FrameSourceCounters c;
  c.packets = packets_.load(std::memory_order_relaxed);
  c.decoded = decoded_.load(std::memory_order_relaxed);
  c.corrupt = rejected_.load(std::memory_order_relaxed);
  return c;
}

void PushFrameSource::Interrupt() noexcept { input_->Close(); }

// ---- PushFrameSourceFactory -----------------------------------------------------------------------------------

PushFrameSourceFactory::PushFrameSourceFactory(std::shared_ptr<PushInput> input, const preprocess::ModelInputSpec& spec)
    : input_(std::move(input)), spec_(spec) {}

std::unique_ptr<FrameSource> PushFrameSourceFactory::Create(const Connection& connection) {
  return std::make_unique<PushFrameSource>(input_, spec_, &letterboxer_, connection);
}

}  // namespace camtrack::ingest
