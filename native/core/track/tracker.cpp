#include "core/track/tracker.h"

namespace camtrack {
namespace track {

// Out of line so the vtable has one home (the core static library).
Tracker::~Tracker() = default;

}  // namespace track
}  // namespace camtrack
