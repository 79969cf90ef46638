#include "core/ingest/stream_event.h"

#include "core/common/redact.h"

namespace camtrack::ingest {

const char* StreamStateName(StreamState state) noexcept {
  switch (state) {
    case StreamState::kConnecting: return "connecting";
    case StreamState::kLive: return "live";
    case StreamState::kStalled: return "stalled";
    case StreamState::kReconnecting: return "reconnecting";
    case StreamState::kEnded: return "ended";
    case StreamState::kFailed: return "failed";
    case StreamState::kStopped: return "stopped";
  }
  return "failed";
}

const char* EventKindName(EventKind kind) noexcept {
  switch (kind) {
    case EventKind::kState: return "state";
    case EventKind::kWarning: return "warning";
    case EventKind::kError: return "error";
    case EventKind::kEnd: return "end";
    case EventKind::kDrain: return "drain";
    case EventKind::kSnapshot: return "snapshot";
    case EventKind::kBreaker: return "breaker";
  }
  return "state";
}

StreamEvent MakeStreamEvent(EventKind kind, int32_t stream, const std::string& url, ErrorCode code, std::string reason,
                            const std::string& message, std::string hint, long long native_code) {
  StreamEvent ev;
  ev.kind = kind;
  ev.stream = stream;
  ev.code = code;
  ev.reason = std::move(reason);
  ev.message = RedactIn(message, url);
  ev.hint = std::move(hint);
  ev.native_code = native_code;
  return ev;
}

}  // namespace camtrack::ingest
