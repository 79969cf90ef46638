#pragma once
// A counting line: a directed segment start→end, the anchors of a box that decide its side, and how many frames a
// new side must hold before it counts. Per-track state is a value (LineTrackState) and LineStep() a pure function
// of (previous state, box, class) → (next state, crossing): the stage owns the states, tests drive the function.
//
// Direction convention (supervision's LineZone's): seen on the screen (y down), walking from start to end, the side
// on the LEFT is "in" — an object whose anchors move onto the left side crosses "in", onto the right "out". With
// `direction` given (DeepStream style, two points from→to), "in" is instead the crossing whose side change goes the
// way that vector points.
//
// The rule, per track and frame (the supervision algorithm, with its options):
//  1. the box is used only if every anchor lies between the two perpendiculars through the segment's ends; a frame
//     outside them also clears the track's history, so a track that walks around the segment's end and crosses the
//     line's extension is not counted when it comes back (supervision keeps the history and counts it; none of its
//     published test cases has such a trajectory, so they agree there);
//  2. a frame where the anchors straddle the line (some left, some right) is ignored;
//  3. the side is appended to the track's history of the last min_crossing_frames + 1 sides (at least 2); once full,
//     a crossing is counted when the oldest side differs from every later one — the new side held for
//     min_crossing_frames frames in a row. Back-and-forth flicker never holds, and a track counts once per change
//     of side: a second count in the same direction needs a count in the other direction first;
//  4. a track whose class changes starts a new history (counts go to the class it had while crossing; a track id
//     that a tracker reuses for another class never mixes the two).
// Tracks with id ≤ 0 (unconfirmed: −1 in supervision's and many trackers' convention) are never counted: the stage
// skips them before calling LineStep.
#include <cstdint>
#include <string>
#include <vector>

#include "core/analytics/geometry.h"

namespace camtrack::analytics {

constexpr int kMaxCrossingFrames = 30;  // history bits: min_crossing_frames + 1 ≤ 31

struct LineConfig {
  std::string id;
  Point start, end;
  std::vector<Anchor> anchors;  // 1..9, no repeats
  int min_crossing_frames = 2;  // 1..kMaxCrossingFrames
  bool has_direction = false;   // DeepStream-style direction vector
  Point direction_from, direction_to;
};

// Checks a line (finite, non-degenerate, anchors, frames); throws camtrack::Error kInvalidArgument naming `path`.
void ValidateLine(const LineConfig& c, const std::string& path);

// The precomputed form of a LineConfig (what LineStep reads).
struct LineGeometry {
  Point start, end;
  Point limit_a_from, limit_a_to, limit_b_from, limit_b_to;  // perpendiculars through start and end
  Anchor anchors[kNumAnchors];
  int num_anchors = 0;
  int history_length = 2;  // max(2, min_crossing_frames + 1)
  bool flip = false;       // direction vector points to the right side: swap in/out
  static LineGeometry From(const LineConfig& c);
};

struct LineTrackState {
  uint32_t history = 0;  // bit 0: newest side (1 = left = "in" side), bit k: k frames older
  uint8_t length = 0;    // sides in the history (≤ history_length)
  int32_t class_id = 0;
};

enum class Crossing : int8_t { kNone = 0, kIn = 1, kOut = -1 };

// One frame of one track (a usable box, id > 0): updates *state, returns the crossing counted in this frame.
Crossing LineStep(const LineGeometry& g, LineTrackState* state, const Box& box, int32_t class_id);

}  // namespace camtrack::analytics
