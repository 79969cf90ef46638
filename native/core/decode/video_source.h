#pragma once
// VideoSource: one input as the CPU path reads it — a Demuxer (demuxer.h: libavformat, deadlines, stall watchdog,
// time line, counters) and, unless in packet mode, a CpuDecoder (cpu_decoder.h: libavcodec) on its video stream.
//
// Ownership/threading: owned and driven by exactly one thread (the stream's source thread). The only method safe
// to call from another thread is Interrupt(), which makes a blocked open/read return promptly (RemoveStream and
// shutdown use it through the stream's FrameSource). Frames returned by NextFrame() are owned by the source and valid
// until the next call.
//
// Packet mode (SourceOptions::packets_only, for NVDEC): Open() opens no libavcodec decoder; NextPacket() returns
// the video packets as Annex-B access units (h264_mp4toannexb / hevc_mp4toannexb applied with av_bsf_*; Annex-B
// inputs such as MPEG-TS / RTSP pass through unchanged) with the same interrupt, read-timeout and stall-watchdog
// behaviour as NextFrame(). The external decoder's output frames are stamped with StampFrame(), which applies the
// same time line (pts → ms, loops, reconnect offsets) and counters as the CPU path.
#include <cstdint>
#include <memory>

#include "core/common/error.h"
#include "core/decode/cpu_decoder.h"
#include "core/decode/demuxer.h"

extern "C" {
struct AVFrame;
}

namespace camtrack::decode {

class VideoSource {
 public:
  explicit VideoSource(SourceOptions options);
  ~VideoSource();
  VideoSource(const VideoSource&) = delete;
  VideoSource& operator=(const VideoSource&) = delete;

  // Opens the input and the decoder. Throws Error(kSourceOpen | kDecode) with a redacted URL and a hint.
  void Open();
  // Decodes the next frame. Returns false at the end of the input (after flushing the decoder). Throws
  // Error(kSourceRead) on read errors/timeouts. Corrupt packets are counted and skipped, not thrown.
  bool NextFrame(AVFrame** frame) { return decoder_->NextFrame(frame); }
  // Packet mode: the next video packet as one Annex-B access unit (Demuxer::NextPacket).
  bool NextPacket(const uint8_t** data, size_t* size, int64_t* pts) { return demux_.NextPacket(data, size, pts); }
  // Packet mode: the codec's parameter sets as Annex-B, to feed an external decoder before the first packet.
  const uint8_t* extradata(size_t* size) const noexcept { return demux_.extradata(size); }
  // Packet mode: a frame with stream-time-base `pts` came out of the external decoder (in display order): sets
  // last_pts_ms(), counts it as decoded and feeds the stall watchdog, exactly as NextFrame() does for its frames.
  void StampFrame(int64_t pts) { demux_.StampFrame(pts); }
  // Packet mode: `n` more frames the external decoder reported as damaged (counted in counters().corrupt, like the
  // CPU decoder's corrupt-flagged frames).
  void CountCorrupt(uint64_t n) noexcept { demux_.CountCorrupt(n); }
  // Packet mode: after NextPacket() returned false and the external decoder was drained, a file with
  // SourceOptions::loop seeks back to the start (the time line continues after the last frame) and returns true;
  // false for live inputs, without loop, or when the input cannot seek.
  bool RewindForLoop() { return decoder_ ? decoder_->Rewind() : demux_.RewindForLoop(); }
  // Packet mode, right after Open() and before any NextPacket(): opens the libavcodec decoder after all and
  // leaves packet mode, so NextFrame() works (used when the external decoder cannot take this stream). Throws
  // Error(kDecode) like Open().
  void SwitchToCpuDecode();
  bool packets_only() const noexcept { return demux_.packets_only(); }
  // The stream's colour tags (from the container / parameter sets): BT.709 matrix, full (JPEG) range.
  bool colour_bt709() const noexcept { return demux_.colour_bt709(); }
  bool colour_full_range() const noexcept { return demux_.colour_full_range(); }
  // 8-bit 4:2:0 (or not yet known): what NVDEC → NV12 can take.
  bool yuv420_8bit() const noexcept { return demux_.yuv420_8bit(); }

  // Thread-safe: unblocks Open()/NextFrame(), which then throw Error(kSourceRead, "interrupted").
  void Interrupt() noexcept { demux_.Interrupt(); }
  bool interrupted() const noexcept { return demux_.interrupted(); }

  int width() const noexcept { return decoder_ ? decoder_->width() : demux_.width(); }
  int height() const noexcept { return decoder_ ? decoder_->height() : demux_.height(); }
  double fps() const noexcept { return demux_.fps(); }  // stream's nominal frame rate (0 if unknown)
  const char* codec_name() const noexcept { return decoder_ ? decoder_->codec_name() : demux_.codec_name(); }
  bool live() const noexcept { return demux_.live(); }
  // Presentation time of the last returned frame in milliseconds from the stream start (monotone per stream).
  int64_t last_pts_ms() const noexcept { return demux_.last_pts_ms(); }
  const SourceCounters& counters() const noexcept { return demux_.counters(); }
  // Why the last Open()/NextFrame() failed, a short stable word for events and stats: "unreachable", "refused",
  // "not_found", "unauthorized", "timeout", "open_failed", "format", "no_video", "decoder", "stalled",
  // "read_timeout", "disconnected", "read_error", "interrupted". Empty before any failure. Same thread as
  // Open/NextFrame.
  const char* failure_reason() const noexcept { return demux_.failure_reason(); }
  // Files: NextFrame()/NextPacket() returned false because the file ends before its container says it should
  // (see Demuxer::ReadPacket), not at a clean end. Such a file is not looped. Same thread as NextFrame.
  bool truncated() const noexcept { return demux_.truncated(); }
  // The Error(kSourceRead, reason "truncated") that describes truncated(): what was read of what the index promised.
  Error TruncationError() const { return demux_.TruncationError(); }

 private:
  Demuxer demux_;
  std::unique_ptr<CpuDecoder> decoder_;  // borrows demux_: declared after it, destroyed before it
};

}  // namespace camtrack::decode
