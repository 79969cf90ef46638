#include "binding/analytics_convert.h"

#include <string>

#include "binding/convert.h"
#include "core/common/error.h"

namespace camtrack::binding {
namespace {

using analytics::Anchor;
using analytics::Point;

Anchor ReadAnchor(const std::string& name, const char* what) {
  Anchor a;
  if (!analytics::ParseAnchor(name.c_str(), &a)) {
    throw Error(ErrorCode::kInvalidArgument, "analytics", std::string(what) + ": unknown anchor '" + name + "'");
  }
  return a;
}

Point ReadPoint(const Napi::Object& o, const char* key) {
  const std::vector<double> v = RequireNumbers(o, key);
  if (v.size() != 2) throw Error(ErrorCode::kInvalidArgument, "analytics", std::string(key) + " must be [x, y]");
  return {v[0], v[1]};
}

Napi::Array Ids(Napi::Env env, const std::vector<int64_t>& ids) {
  Napi::Array a = Napi::Array::New(env, ids.size());
  for (size_t i = 0; i < ids.size(); ++i) a.Set(uint32_t(i), Napi::Number::New(env, double(ids[i])));
  return a;
}

}  // namespace

analytics::AnalyticsConfig ReadAnalyticsConfig(const Napi::Object& o) {
  analytics::AnalyticsConfig c;
  const Napi::Value lines = o.Get("lines"), zones = o.Get("zones");
  if (!lines.IsArray() || !zones.IsArray()) {
    throw Error(ErrorCode::kInvalidArgument, "analytics", "analytics config needs lines and zones arrays");
  }
  const Napi::Array la = lines.As<Napi::Array>();
  for (uint32_t i = 0; i < la.Length(); ++i) {
    const Napi::Object l = la.Get(i).As<Napi::Object>();
    analytics::LineConfig lc;
    lc.id = RequireString(l, "id");
    lc.start = ReadPoint(l, "start");
    lc.end = ReadPoint(l, "end");
    const Napi::Value anchors = l.Get("anchors");
    if (!anchors.IsArray()) throw Error(ErrorCode::kInvalidArgument, "analytics", "line anchors must be an array");
    const Napi::Array aa = anchors.As<Napi::Array>();
    for (uint32_t k = 0; k < aa.Length(); ++k) {
      lc.anchors.push_back(ReadAnchor(aa.Get(k).ToString().Utf8Value(), "line anchors"));
    }
    lc.min_crossing_frames = RequireInt(l, "minCrossingFrames");
    const std::vector<double> dir = RequireNumbers(l, "direction");
    if (dir.size() == 4) {
      lc.has_direction = true;
      lc.direction_from = {dir[0], dir[1]};
      lc.direction_to = {dir[2], dir[3]};
    }
    c.lines.push_back(std::move(lc));
  }
  const Napi::Array za = zones.As<Napi::Array>();
  for (uint32_t i = 0; i < za.Length(); ++i) {
    const Napi::Object z = za.Get(i).As<Napi::Object>();
    analytics::ZoneConfig zc;
    zc.id = RequireString(z, "id");
    const std::vector<double> poly = RequireNumbers(z, "polygon");
    for (size_t k = 0; k + 1 < poly.size(); k += 2) zc.polygon.push_back({poly[k], poly[k + 1]});
    zc.anchor = ReadAnchor(RequireString(z, "anchor"), "zone anchor");
    for (double cls : RequireNumbers(z, "classes")) zc.classes.push_back(int32_t(cls));
    zc.enter_frames = RequireInt(z, "enterFrames");
    zc.exit_frames = RequireInt(z, "exitFrames");
    zc.loiter_ms = int64_t(RequireNumber(z, "loiterMs"));
    zc.max_occupancy = RequireInt(z, "maxOccupancy");
    c.zones.push_back(std::move(zc));
  }
  const Napi::Object s = RequireObject(o, "speed");
  c.speed.enabled = RequireBool(s, "enabled");
  c.speed.anchor = ReadAnchor(RequireString(s, "anchor"), "speed anchor");
  c.speed.smoothing = RequireNumber(s, "smoothing");
  c.speed.pixels_per_meter = RequireNumber(s, "pixelsPerMeter");
  c.speed.limit = RequireNumber(s, "limit");
  const std::vector<double> h = RequireNumbers(s, "homography");
  if (h.size() == 16) {
    Point img[4], ground[4];
    for (int k = 0; k < 4; ++k) {
      img[k] = {h[size_t(2 * k)], h[size_t(2 * k + 1)]};
      ground[k] = {h[size_t(8 + 2 * k)], h[size_t(8 + 2 * k + 1)]};
    }
    if (!analytics::SolveHomography(img, ground, c.speed.homography)) {
      throw Error(ErrorCode::kInvalidArgument, "analytics",
                  "speed.homography: the four point pairs do not determine a homography (three points on a line?)");
    }
    c.speed.has_homography = true;
  }
  c.use_predicted = RequireBool(o, "usePredicted");
  c.forget_frames = RequireInt(o, "forgetFrames");
  return c;
}

Napi::Object AnalyticsFrameToJs(Napi::Env env, const analytics::AnalyticsFrame& f) {
  using Kind = analytics::AnalyticsEvent::Kind;
  static const analytics::AnalyticsConfig kNone;
  const analytics::AnalyticsConfig& c = f.config ? *f.config : kNone;
  const char* unit = c.speed.metric() ? "m/s" : "px/s";
  auto line_id = [&](int32_t i) { return size_t(i) < c.lines.size() ? c.lines[size_t(i)].id : std::to_string(i); };
  auto zone_id = [&](int32_t i) { return size_t(i) < c.zones.size() ? c.zones[size_t(i)].id : std::to_string(i); };
  Napi::Object o = Napi::Object::New(env);
  o.Set("tsMs", double(f.ts_ms));
  o.Set("evaluated", f.evaluated);
  Napi::Array events = Napi::Array::New(env, f.events.size());
  for (size_t i = 0; i < f.events.size(); ++i) {
    const auto& e = f.events[i];
    Napi::Object j = Napi::Object::New(env);
    j.Set("type", analytics::EventKindName(e.kind));
    switch (e.kind) {
      case Kind::kLineCross:
        j.Set("line", line_id(e.index));
        j.Set("trackId", double(e.track_id));
        j.Set("classId", e.class_id);
        j.Set("direction", e.direction > 0 ? "in" : "out");
        break;
      case Kind::kZoneEnter:
        j.Set("zone", zone_id(e.index));
        j.Set("trackId", double(e.track_id));
        j.Set("classId", e.class_id);
        break;
      case Kind::kZoneExit:
      case Kind::kLoiter:
        j.Set("zone", zone_id(e.index));
        j.Set("trackId", double(e.track_id));
        j.Set("classId", e.class_id);
        j.Set("dwellSeconds", e.value);
        break;
      case Kind::kOvercrowd:
        j.Set("zone", zone_id(e.index));
        j.Set("occupancy", e.value);
        break;
      case Kind::kSpeed:
        j.Set("trackId", double(e.track_id));
        j.Set("classId", e.class_id);
        j.Set("speed", e.value);
        j.Set("unit", unit);
        break;
    }
    j.Set("tsMs", double(e.ts_ms));
    events.Set(uint32_t(i), j);
  }
  o.Set("events", events);
  Napi::Object lines = Napi::Object::New(env);
  for (size_t i = 0; i < f.lines.size(); ++i) {
    const auto& l = f.lines[i];
    Napi::Object j = Napi::Object::New(env);
    j.Set("crossedIn", Ids(env, l.crossed_in));
    j.Set("crossedOut", Ids(env, l.crossed_out));
    j.Set("in", double(l.in));
    j.Set("out", double(l.out));
    Napi::Array pc = Napi::Array::New(env, l.per_class.size());
    for (size_t k = 0; k < l.per_class.size(); ++k) {
      Napi::Object cc = Napi::Object::New(env);
      cc.Set("classId", l.per_class[k].class_id);
      cc.Set("in", double(l.per_class[k].in));
      cc.Set("out", double(l.per_class[k].out));
      pc.Set(uint32_t(k), cc);
    }
    j.Set("perClass", pc);
    lines.Set(line_id(int32_t(i)), j);
  }
  o.Set("lines", lines);
  Napi::Object zones = Napi::Object::New(env);
  for (size_t i = 0; i < f.zones.size(); ++i) {
    Napi::Object j = Napi::Object::New(env);
    j.Set("occupancy", f.zones[i].occupancy);
    j.Set("entered", Ids(env, f.zones[i].entered));
    j.Set("exited", Ids(env, f.zones[i].exited));
    zones.Set(zone_id(int32_t(i)), j);
  }
  o.Set("zones", zones);
  Napi::Array mem = Napi::Array::New(env, f.memberships.size());
  for (size_t i = 0; i < f.memberships.size(); ++i) {
    Napi::Object j = Napi::Object::New(env);
    j.Set("trackId", double(f.memberships[i].track_id));
    j.Set("zone", zone_id(f.memberships[i].zone));
    j.Set("dwellSeconds", double(f.memberships[i].dwell_ms) / 1000.0);
    mem.Set(uint32_t(i), j);
  }
  o.Set("memberships", mem);
  Napi::Array sp = Napi::Array::New(env, f.speeds.size());
  for (size_t i = 0; i < f.speeds.size(); ++i) {
    Napi::Object j = Napi::Object::New(env);
    j.Set("trackId", double(f.speeds[i].track_id));
    j.Set("speed", f.speeds[i].speed);
    j.Set("unit", unit);
    j.Set("directionDeg", f.speeds[i].direction_deg);
    sp.Set(uint32_t(i), j);
  }
  o.Set("speeds", sp);
  return o;
}

}  // namespace camtrack::binding
