#include "core/ingest/frame_source.h"

namespace camtrack::ingest {

// Out of line so the vtables have one home (the core static library).
FrameSource::~FrameSource() = default;
FrameSourceFactory::~FrameSourceFactory() = default;

Error FrameSource::TruncationError() const {
  return Error(ErrorCode::kSourceRead, "source", "the input ends early (truncated)");
}

}  // namespace camtrack::ingest
