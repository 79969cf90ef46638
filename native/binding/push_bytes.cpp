#include "binding/push_bytes.h"

#include "core/common/error.h"

namespace camtrack::binding {

void ReleaseQueue::Add(napi_ref ref) {
  std::lock_guard<std::mutex> lock(mu_);
  refs_.push_back(ref);
  if (refs_.size() == 1 && wake_) wake_();
}

void ReleaseQueue::Drain(napi_env env) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (refs_.empty()) return;
    scratch_.swap(refs_);
  }
  for (napi_ref ref : scratch_) napi_delete_reference(env, ref);
  scratch_.clear();
}

void ReleaseQueue::Disarm() {
  std::lock_guard<std::mutex> lock(mu_);
  wake_ = nullptr;
}

size_t ReleaseQueue::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return refs_.size();
}

JsPushedBytes::JsPushedBytes(Napi::Env env, const Napi::Uint8Array& bytes, std::shared_ptr<ReleaseQueue> release)
    : data_(bytes.Data()), size_(bytes.ByteLength()), release_(std::move(release)) {
  if (size_ == 0) {
    data_ = nullptr;
    return;
  }
  if (napi_create_reference(env, bytes, 1, &ref_) != napi_ok)
    throw Error(ErrorCode::kInternal, "push", "could not hold the pushed bytes (napi_create_reference failed)");
}

JsPushedBytes::~JsPushedBytes() {
  if (ref_) release_->Add(ref_);
}

}  // namespace camtrack::binding
