#pragma once
// camtrack::Error — the one exception type of the native core.
//
// Every failure the core reports carries a stable code (mapped one-to-one to the JS error codes
// `ERR_CAMTRACK_<CODE>`), the pipeline stage, the native code of the library that failed (AVERROR, cudaError_t,
// CUresult, …; 0 when none), a message that never contains credentials, and a hint saying what to do.
// The binding layer turns it into a CamtrackError in JS; core code never includes napi.h.
//
// Thread-safety: value type, freely copyable between threads.
#include <stdexcept>
#include <string>

namespace camtrack {

enum class ErrorCode {
  kInvalidArgument,  // ERR_CAMTRACK_INVALID_ARGUMENT: a config value the core cannot use
  kInvalidState,     // ERR_CAMTRACK_INVALID_STATE: call on a closed/disposed object
  kSourceOpen,       // ERR_CAMTRACK_SOURCE_OPEN: URL/file cannot be opened (unreachable, 404, auth)
  kSourceRead,       // ERR_CAMTRACK_SOURCE_READ: read/demux error after open
  kDecode,           // ERR_CAMTRACK_DECODE: decoder could not be created or failed hard
  kModel,            // ERR_CAMTRACK_MODEL: model shape/layout not usable
  kInference,        // ERR_CAMTRACK_INFERENCE: backend failed on a batch
  kCuda,             // ERR_CAMTRACK_CUDA: a CUDA runtime/driver call failed
  kUnsupported,      // ERR_CAMTRACK_UNSUPPORTED: feature not compiled in / not present on this machine
  kInternal,         // ERR_CAMTRACK_INTERNAL: a bug; please report
};

const char* ErrorCodeName(ErrorCode code) noexcept;  // "SOURCE_OPEN", …

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string stage, std::string message, std::string hint = {}, long long native_code = 0)
      : std::runtime_error(message),
        code_(code),
        stage_(std::move(stage)),
        hint_(std::move(hint)),
        native_code_(native_code) {}

  ErrorCode code() const noexcept { return code_; }
  const std::string& stage() const noexcept { return stage_; }
  const std::string& hint() const noexcept { return hint_; }
  long long native_code() const noexcept { return native_code_; }

 private:
  ErrorCode code_;
  std::string stage_;
  std::string hint_;
  long long native_code_;
};

}  // namespace camtrack

// Check macros record the failing expression, file and line; they throw, never abort.
#define CAMTRACK_STRINGIFY_(x) #x
#define CAMTRACK_STRINGIFY(x) CAMTRACK_STRINGIFY_(x)
#define CAMTRACK_CHECK(cond, code, stage, msg)                                                          \
  do {                                                                                                  \
    if (!(cond))                                                                                        \
      throw ::camtrack::Error((code), (stage),                                                          \
                              std::string(msg) + " [" #cond " at " __FILE__ ":" CAMTRACK_STRINGIFY(__LINE__) "]"); \
  } while (0)
