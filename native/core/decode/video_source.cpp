#include "core/decode/video_source.h"

namespace camtrack::decode {

VideoSource::VideoSource(SourceOptions options) : demux_(std::move(options)) {}

VideoSource::~VideoSource() { decoder_.reset(); }

void VideoSource::Open() {
  demux_.Open();
  if (!demux_.packets_only()) decoder_ = std::make_unique<CpuDecoder>(demux_, demux_.options().decoder_threads);
}

void VideoSource::SwitchToCpuDecode() {
  if (!demux_.packets_only()) return;
  demux_.LeavePacketMode();
  decoder_ = std::make_unique<CpuDecoder>(demux_, demux_.options().decoder_threads);
}

}  // namespace camtrack::decode
