#include "core/analytics/analytics_engine.h"

#include <cmath>
#include <string>
#include <utility>

#include "core/common/error.h"

namespace camtrack::analytics {
namespace {

constexpr int32_t kEmpty = -1, kDeleted = -2;

size_t Hash(int64_t id, size_t mask) { return size_t((uint64_t(id) * 0x9E3779B97F4A7C15ull) >> 17) & mask; }

}  // namespace

const char* EventKindName(AnalyticsEvent::Kind k) {
  switch (k) {
    case AnalyticsEvent::Kind::kLineCross: return "line-cross";
    case AnalyticsEvent::Kind::kZoneEnter: return "zone-enter";
    case AnalyticsEvent::Kind::kZoneExit: return "zone-exit";
    case AnalyticsEvent::Kind::kLoiter: return "loiter";
    case AnalyticsEvent::Kind::kOvercrowd: return "overcrowd";
    case AnalyticsEvent::Kind::kSpeed: return "speed";
  }
  return "?";
}

void ValidateAnalytics(const AnalyticsConfig& c) {
  for (size_t i = 0; i < c.lines.size(); ++i) ValidateLine(c.lines[i], "lines[" + std::to_string(i) + "]");
  for (size_t i = 0; i < c.zones.size(); ++i) ValidateZone(c.zones[i], "zones[" + std::to_string(i) + "]");
  const SpeedConfig& s = c.speed;
  auto bad = [](const std::string& what) { throw Error(ErrorCode::kInvalidArgument, "analytics", "speed." + what); };
  if (!(s.smoothing > 0 && s.smoothing <= 1)) bad("smoothing must be in (0, 1]");
  if (!(s.pixels_per_meter >= 0) || !std::isfinite(s.pixels_per_meter)) bad("pixelsPerMeter must be ≥ 0");
  if (!(s.limit >= 0) || !std::isfinite(s.limit)) bad("limit must be ≥ 0");
  if (s.has_homography && s.pixels_per_meter > 0) bad("give pixelsPerMeter or homography, not both");
  if (c.forget_frames < 1) throw Error(ErrorCode::kInvalidArgument, "analytics", "forgetFrames must be ≥ 1");
}

void AnalyticsFrame::Reserve(size_t num_lines, size_t num_zones, size_t tracks) {
  events.reserve(tracks * 2 + 64);
  lines.resize(num_lines);
  zones.resize(num_zones);
  for (auto& l : lines) {
    l.crossed_in.reserve(tracks);
    l.crossed_out.reserve(tracks);
    l.per_class.reserve(16);
  }
  for (auto& z : zones) {
    z.entered.reserve(tracks);
    z.exited.reserve(tracks);
  }
  memberships.reserve(tracks * (num_zones ? 2 : 0) + 16);
  speeds.reserve(tracks);
}

AnalyticsEngine::AnalyticsEngine(AnalyticsConfig config)
    : shared_config_(std::make_shared<const AnalyticsConfig>(std::move(config))), config_(*shared_config_) {
  ValidateAnalytics(config_);
  for (const LineConfig& l : config_.lines) geometry_.push_back(LineGeometry::From(l));
  counts_.resize(config_.lines.size());
  for (auto& c : counts_) c.per_class.reserve(16);
  overcrowd_armed_.assign(config_.zones.size(), true);
  slots_.resize(kInitialTracks);
  line_states_.resize(kInitialTracks * config_.lines.size());
  zone_states_.resize(kInitialTracks * config_.zones.size());
  free_.reserve(kMaxTracks);
  for (size_t i = kInitialTracks; i-- > 0;) free_.push_back(int32_t(i));
  index_.assign(kInitialTracks * 2, kEmpty);
}

void AnalyticsEngine::Reset() {
  for (size_t i = 0; i < slots_.size(); ++i)
    if (slots_[i].track_id != 0) Free(int32_t(i));
  for (auto& c : counts_) {
    c.in = c.out = 0;
    c.per_class.clear();
  }
  overcrowd_armed_.assign(config_.zones.size(), true);
  RebuildIndex();
}

void AnalyticsEngine::ResetCounts() {
  for (auto& c : counts_) {
    c.in = c.out = 0;
    c.per_class.clear();
  }
}

void AnalyticsEngine::AddCounts(const std::vector<LineCountsSeed>& seed) {
  for (const LineCountsSeed& s : seed) {
    for (size_t l = 0; l < config_.lines.size(); ++l) {
      if (config_.lines[l].id != s.line_id) continue;
      LineResult& cum = counts_[l];
      cum.in += s.in;
      cum.out += s.out;
      for (const LineClassCount& k : s.per_class) {
        LineClassCount* pc = nullptr;
        for (auto& c : cum.per_class)
          if (c.class_id == k.class_id) pc = &c;
        if (!pc) {
          cum.per_class.push_back({k.class_id, 0, 0});
          pc = &cum.per_class.back();
        }
        pc->in += k.in;
        pc->out += k.out;
      }
    }
  }
}

int32_t AnalyticsEngine::Find(int64_t id) const {
  const size_t mask = index_.size() - 1;
  for (size_t h = Hash(id, mask);; h = (h + 1) & mask) {
    const int32_t s = index_[h];
    if (s == kEmpty) return -1;
    if (s >= 0 && slots_[size_t(s)].track_id == id) return s;
  }
}

void AnalyticsEngine::RebuildIndex() {
  std::fill(index_.begin(), index_.end(), kEmpty);
  tombstones_ = 0;
  const size_t mask = index_.size() - 1;
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].track_id == 0) continue;
    size_t h = Hash(slots_[i].track_id, mask);
    while (index_[h] != kEmpty) h = (h + 1) & mask;
    index_[h] = int32_t(i);
  }
}

void AnalyticsEngine::Grow() {
  const size_t old = slots_.size();
  const size_t cap = old * 2;
  slots_.resize(cap);
  line_states_.resize(cap * config_.lines.size());
  zone_states_.resize(cap * config_.zones.size());
  for (size_t i = cap; i-- > old;) free_.push_back(int32_t(i));
  index_.assign(cap * 2, kEmpty);
  RebuildIndex();
}

int32_t AnalyticsEngine::Insert(int64_t id) {
  if (free_.empty()) {
    if (slots_.size() < kMaxTracks) {
      Grow();
    } else {  // full: forget the track seen longest ago
      int32_t oldest = 0;
      for (size_t i = 1; i < slots_.size(); ++i)
        if (slots_[i].last_seen < slots_[size_t(oldest)].last_seen) oldest = int32_t(i);
      Free(oldest);
    }
  }
  if ((tombstones_ + 1) * 4 > index_.size()) RebuildIndex();
  const int32_t s = free_.back();
  free_.pop_back();
  Slot& slot = slots_[size_t(s)];
  slot = Slot{};
  slot.track_id = id;
  const size_t nl = config_.lines.size(), nz = config_.zones.size();
  for (size_t l = 0; l < nl; ++l) line_states_[size_t(s) * nl + l] = LineTrackState{};
  for (size_t z = 0; z < nz; ++z) zone_states_[size_t(s) * nz + z] = ZoneTrackState{};
  const size_t mask = index_.size() - 1;
  size_t h = Hash(id, mask);
  while (index_[h] >= 0) h = (h + 1) & mask;
  if (index_[h] == kDeleted) --tombstones_;
  index_[h] = s;
  return s;
}

void AnalyticsEngine::Free(int32_t s) {
  const int64_t id = slots_[size_t(s)].track_id;
  const size_t mask = index_.size() - 1;
  for (size_t h = Hash(id, mask);; h = (h + 1) & mask) {
    if (index_[h] == kEmpty) break;
    if (index_[h] == s) {
      index_[h] = kDeleted;
      ++tombstones_;
      break;
    }
  }
  slots_[size_t(s)].track_id = 0;
  free_.push_back(s);
}

void AnalyticsEngine::StepZones(int32_t s, bool seen, const Box* box, int64_t ts, AnalyticsFrame* out) {
  const size_t nz = config_.zones.size();
  const Slot& slot = slots_[size_t(s)];
  for (size_t z = 0; z < nz; ++z) {
    const ZoneConfig& zc = config_.zones[z];
    ZoneTrackState& st = zone_states_[size_t(s) * nz + z];
    const bool counted = seen && ZoneAcceptsClass(zc, slot.class_id);
    const bool in = counted && PointInPolygon(zc.polygon.data(), zc.polygon.size(), AnchorOf(*box, zc.anchor));
    const int64_t entered_before = st.entered_ts;
    const ZoneTransition t = ZoneStep(zc, &st, counted, in, ts);
    if (t == ZoneTransition::kEnter) {
      out->zones[z].entered.push_back(slot.track_id);
      out->events.push_back({AnalyticsEvent::Kind::kZoneEnter, int32_t(z), slot.track_id, slot.class_id, 0, 0, ts});
    } else if (t == ZoneTransition::kExit) {
      out->zones[z].exited.push_back(slot.track_id);
      out->events.push_back({AnalyticsEvent::Kind::kZoneExit, int32_t(z), slot.track_id, slot.class_id, 0,
                             double(ts - entered_before) / 1000.0, ts});
    }
    if (ZoneLoiterDue(zc, &st, ts)) {
      out->events.push_back({AnalyticsEvent::Kind::kLoiter, int32_t(z), slot.track_id, slot.class_id, 0,
                             double(ts - st.entered_ts) / 1000.0, ts});
    }
  }
}

void AnalyticsEngine::Update(const track::TrackedObject* tracks, size_t n, int64_t ts, bool inferred,
                             AnalyticsFrame* out) {
  const size_t nl = config_.lines.size(), nz = config_.zones.size();
  if (out->config != shared_config_) out->config = shared_config_;  // the same engine: no reference count traffic
  out->ts_ms = ts;
  out->events.clear();
  out->memberships.clear();
  out->speeds.clear();
  if (out->lines.size() != nl || out->zones.size() != nz) out->Reserve(nl, nz, 64);
  for (auto& l : out->lines) {
    l.crossed_in.clear();
    l.crossed_out.clear();
  }
  for (auto& z : out->zones) {
    z.entered.clear();
    z.exited.clear();
  }
  out->evaluated = inferred || config_.use_predicted;
  if (!out->evaluated) {
    FillResults(out);
    return;
  }
  ++frame_;
  for (size_t i = 0; i < n; ++i) {
    const track::TrackedObject& t = tracks[i];
    if (t.track_id <= 0) continue;      // unconfirmed: never counted, never in a zone
    if (!UsableBox(t.box)) continue;    // NaN / huge: as if not seen this frame
    int32_t s = Find(t.track_id);
    if (s < 0) s = Insert(t.track_id);
    Slot& slot = slots_[size_t(s)];
    if (slot.seen_in == frame_) continue;  // a repeated id in one frame: the first box wins
    slot.seen_in = frame_;
    slot.last_seen = frame_;
    slot.class_id = t.class_id;
    for (size_t l = 0; l < nl; ++l) {
      const Crossing c = LineStep(geometry_[l], &line_states_[size_t(s) * nl + l], t.box, t.class_id);
      if (c == Crossing::kNone) continue;
      LineResult& cum = counts_[l];
      LineClassCount* pc = nullptr;
      for (auto& k : cum.per_class)
        if (k.class_id == t.class_id) pc = &k;
      if (!pc) {
        cum.per_class.push_back({t.class_id, 0, 0});
        pc = &cum.per_class.back();
      }
      if (c == Crossing::kIn) {
        ++cum.in;
        ++pc->in;
        out->lines[l].crossed_in.push_back(t.track_id);
      } else {
        ++cum.out;
        ++pc->out;
        out->lines[l].crossed_out.push_back(t.track_id);
      }
      out->events.push_back(
          {AnalyticsEvent::Kind::kLineCross, int32_t(l), t.track_id, t.class_id, int8_t(c), 0, ts});
    }
    StepZones(s, true, &t.box, ts, out);
    if (config_.speed.enabled) {
      const SpeedSample v = SpeedStep(config_.speed, &slot.speed, t.box, ts);
      if (v.valid) out->speeds.push_back({t.track_id, v.speed, v.direction_deg});
      if (v.event) {
        out->events.push_back({AnalyticsEvent::Kind::kSpeed, -1, t.track_id, t.class_id, 0, v.speed, ts});
      }
    }
  }
  // Tracks not in this frame: zone inertia runs on (an occluded object stays inside for exit_frames), and those
  // gone long enough, and inside no zone, are forgotten.
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& slot = slots_[i];
    if (slot.track_id == 0 || slot.seen_in == frame_) continue;
    StepZones(int32_t(i), false, nullptr, ts, out);
    if (frame_ - slot.last_seen < config_.forget_frames) continue;
    bool inside = false;
    for (size_t z = 0; z < nz; ++z) inside = inside || zone_states_[i * nz + z].inside;
    if (!inside) Free(int32_t(i));
  }
  FillResults(out);
  for (size_t z = 0; z < nz; ++z) {
    std::vector<bool>::reference armed = overcrowd_armed_[z];
    bool a = armed;
    if (ZoneOvercrowdStep(config_.zones[z], &a, out->zones[z].occupancy)) {
      out->events.push_back(
          {AnalyticsEvent::Kind::kOvercrowd, int32_t(z), 0, 0, 0, double(out->zones[z].occupancy), ts});
    }
    armed = a;
  }
}

void AnalyticsEngine::FillResults(AnalyticsFrame* out) {
  const size_t nl = config_.lines.size(), nz = config_.zones.size();
  for (size_t l = 0; l < nl; ++l) {
    out->lines[l].in = counts_[l].in;
    out->lines[l].out = counts_[l].out;
    out->lines[l].per_class = counts_[l].per_class;  // capacity reused
  }
  for (size_t z = 0; z < nz; ++z) out->zones[z].occupancy = 0;
  if (nz == 0) return;
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].track_id == 0) continue;
    for (size_t z = 0; z < nz; ++z) {
      const ZoneTrackState& st = zone_states_[i * nz + z];
      if (!st.inside) continue;
      ++out->zones[z].occupancy;
      out->memberships.push_back({slots_[i].track_id, int32_t(z), ZoneDwellMs(st, out->ts_ms)});
    }
  }
}

}  // namespace camtrack::analytics
