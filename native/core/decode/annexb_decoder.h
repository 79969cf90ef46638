#pragma once
// AnnexBDecoder: H.264 / HEVC pushed as Annex-B byte chunks, decoded by libavcodec on the CPU.
//
// Input (AnnexBInput):
//   kAccessUnits  each Push() holds one or more COMPLETE access units (what an encoder or a camera's RTP
//                 depacketiser hands out per picture; parameter sets may come with the IDR or on their own). The
//                 chunk is split with AnnexBSplitter (annexb_reader.h) and every access unit is decoded at once:
//                 no added latency.
//   kByteStream   chunks are arbitrary slices of an Annex-B byte stream (e.g. read from a pipe). libavcodec's
//                 parser (av_parser_parse2) reassembles access units; an access unit is known to be complete only
//                 when the next one starts, so each picture comes out one access unit later (Flush() at the end).
// Every access unit goes through the codec's parser (PARSER_FLAG_COMPLETE_FRAMES in kAccessUnits mode), which
// reads its headers: the picture size (checked against max_pixels before decoding, "too_large") and whether it is
// a keyframe (H.264: IDR or a recovery-point SEI; HEVC: IRAP, i.e. IDR/CRA/BLA — also checked from the NAL types).
//
// Keyframe gate: until the first keyframe, an access unit with a picture is not decoded (there is nothing to
// predict it from) and is reported as FrameError "no_keyframe". DropUntilKeyframe() (the live policy dropping
// inter-coded data, or any discontinuity) makes the decoder skip pictures again until the next keyframe, each
// reported as "until_keyframe". Access units without a picture (parameter sets, SEI alone) are always decoded.
//
// Tags: every Push() carries the caller's tag (>= 0, e.g. the pushed frame's sequence number). It travels as the
// packet's pts through libavcodec's reordering, so each picture comes out (in display order) with the tag of the
// chunk its access unit began in (PictureInfo::tag); each FrameError carries the tag of the access unit it is about
// (-1 when libavcodec reports a failure it does not tie to a packet).
//
// Errors: bad input never throws. Rejected access units ("empty", "wrong_codec", "corrupt", "too_large",
// "no_keyframe", "until_keyframe") are appended to the caller's `errors` vector (not cleared here) by Push(); pictures
// libavcodec decoded with concealed damage are appended as "corrupt" by Receive() and skipped, unless keep_damaged
// is set (then delivered with PictureInfo::concealed). Only programming errors and out-of-memory throw Error.
//
// Threading/ownership: one decoder per stream, used by one thread (NOT thread-safe). It owns its libavcodec decoder
// and parser; pictures handed out by Receive() are references the PictureBuffer holds.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/decode/frame_error.h"
#include "core/decode/picture_buffer.h"

namespace camtrack::decode {

enum class VideoCodec { kH264, kHevc };
enum class AnnexBInput { kAccessUnits, kByteStream };

// Every field is set explicitly by the caller (the push frame source copies them from the stream's config); the
// initialisers are neutral values, not defaults: max_pixels 0 and threads 0 are refused.
struct AnnexBDecoderOptions {
  VideoCodec codec = VideoCodec::kH264;
  AnnexBInput input = AnnexBInput::kAccessUnits;
  int64_t max_pixels = 0;  // picture width × height over this → "too_large" (> 0; kDefaultMaxPixels)
  // libavcodec threads (>= 1). More than 1 enables frame threads, which delay every picture by threads - 1 access
  // units: keep 1 for live pushes, raise it for throughput.
  int threads = 0;
  bool keep_damaged = false;  // deliver pictures decoded with concealed errors (PictureInfo::concealed)
};

class AnnexBDecoder {
 public:
  // Opens the decoder and parser. Throws Error(kInvalidArgument) for bad options, Error(kUnsupported) when this
  // FFmpeg lacks the codec, Error(kDecode) when it cannot be opened.
  explicit AnnexBDecoder(AnnexBDecoderOptions options);
  ~AnnexBDecoder();
  AnnexBDecoder(const AnnexBDecoder&) = delete;
  AnnexBDecoder& operator=(const AnnexBDecoder&) = delete;

  // Feeds one pushed chunk (see the input modes above) tagged `tag` (>= 0). Rejected access units are appended to
  // *errors. The bytes are copied (once, into a reused padded buffer): the caller may release them on return.
  void Push(const uint8_t* data, size_t size, int64_t tag, std::vector<FrameError>* errors);

  // The next decoded picture in display order into *out; false when none is ready (push more, or Flush()).
  // Damaged pictures met on the way are appended to *errors and skipped (unless keep_damaged).
  bool Receive(PictureBuffer* out, std::vector<FrameError>* errors);

  // Skip pictures until the next keyframe. Pictures already inside the decoder are kept (drained: Receive() still
  // returns them); the decoder's references and, in kByteStream mode, the parser's partial access unit are
  // discarded, since what follows is not their continuation.
  void DropUntilKeyframe(std::vector<FrameError>* errors);

  // End of the stream: kByteStream completes its last access unit; every picture still inside the decoder becomes
  // receivable. Decoding may continue after it, from the next keyframe (as after DropUntilKeyframe()).
  void Flush(std::vector<FrameError>* errors);

  // True until the first keyframe, and again after DropUntilKeyframe()/Flush() until the next one.
  bool waiting_for_keyframe() const noexcept;

  const AnnexBDecoderOptions& options() const noexcept { return options_; }

 private:
  struct Impl;
  AnnexBDecoderOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace camtrack::decode
