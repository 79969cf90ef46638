#include "core/track/tracker.h"

namespace camtrack {
namespace track {

// Out of line so the vtable has one home (the core static library).
Tracker::~Tracker() = default;

void Tracker::TakeEvents(std::vector<TrackEvent>& out) { (void)out; }

uint64_t Tracker::DroppedEvents() const { return 0; }

}  // namespace track
}  // namespace camtrack
