#pragma once
// The inference seam. The pipeline fills batch buffers and hands a full batch to an InferenceWorker; the worker
// runs the model and reports completion through the callback it was given. Implementations:
//   - JS bridge (native/binding/ort_bridge.cpp): a worker_threads Worker in JS running onnxruntime-node; the batch
//     buffers are ArrayBuffers that worker allocated once and lent to native (no copy, no external buffer).
//   - TensorRT (issue: GPU inference) will implement the same interface on device buffers.
//
// Threading: Submit() is called from pipeline threads (never the JS main thread) and must not block for the length
// of an inference; Complete is reported from any thread via Pipeline::CompleteBatch.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace camtrack::infer {

// Memory of one batch slot: input [B,3,H,W] float32, output [B, …] float32. Borrowed; the lender keeps it alive until
// the pipeline has been stopped and the worker removed.
struct BatchBuffers {
  float* input = nullptr;
  size_t input_elems = 0;
  float* output = nullptr;
  size_t output_elems = 0;
};

class InferenceWorker {
 public:
  virtual ~InferenceWorker() = default;
  // The slots this worker owns (a worker runs one batch at a time; two slots let the pipeline fill one while the
  // other is inferred).
  virtual const std::vector<BatchBuffers>& slots() const = 0;
  // Asks the worker to run slot `local_slot` holding `images` valid images (for a fixed-batch model the tensor is
  // always the full batch). Returns false if the request could not be queued (worker gone): the pipeline then
  // fails that batch.
  virtual bool Submit(int local_slot, int images) = 0;
  virtual std::string name() const = 0;
};

}  // namespace camtrack::infer
