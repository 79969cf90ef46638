#include "core/decode/demuxer.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "core/common/clock.h"
#include "core/common/error.h"
#include "core/common/redact.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavcodec/bsf.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/avstring.h>
#include <libavutil/error.h>
}

namespace camtrack::decode {
namespace {

std::string AvErrorString(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof(buf));
  return buf;
}

bool StartsWith(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

const AVCodecParameters* StreamPar(const AVFormatContext* fmt, int index) {
  return fmt && index >= 0 ? fmt->streams[index]->codecpar : nullptr;
}

}  // namespace

bool IsLiveUrl(const std::string& url) {
  return StartsWith(url, "rtsp://") || StartsWith(url, "rtsps://") || StartsWith(url, "rtp://") ||
         StartsWith(url, "udp://") || StartsWith(url, "srt://") || StartsWith(url, "rtmp://") ||
         StartsWith(url, "tcp://");
}

constexpr const char* kOpenTimeoutHint =
    "the server accepted the connection but did not answer within openTimeoutMs: check that the URL points to an "
    "RTSP server/camera (port, scheme) and that it is not overloaded, or raise openTimeoutMs";

// Classifies an open error: what a user must fix differs (address, mount, credentials, a hung server).
const char* OpenReason(int err, bool timed_out) {
  if (timed_out) return "timeout";
  if (err == AVERROR_HTTP_UNAUTHORIZED || err == AVERROR_HTTP_FORBIDDEN) return "unauthorized";
  if (err == AVERROR_HTTP_NOT_FOUND || err == AVERROR(ENOENT)) return "not_found";
  if (err == AVERROR(ECONNREFUSED)) return "refused";
  if (err == AVERROR(EHOSTUNREACH) || err == AVERROR(ENETUNREACH) || err == AVERROR(EHOSTDOWN)) return "unreachable";
  if (err == AVERROR(ETIMEDOUT) || err == AVERROR_EXIT) return "timeout";
  return "open_failed";
}

Demuxer::Demuxer(SourceOptions options) : options_(std::move(options)) {
  live_ = options_.live == LiveMode::kAuto ? IsLiveUrl(options_.url) : options_.live == LiveMode::kLive;
  pts_offset_ms_ = options_.start_pts_ms;
}

Demuxer::~Demuxer() { Close(); }

void Demuxer::Close() noexcept {
  if (bsf_) av_bsf_free(&bsf_);
  if (out_pkt_) av_packet_free(&out_pkt_);
  if (fmt_) avformat_close_input(&fmt_);
  if (pkt_) av_packet_free(&pkt_);
}

int Demuxer::InterruptCallback(void* opaque) noexcept {
  auto* self = static_cast<Demuxer*>(opaque);
  if (self->interrupted_.load(std::memory_order_relaxed)) return 1;
  const int64_t deadline = self->io_deadline_ns_.load(std::memory_order_relaxed);
  if (deadline == 0 || SteadyNowNs() <= deadline) return 0;
  self->deadline_fired_.store(true, std::memory_order_relaxed);
  return 1;
}

void Demuxer::Fail(ErrorCode code, int err, const char* what, const char* hint, const char* reason) {
  reason_ = interrupted() ? "interrupted" : reason;
  std::string msg = std::string(what) + " " + RedactUrl(options_.url) + ": " + AvErrorString(err);
  if (interrupted()) msg += " (interrupted)";
  throw Error(code, "source", RedactIn(msg, options_.url), hint, err);
}

void Demuxer::Open() {
  fmt_ = avformat_alloc_context();
  fmt_->interrupt_callback.callback = &Demuxer::InterruptCallback;
  fmt_->interrupt_callback.opaque = this;
  AVDictionary* opts = nullptr;
  const bool is_rtsp = StartsWith(options_.url, "rtsp://") || StartsWith(options_.url, "rtsps://");
  if (is_rtsp) {
    av_dict_set(&opts, "rtsp_transport", options_.rtsp_transport.c_str(), 0);
    // Socket-level timeout (µs) in addition to our deadline, so a server that accepts and never answers is bounded.
    av_dict_set(&opts, "timeout", std::to_string(int64_t(options_.open_timeout_ms) * 1000).c_str(), 0);
  } else if (StartsWith(options_.url, "http://") || StartsWith(options_.url, "https://")) {
    av_dict_set(&opts, "rw_timeout", std::to_string(int64_t(options_.read_timeout_ms) * 1000).c_str(), 0);
    av_dict_set(&opts, "reconnect", "0", 0);
  }
  // No `fflags nobuffer` for live inputs: it discards the packets read while probing, i.e. the first keyframe,
  // and then nothing decodes until the next one (seconds of a long-GOP camera lost at every connect).
  io_deadline_ns_.store(SteadyNowNs() + int64_t(options_.open_timeout_ms) * 1000000, std::memory_order_relaxed);
  std::string url = options_.url;
  if (StartsWith(url, "file://")) url = url.substr(7);
  const int64_t open_deadline = io_deadline_ns_.load(std::memory_order_relaxed);
  // FFmpeg checks the list after probing and before the demuxer reads anything (a text file would otherwise be
  // read by the `tty` demuxer as ANSI-art "video"; a playlist demuxer would open more URLs).
  if (!options_.input_formats.empty()) fmt_->format_whitelist = av_strdup(options_.input_formats.c_str());
  int err = avformat_open_input(&fmt_, url.c_str(), nullptr, &opts);
  av_dict_free(&opts);
  if (err < 0) {
    const bool timed_out = SteadyNowNs() >= open_deadline;
    // avformat_open_input frees fmt_ on failure.
    fmt_ = nullptr;
    if (err == AVERROR(EINVAL) && !options_.input_formats.empty()) ThrowIfFormatRefused(url, err);
    if (timed_out && !interrupted()) {
      // FFmpeg's own text for an interrupted open ("Invalid data found when processing input") says nothing useful.
      reason_ = "timeout";
      throw Error(ErrorCode::kSourceOpen, "source",
                  "no answer within openTimeoutMs (" + std::to_string(options_.open_timeout_ms) + " ms) from " +
                      RedactUrl(options_.url),
                  kOpenTimeoutHint, err);
    }
    const char* hint = is_rtsp ? "check that the camera/server is reachable, the path (mount) exists and the "
                                 "credentials are right; try rtspTransport 'udp' if the server has no TCP"
                               : "check the path or URL; files must exist and be readable";
    const char* reason = OpenReason(err, timed_out);
    if (!std::strcmp(reason, "unauthorized"))
      hint = "the server rejected the credentials: put user:password in the URL (rtsp://user:pass@host/path)";
    else if (!std::strcmp(reason, "not_found") && is_rtsp)
      hint = "the server has no such path (mount); check the URL's path";
    else if (!std::strcmp(reason, "timeout"))
      hint = kOpenTimeoutHint;
    else if (err == AVERROR_INVALIDDATA && !is_rtsp)
      hint = "the input is not a video this FFmpeg can read, or it is truncated (e.g. an MP4 cut before its index, "
             "the moov box, was written: record with faststart or let the writer finish)";
    Fail(ErrorCode::kSourceOpen, err, "cannot open", hint, reason);
  }
  err = avformat_find_stream_info(fmt_, nullptr);
  if (err < 0)
    Fail(ErrorCode::kSourceOpen, err, "cannot read stream info from", "is this a video?",
            SteadyNowNs() >= open_deadline ? "timeout" : "open_failed");
  const AVCodec* codec = nullptr;
  stream_index_ = av_find_best_stream(fmt_, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  if (stream_index_ < 0 || !codec) {
    Fail(ErrorCode::kSourceOpen, stream_index_ < 0 ? stream_index_ : AVERROR_DECODER_NOT_FOUND,
            "no decodable video stream in", "the input has no video track, or its codec is not supported by this FFmpeg",
            "no_video");
  }
  AVStream* st = fmt_->streams[stream_index_];
  // Only the video stream is demuxed; audio/data packets are discarded inside libavformat.
  for (unsigned i = 0; i < fmt_->nb_streams; ++i)
    if (int(i) != stream_index_) fmt_->streams[i]->discard = AVDISCARD_ALL;
  if (options_.packets_only) {
    // Packet mode: an Annex-B filter for H.264 / HEVC (other codecs are the caller's to refuse: it checks
    // codec_name() and calls VideoSource::SwitchToCpuDecode()).
    const AVCodecID id = st->codecpar->codec_id;
    if (id == AV_CODEC_ID_H264 || id == AV_CODEC_ID_HEVC) {
      const AVBitStreamFilter* f = av_bsf_get_by_name(id == AV_CODEC_ID_H264 ? "h264_mp4toannexb" : "hevc_mp4toannexb");
      err = f ? av_bsf_alloc(f, &bsf_) : AVERROR_BSF_NOT_FOUND;
      if (err >= 0) err = avcodec_parameters_copy(bsf_->par_in, st->codecpar);
      if (err >= 0) {
        bsf_->time_base_in = st->time_base;
        err = av_bsf_init(bsf_);
      }
      if (err < 0)
        Fail(ErrorCode::kDecode, err, "cannot set up the Annex-B filter for", "FFmpeg without the "
                "h264_mp4toannexb / hevc_mp4toannexb bitstream filters", "decoder");
    }
    out_pkt_ = av_packet_alloc();
  }
  // Without packet mode, the caller opens a CpuDecoder on stream() right after.
  AVRational fr = av_guess_frame_rate(fmt_, st, nullptr);
  fps_ = (fr.num > 0 && fr.den > 0) ? av_q2d(fr) : 0.0;
  time_base_ms_ = av_q2d(st->time_base) * 1000.0;
  pkt_ = av_packet_alloc();
  io_deadline_ns_.store(0, std::memory_order_relaxed);
  last_frame_ns_ = SteadyNowNs();
}

void Demuxer::ThrowIfFormatRefused(const std::string& url, int err) {
  // What avformat_open_input detected and refused: probe again without opening a demuxer (by name for URL
  // schemes such as rtsp://, else by content).
  AVProbeData pd = {url.c_str(), nullptr, 0, nullptr};
  const AVInputFormat* f = av_probe_input_format(&pd, 0);
  AVIOContext* pb = nullptr;
  const AVIOInterruptCB cb = {&Demuxer::InterruptCallback, this};  // still under the open deadline
  if (!f && avio_open2(&pb, url.c_str(), AVIO_FLAG_READ, &cb, nullptr) >= 0) {
    av_probe_input_buffer2(pb, &f, url.c_str(), nullptr, 0, 0);
    avio_closep(&pb);
  }
  if (!f || av_match_list(f->name, options_.input_formats.c_str(), ',') > 0) return;
  const std::string name = std::string(f->name).substr(0, std::strcspn(f->name, ","));
  reason_ = "format";
  throw Error(ErrorCode::kUnsupported, "source",
              RedactIn("input format '" + name + "' of " + RedactUrl(options_.url) +
                           " is not an accepted video format (inputFormats)",
                       options_.url),
              "camtrack reads video containers, video streams and images (inputFormats, docs/ingest.md); to read "
              "this input anyway add '" + name + "' to the stream's inputFormats",
              err);
}

void Demuxer::LeavePacketMode() {
  if (!options_.packets_only) return;
  if (bsf_) av_bsf_free(&bsf_);
  if (out_pkt_) av_packet_free(&out_pkt_);
  options_.packets_only = false;
}

AVStream* Demuxer::stream() const noexcept {
  return fmt_ && stream_index_ >= 0 ? fmt_->streams[stream_index_] : nullptr;
}

int Demuxer::width() const noexcept {
  const AVCodecParameters* par = StreamPar(fmt_, stream_index_);
  return par ? par->width : 0;
}
int Demuxer::height() const noexcept {
  const AVCodecParameters* par = StreamPar(fmt_, stream_index_);
  return par ? par->height : 0;
}
const char* Demuxer::codec_name() const noexcept {
  const AVCodecParameters* par = StreamPar(fmt_, stream_index_);
  return par ? avcodec_get_name(par->codec_id) : "";
}
bool Demuxer::colour_bt709() const noexcept {
  const AVCodecParameters* par = StreamPar(fmt_, stream_index_);
  return par && par->color_space == AVCOL_SPC_BT709;
}
bool Demuxer::colour_full_range() const noexcept {
  const AVCodecParameters* par = StreamPar(fmt_, stream_index_);
  return par && (par->color_range == AVCOL_RANGE_JPEG || par->format == AV_PIX_FMT_YUVJ420P);
}
bool Demuxer::yuv420_8bit() const noexcept {
  const AVCodecParameters* par = StreamPar(fmt_, stream_index_);
  return par && (par->format == AV_PIX_FMT_NONE || par->format == AV_PIX_FMT_YUV420P ||
                 par->format == AV_PIX_FMT_YUVJ420P);
}
const uint8_t* Demuxer::extradata(size_t* size) const noexcept {
  const AVCodecParameters* par = bsf_ ? bsf_->par_out : nullptr;
  *size = par && par->extradata ? size_t(par->extradata_size) : 0;
  return *size ? par->extradata : nullptr;
}

bool Demuxer::SeekToStart() {
  if (av_seek_frame(fmt_, stream_index_, 0, AVSEEK_FLAG_BACKWARD) < 0 &&
      avformat_seek_file(fmt_, -1, INT64_MIN, 0, 0, 0) < 0)
    return false;
  if (bsf_) av_bsf_flush(bsf_);
  pts_offset_ms_ = last_pts_ms_ + (fps_ > 0 ? int64_t(1000.0 / fps_) : 40);
  origin_pts_ = AV_NOPTS_VALUE;  // re-anchor on the first frame after the seek
  frames_out_ = 0;
  pass_packets_ = 0;
  return true;
}

// Times are relative to the first timestamped frame (not the stream's start_time, which RTSP sets from the first
// packet and can lie after the first frames). Frames without a timestamp advance by one frame interval; the first
// timestamp is anchored so that time keeps going forward across that switch.
void Demuxer::StampFrame(int64_t pts) {
  const int64_t interval_ms = fps_ > 0 ? int64_t(1000.0 / fps_) : 40;
  if (pts != AV_NOPTS_VALUE) {
    if (origin_pts_ == AV_NOPTS_VALUE) {
      const int64_t anchor_ms = frames_out_ > 0 ? last_pts_ms_ + interval_ms : pts_offset_ms_;
      origin_pts_ = pts - int64_t(double(anchor_ms - pts_offset_ms_) / time_base_ms_);
    }
    last_pts_ms_ = pts_offset_ms_ + int64_t(double(pts - origin_pts_) * time_base_ms_);
  } else {
    last_pts_ms_ = frames_out_ > 0 ? last_pts_ms_ + interval_ms : pts_offset_ms_;
  }
  ++frames_out_;
  last_frame_ns_ = SteadyNowNs();
  counters_.decoded.fetch_add(1, std::memory_order_relaxed);
}

int Demuxer::ReadPacket(int64_t stall_ns) {
  // The read is bounded by readTimeoutMs and, for live inputs, by the stall watchdog's deadline.
  int64_t deadline = SteadyNowNs() + int64_t(options_.read_timeout_ms) * 1000000;
  if (stall_ns > 0) deadline = std::min(deadline, last_frame_ns_ + stall_ns);
  // av_read_frame() swallows a read that our deadline interrupted when its parser still holds an access unit: it
  // flushes the parser and returns that packet (libavformat's read_frame_internal), and the error is gone. The time-out
  // happened all the same, so the next read keeps the expired deadline: it fails at once unless FFmpeg has more
  // packets buffered. Without this a stalled RTSP camera was noticed after 2 × readTimeoutMs, not 1× (measured through
  // the fault proxy: 2014, 4045 and 8082 ms for readTimeoutMs 1000, 2000 and 4000; docs/reliability.md).
  if (expired_deadline_ns_ != 0) deadline = std::min(deadline, expired_deadline_ns_);
  deadline_fired_.store(false, std::memory_order_relaxed);
  io_deadline_ns_.store(deadline, std::memory_order_relaxed);
  int err = av_read_frame(fmt_, pkt_);
  io_deadline_ns_.store(0, std::memory_order_relaxed);
  expired_deadline_ns_ = err >= 0 && deadline_fired_.load(std::memory_order_relaxed) ? deadline : 0;
  if (err < 0 && !interrupted() && stall_ns > 0 && SteadyNowNs() - last_frame_ns_ > stall_ns) ThrowStalled();
  const bool at_end = fmt_->pb && avio_feof(fmt_->pb);
  if (err < 0 && !live_ && at_end && fmt_->pb->error < 0 && fmt_->pb->error != AVERROR_EOF) {
    err = fmt_->pb->error;  // an I/O error (EIO…), not the end of the file: fail below
  } else if (err == AVERROR_EOF || (err < 0 && at_end && !live_)) {
    // A file ends early (cut copy, recording still being written, disk full) when the demuxer had to read past
    // its last byte (a clean end of an indexed container such as MP4 or AVI never does) and the last packet came
    // short (av_get_packet flags it corrupt), the index promised more packets, or the demuxer failed there.
    // Measured on FFmpeg 5.1: an MP4 cut inside mdat gives a short last packet + AVERROR_EOF with feof set; a
    // complete MP4/AVI gives AVERROR_EOF without feof. Formats without an index (MPEG-TS, Matroska, raw H.264)
    // cut between packets look like a clean end: that cannot be told apart.
    const int64_t promised = fmt_->streams[stream_index_]->nb_frames;
    truncated_ = !live_ && at_end &&
                 (err != AVERROR_EOF || last_packet_corrupt_ || (promised > 0 && pass_packets_ < promised));
    return 0;
  }
  if (err < 0) {
    if (interrupted()) {
      reason_ = "interrupted";
      throw Error(ErrorCode::kSourceRead, "source", "interrupted", "", err);
    }
    const bool timed_out = SteadyNowNs() >= deadline;
    Fail(ErrorCode::kSourceRead, err, timed_out ? "no data within readTimeoutMs from" : "read failed on",
            live_ ? "the camera stopped sending (timeout or disconnect)" : "the file is truncated or unreadable",
            timed_out ? "read_timeout" : (live_ ? "disconnected" : "read_error"));
  }
  return 1;
}

bool Demuxer::AcceptPacket() {
  if (pkt_->stream_index != stream_index_) {
    av_packet_unref(pkt_);
    return false;
  }
  counters_.packets.fetch_add(1, std::memory_order_relaxed);
  ++pass_packets_;
  last_packet_corrupt_ = pkt_->flags & AV_PKT_FLAG_CORRUPT;
  if (last_packet_corrupt_) counters_.corrupt.fetch_add(1, std::memory_order_relaxed);
  return true;
}

Error Demuxer::TruncationError() const {
  const int64_t promised = fmt_ ? fmt_->streams[stream_index_]->nb_frames : 0;
  std::string msg = "the file ends early (truncated): " + std::to_string(pass_packets_) + " video packets read";
  if (promised > 0) msg += " of the " + std::to_string(promised) + " its index lists";
  if (last_packet_corrupt_) msg += ", the last one cut short or damaged";
  return Error(ErrorCode::kSourceRead, "source", RedactIn(msg + ", from " + RedactUrl(options_.url), options_.url),
               "the file is truncated or unreadable (an interrupted copy or download, a recording still being "
               "written)",
               AVERROR_EOF);
}

bool Demuxer::NextPacket(const uint8_t** data, size_t* size, int64_t* pts) {
  av_packet_unref(out_pkt_);
  for (;;) {
    const int64_t stall_ns = CheckInterruptAndStall();
    if (bsf_) {
      // One packet in gives at most one out for the mp4toannexb filters; drain what is there first.
      const int err = av_bsf_receive_packet(bsf_, out_pkt_);
      if (err == 0) break;
      if (err == AVERROR_EOF) return false;
      // EAGAIN: feed the next packet.
    }
    if (!ReadPacket(stall_ns)) {
      if (!bsf_) return false;
      av_bsf_send_packet(bsf_, nullptr);  // flush: the filter then reports EOF
      continue;
    }
    if (!AcceptPacket()) continue;
    if (!bsf_) {
      av_packet_move_ref(out_pkt_, pkt_);
      break;
    }
    if (av_bsf_send_packet(bsf_, pkt_) < 0) {
      counters_.corrupt.fetch_add(1, std::memory_order_relaxed);  // a packet the filter cannot parse: skipped
      av_packet_unref(pkt_);
    }
  }
  *data = out_pkt_->data;
  *size = size_t(out_pkt_->size);
  *pts = out_pkt_->pts;
  return true;
}

int64_t Demuxer::CheckInterruptAndStall() {
  if (interrupted()) {
    reason_ = "interrupted";
    throw Error(ErrorCode::kSourceRead, "source", "interrupted", "", 0);
  }
  const int64_t stall_ns = live_ && options_.stall_timeout_ms > 0 ? int64_t(options_.stall_timeout_ms) * 1000000 : 0;
  if (stall_ns > 0 && SteadyNowNs() - last_frame_ns_ > stall_ns) ThrowStalled();
  return stall_ns;
}

void Demuxer::ThrowStalled() {
  reason_ = "stalled";
  throw Error(ErrorCode::kSourceRead, "source",
              "no frame decoded for " + std::to_string(options_.stall_timeout_ms) + " ms from " +
                  RedactUrl(options_.url) + " (stalled)",
              "the camera stopped sending pictures (or sends data that does not decode); stallTimeoutMs decides when",
              0);
}

}  // namespace camtrack::decode
