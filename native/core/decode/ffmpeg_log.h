#pragma once
// FFmpeg's own log. By default libav* print to stderr — per-frame decoder complaints and, for network inputs,
// sometimes URLs with credentials. camtrack reports failures through its own errors/events and counters, so the
// library log is silenced unless asked for with CAMTRACK_FFMPEG_LOG=<quiet|error|warning|info|verbose|debug>;
// when enabled every line is passed through RedactUrl-style credential removal before it reaches stderr.
// Thread-safe; call once at addon load (idempotent).
namespace camtrack::decode {

void InstallFfmpegLogHandler() noexcept;

}  // namespace camtrack::decode
