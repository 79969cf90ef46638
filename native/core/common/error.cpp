#include "core/common/error.h"

namespace camtrack {

const char* ErrorCodeName(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case ErrorCode::kInvalidState: return "INVALID_STATE";
    case ErrorCode::kSourceOpen: return "SOURCE_OPEN";
    case ErrorCode::kSourceRead: return "SOURCE_READ";
    case ErrorCode::kDecode: return "DECODE";
    case ErrorCode::kModel: return "MODEL";
    case ErrorCode::kInference: return "INFERENCE";
    case ErrorCode::kCuda: return "CUDA";
    case ErrorCode::kUnsupported: return "UNSUPPORTED";
    case ErrorCode::kInternal: return "INTERNAL";
  }
  return "INTERNAL";
}

}  // namespace camtrack
