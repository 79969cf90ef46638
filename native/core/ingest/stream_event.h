#pragma once
// Stream lifecycle states and the events a stream reports (state changes, warnings, errors, its end).
//
// States: connecting → live → stalled → reconnecting → live | failed | ended; stopped on removal/shutdown (docs/
// ingest.md). They are an enum class everywhere in native code; StreamStateName() gives the one public spelling of
// each, which is what stats() and the 'state' events carry across the JS boundary (src/types.ts StreamState).
//
// Plain values; no threading of their own. Events are produced on a stream's source thread (states, source
// failures) or on the postprocess thread (inference health, postprocess failures) and queued by the pipeline.
#include <cstdint>
#include <optional>
#include <string>

#include "core/common/error.h"

namespace camtrack::ingest {

enum class StreamState { kConnecting, kLive, kStalled, kReconnecting, kEnded, kFailed, kStopped };

// "connecting", "live", "stalled", "reconnecting", "ended", "failed", "stopped".
const char* StreamStateName(StreamState state) noexcept;

// kDrain: a lossless pushed stream's queue, reported full by a push, is down to half (JS: the stream's 'drain').
// kSnapshot: the stream's requested snapshot is ready (snapshot/snapshot_slot.h; `frame` is its frame index).
enum class EventKind { kState, kWarning, kError, kEnd, kDrain, kSnapshot, kBreaker };

// "state", "warning", "error", "end", "drain", "snapshot", "breaker" (the pipeline's, stream -1: the backend's circuit
// breaker moved; reason = the transition's reason, message = its message, breaker_from/breaker_to = the states).
const char* EventKindName(EventKind kind) noexcept;

// A state event carries `reason` (a short stable word: "connected", "reconnected", "eof", "stalled",
// "disconnected", "read_timeout", "refused", "not_found", "unauthorized", "timeout", …) and, when the change was
// caused by a failure, has_error with the code/message/hint of that failure.
struct StreamEvent {
  EventKind kind = EventKind::kState;
  int32_t stream = -1;
  std::optional<StreamState> state;  // kState: the new state; kEnd: the final state; else none
  std::string reason;       // kState/kWarning/kError: why (see above)
  bool has_error = false;   // kState: code/message/hint describe the failure behind the change
  int attempt = 0;          // kState "reconnecting" and kWarning: consecutive failed attempts so far
  ErrorCode code = ErrorCode::kInternal;
  std::string message;  // redacted
  std::string hint;
  long long native_code = 0;
  int64_t frame = -1;   // kWarning about one frame (a pushed frame that cannot be decoded): its sequence number
  const char* breaker_from = nullptr;  // kBreaker: the states (static strings)
  const char* breaker_to = nullptr;
};

// An error or warning event about stream `stream`, whose input is `url`: the message is redacted of the secrets in
// that URL.
StreamEvent MakeStreamEvent(EventKind kind, int32_t stream, const std::string& url, ErrorCode code, std::string reason,
                            const std::string& message, std::string hint, long long native_code);

}  // namespace camtrack::ingest
