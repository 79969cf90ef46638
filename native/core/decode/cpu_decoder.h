#pragma once
// CpuDecoder: libavcodec decode of a Demuxer's video stream on the CPU — a sibling of NvdecDecoder. It drives its
// demuxer's reads (so interrupts, read deadlines and the stall watchdog apply while it decodes), stamps each frame on
// the demuxer's time line, counts damaged packets/frames there, and loops files (SourceOptions::loop) through the
// demuxer's rewind, dropping what it buffered.
//
// Ownership/threading: borrows the Demuxer (which must outlive it); both are driven by one thread (the stream's
// source thread). Frames returned by NextFrame() are owned by the decoder and valid until the next call.
extern "C" {
struct AVCodecContext;
struct AVFrame;
}

namespace camtrack::decode {

class Demuxer;

class CpuDecoder {
 public:
  // Opens libavcodec for `demux`'s video stream (opened, not in packet mode) with `threads` decoder threads (frame
  // or slice threads; <= 0: 1). Throws Error(kDecode), reason "decoder", through Demuxer::Fail.
  CpuDecoder(Demuxer& demux, int threads);
  ~CpuDecoder();
  CpuDecoder(const CpuDecoder&) = delete;
  CpuDecoder& operator=(const CpuDecoder&) = delete;

  // Decodes the next frame. Returns false at the end of the input (after flushing the decoder). Throws
  // Error(kSourceRead) on read errors/timeouts. Corrupt packets are counted and skipped, not thrown.
  bool NextFrame(AVFrame** frame);
  // The demuxer seeks back to the start for a loop; the decoder drops what it buffered. False: no loop.
  bool Rewind();

  int width() const noexcept;
  int height() const noexcept;
  const char* codec_name() const noexcept;

 private:
  Demuxer& demux_;
  AVCodecContext* dec_ = nullptr;
  AVFrame* frame_ = nullptr;
  bool draining_ = false;
};

}  // namespace camtrack::decode
