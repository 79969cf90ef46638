#pragma once
// Demuxer: libavformat input of one URL or file — open (with deadlines, format whitelist), the video stream's packets
// (read deadline, stall watchdog, truncation check), the stream's time line (pts → ms, loops, reconnect offsets), its
// counters, and packet mode: the packets as Annex-B access units for an external decoder (NVDEC). Its siblings
// decode what it reads: CpuDecoder (cpu_decoder.h, libavcodec) and NvdecDecoder (nvdec_decoder.h, through
// GpuFrameSource); VideoSource (video_source.h) puts a Demuxer and a CpuDecoder together as one input.
//
// Ownership/threading: owned and driven by exactly one thread (the stream's source thread). The only method safe to
// call from another thread is Interrupt(), which makes a blocked open/read return promptly; counters() are atomics.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "core/common/error.h"

extern "C" {
struct AVFormatContext;
struct AVPacket;
struct AVBSFContext;
struct AVStream;
}

namespace camtrack::decode {

// Live or file semantics of an input (StreamOptions.live: 'auto' | true | false in src/config/schema.ts).
enum class LiveMode : int {
  kAuto = -1,  // from the URL (IsLiveUrl)
  kFile = 0,   // file semantics: block, no drops
  kLive = 1,   // live semantics: never block, keep the newest frame
};

// Options of one input. The user-facing ones are StreamOptions fields of src/config/schema.ts, which holds their
// defaults and ranges; the binding copies every one (native/binding/pipeline_config.cpp ReadStream), so nothing here
// has a default of its own: a caller in C++ (tests, benchmarks) sets each field.
struct SourceOptions {
  std::string url;                 // rtsp://, http(s)://, file path or file:// URL
  std::string rtsp_transport;      // "tcp" | "udp"
  int open_timeout_ms = 0;         // connect + probe
  int read_timeout_ms = 0;         // no packet for this long → SOURCE_READ error
  bool loop = false;               // files: seek back to the start at EOF
  int decoder_threads = 0;         // libavcodec threads for this stream
  LiveMode live = LiveMode::kAuto;
  // Live only: no decoded frame for this long → Error(kSourceRead) with failure_reason() "stalled", even when
  // packets still arrive (e.g. a camera sending garbage). 0 = off (then only read_timeout_ms applies).
  int stall_timeout_ms = 0;
  int64_t start_pts_ms = 0;        // PTS of the first frame (a reconnect continues the stream's time line)
  bool packets_only = false;       // packet mode (see the class comment): NextPacket() instead of NextFrame()
  // Demuxers the input may be read with, FFmpeg's comma-separated format_whitelist ("mov,matroska,rtsp"); a
  // detected format with none of its names in it fails the open with Error(kUnsupported), failure_reason()
  // "format". Empty = any format FFmpeg detects. The pipeline's default list is in src/config/schema.ts.
  std::string input_formats;
};

// True for inputs that produce frames in real time (RTSP, RTP, UDP, HTTP live…): the pipeline keeps the newest
// frame for those and never blocks them; files are read as fast as the pipeline consumes them, without drops.
bool IsLiveUrl(const std::string& url);

struct SourceCounters {
  std::atomic<uint64_t> packets{0};
  std::atomic<uint64_t> decoded{0};
  std::atomic<uint64_t> corrupt{0};  // packets the decoder rejected or frames flagged corrupt
};

class Demuxer {
 public:
  explicit Demuxer(SourceOptions options);
  ~Demuxer();
  Demuxer(const Demuxer&) = delete;
  Demuxer& operator=(const Demuxer&) = delete;

  // Opens the input and finds its video stream (packet mode: with the Annex-B filter). Throws Error(kSourceOpen |
  // kUnsupported | kDecode) with a redacted URL and a hint; failure_reason() says why.
  void Open();
  // Packet mode off (right after Open(), before any packet): the caller decodes with a CpuDecoder instead.
  void LeavePacketMode();
  bool packets_only() const noexcept { return options_.packets_only; }
  // The video stream (after Open()), for a decoder's parameters.
  AVStream* stream() const noexcept;
  const SourceOptions& options() const noexcept { return options_; }

  // Reading, for a decoder's loop (CpuDecoder::NextFrame). The top of every read loop: throws when interrupted or
  // when the stall watchdog has fired; returns the watchdog's window in ns (0 = off: files, or stall_timeout_ms 0).
  int64_t CheckInterruptAndStall();
  // Reads the next packet into packet() (av_read_frame with the read deadline). Returns 1 for a packet, 0 at the end
  // of the input; throws on read errors.
  int ReadPacket(int64_t stall_ns);
  // Bookkeeping of the packet ReadPacket() just read: another stream's packet is unreferenced and false returned
  // (skip it); a video packet is counted (and counted corrupt when flagged).
  bool AcceptPacket();
  AVPacket* packet() const noexcept { return pkt_; }

  // Packet mode: the next video packet as one Annex-B access unit. `*data` stays valid until the next call (owned
  // by the demuxer); `*pts` is in the stream's time base (INT64_MIN = AV_NOPTS_VALUE when the packet has none) and
  // is what StampFrame() expects back. Returns false at the end of the input (no loop handling: see
  // RewindForLoop()). Throws like ReadPacket(); counts packets (and corrupt-flagged packets).
  bool NextPacket(const uint8_t** data, size_t* size, int64_t* pts);
  // Packet mode: the codec's parameter sets as Annex-B (the filter's output extradata; e.g. RTSP sprop sets), to
  // feed an external decoder before the first packet. Empty when the stream has none.
  const uint8_t* extradata(size_t* size) const noexcept;

  // A decoder produced a frame with stream-time-base `pts` (in display order): sets last_pts_ms(), counts it as
  // decoded and feeds the stall watchdog.
  void StampFrame(int64_t pts);
  // `n` more damaged packets/frames a decoder reported.
  void CountCorrupt(uint64_t n) noexcept { counters_.corrupt.fetch_add(n, std::memory_order_relaxed); }
  // After the end of the input and a drained decoder: a file with SourceOptions::loop seeks back to the start (the
  // time line continues after the last frame) and returns true — the decoder must then drop what it buffered;
  // false for live inputs, without loop, or when the input cannot seek.
  bool RewindForLoop() { return options_.loop && !live_ && !truncated_ && SeekToStart(); }
  // Throws Error(code) for a libav failure `err` of this input, with a redacted URL and failure_reason() `reason`.
  [[noreturn]] void Fail(ErrorCode code, int err, const char* what, const char* hint, const char* reason);

  // The stream's colour tags (from the container / parameter sets): BT.709 matrix, full (JPEG) range.
  bool colour_bt709() const noexcept;
  bool colour_full_range() const noexcept;
  // 8-bit 4:2:0 (or not yet known): what NVDEC → NV12 can take.
  bool yuv420_8bit() const noexcept;

  // Thread-safe: unblocks Open() and reads, which then throw Error(kSourceRead, "interrupted").
  void Interrupt() noexcept { interrupted_.store(true, std::memory_order_relaxed); }
  bool interrupted() const noexcept { return interrupted_.load(std::memory_order_relaxed); }

  // The stream's coded size and codec, from its parameters (a decoder knows better once it runs).
  int width() const noexcept;
  int height() const noexcept;
  const char* codec_name() const noexcept;
  double fps() const noexcept { return fps_; }  // stream's nominal frame rate (0 if unknown)
  bool live() const noexcept { return live_; }
  // Presentation time of the last stamped frame in milliseconds from the stream start (monotone per stream).
  int64_t last_pts_ms() const noexcept { return last_pts_ms_; }
  const SourceCounters& counters() const noexcept { return counters_; }
  // Why the last Open()/read failed, a short stable word (see VideoSource::failure_reason()). Empty before any
  // failure.
  const char* failure_reason() const noexcept { return reason_; }
  // Files: the input ended because the file ends before its container says it should (see ReadPacket), not at a
  // clean end. Such a file is not looped.
  bool truncated() const noexcept { return truncated_; }
  // The Error(kSourceRead, reason "truncated") that describes truncated(): what was read of what the index promised.
  Error TruncationError() const;

 private:
  static int InterruptCallback(void* opaque) noexcept;
  void Close() noexcept;
  bool SeekToStart();
  [[noreturn]] void ThrowStalled();
  // After avformat_open_input failed with EINVAL under options_.input_formats: throws Error(kUnsupported, reason
  // "format") naming the detected format when the list refused it; returns otherwise.
  void ThrowIfFormatRefused(const std::string& url, int err);

  SourceOptions options_;
  bool live_ = false;
  AVFormatContext* fmt_ = nullptr;
  AVPacket* pkt_ = nullptr;
  AVBSFContext* bsf_ = nullptr;  // packet mode: mp4 → Annex-B
  AVPacket* out_pkt_ = nullptr;  // packet mode: the filtered packet handed out by NextPacket()
  int stream_index_ = -1;
  double fps_ = 0;
  double time_base_ms_ = 0;
  int64_t last_pts_ms_ = 0;
  int64_t pts_offset_ms_ = 0;  // added after a loop so PTS stays monotone
  int64_t origin_pts_ = INT64_MIN;  // AV_NOPTS_VALUE until the first timestamped frame (stream time base)
  int64_t frames_out_ = 0;          // frames stamped since open / the last loop
  int64_t pass_packets_ = 0;        // video packets read since open / the last loop (truncation check)
  bool last_packet_corrupt_ = false;  // the newest video packet came short or damaged (AV_PKT_FLAG_CORRUPT)
  bool truncated_ = false;
  std::atomic<bool> interrupted_{false};
  std::atomic<int64_t> io_deadline_ns_{0};  // read/open deadline checked by the interrupt callback
  std::atomic<bool> deadline_fired_{false};  // the interrupt callback stopped an I/O wait at io_deadline_ns_
  int64_t expired_deadline_ns_ = 0;          // a read deadline that fired while FFmpeg still returned a packet
  int64_t last_frame_ns_ = 0;               // steady clock of the last stamped frame (or of Open), stall watchdog
  const char* reason_ = "";
  SourceCounters counters_;
};

}  // namespace camtrack::decode
