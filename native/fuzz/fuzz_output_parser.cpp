// libFuzzer target: the model output parsers (core/postprocess/output_parser.h) on arbitrary tensors.
//
// A model file is untrusted: its output shape decides the layout's dimensions (LayoutDims) and its output values
// are whatever the network computes (NaN, infinities, huge sizes, out-of-range class rows). The input's first bytes
// choose the configuration (layout, classes, anchors, thresholds, letterbox), the rest are the output floats
// (zero-padded to one image's slice). Properties checked besides "no crash, no sanitizer report":
//   - LayoutDims either throws camtrack::Error or returns dimensions that restate the shape exactly;
//   - the constructor and Parse throw nothing but camtrack::Error;
//   - Parse returns at most max_detections detections, scores finite, >= the threshold and non-increasing, boxes
//     finite, class ids in [0, num_classes) for the layouts that compute them, and clipped to the source frame when
//     its size is known.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/common/error.h"
#include "core/postprocess/output_parser.h"
#include "fuzz_input.h"

using camtrack::Detection;
using camtrack::Error;
using camtrack::LetterboxInfo;
using camtrack::fuzz::Fail;
using camtrack::fuzz::FuzzInput;
namespace pp = camtrack::postprocess;

namespace {

void CheckLayoutDims(pp::OutputLayout layout, FuzzInput& in) {
  const std::vector<int64_t> shape = {in.I64(), in.I64(), in.I64()};
  int nc = -7, na = -7;
  try {
    pp::LayoutDims(layout, shape, &nc, &na);
  } catch (const Error&) {
    return;
  }
  switch (layout) {
    case pp::OutputLayout::kUltralytics:
      if (int64_t{nc} + 4 != shape[1] || int64_t{na} != shape[2] || nc < 1) Fail("LayoutDims(ultralytics) misreads the shape");
      break;
    case pp::OutputLayout::kYoloxRaw:
      if (int64_t{nc} + 5 != shape[2] || int64_t{na} != shape[1] || nc < 1) Fail("LayoutDims(yolox) misreads the shape");
      break;
    case pp::OutputLayout::kEndToEnd:
      if (shape[2] != 6 || int64_t{na} != shape[1] || nc != 0) Fail("LayoutDims(e2e) misreads the shape");
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  const uint8_t mode = in.Byte();
  pp::ParserConfig c;
  c.layout = static_cast<pp::OutputLayout>(mode % 3);
  CheckLayoutDims(c.layout, in);

  // Model input 32..256 px in steps of 32 (stride-aligned, so a YOLOX grid usually fits), classes 0..15.
  c.input_width = 32 * (1 + in.Byte() % 8);
  c.input_height = 32 * (1 + in.Byte() % 8);
  c.num_classes = in.Byte() % 16;
  const int grid = (c.input_width / 8) * (c.input_height / 8) + (c.input_width / 16) * (c.input_height / 16) +
                   (c.input_width / 32) * (c.input_height / 32);
  const uint16_t anchors = in.U16();
  // Mostly the anchor count the grid implies (YOLOX must match it); otherwise 0..1023 (mismatches throw).
  c.num_anchors = (mode & 0x80) ? anchors % 1024 : (c.layout == pp::OutputLayout::kYoloxRaw ? grid : 1 + anchors % 1024);
  // Thresholds: mostly in [0, 1], sometimes raw bits (NaN, negative, > 1: the constructor must refuse them).
  const uint8_t flags = in.Byte();
  c.score_threshold = (flags & 1) ? in.Float() : in.Byte() / 255.f;
  c.nms_iou = (flags & 2) ? in.Float() : in.Byte() / 255.f;
  c.class_agnostic_nms = flags & 4;
  c.nms_for_end_to_end = flags & 8;
  c.max_detections = (flags & 16) ? -static_cast<int>(in.Byte()) : 1 + in.Byte();
  if (flags & 32) c.strides = {static_cast<int>(static_cast<int8_t>(in.Byte()))};

  LetterboxInfo lb;
  lb.scale = in.Float();
  lb.pad_x = in.Float();
  lb.pad_y = in.Float();
  lb.src_width = static_cast<int16_t>(in.U16());
  lb.src_height = static_cast<int16_t>(in.U16());

  pp::OutputParser* parser = nullptr;
  try {
    parser = new pp::OutputParser(c);
  } catch (const Error&) {
    return 0;  // a configuration the parser refuses, with a coded error
  }
  std::vector<float> output(parser->elements_per_image(), 0.f);
  const size_t given = in.rest_size() / sizeof(float);
  for (size_t i = 0; i < output.size() && i < given; ++i) {
    FuzzInput f(in.rest() + i * sizeof(float), sizeof(float));
    output[i] = f.Float();
  }
  std::vector<Detection> out;
  try {
    parser->Parse(output.data(), lb, out);
  } catch (const Error&) {
    delete parser;
    return 0;
  }
  delete parser;

  if (out.size() > static_cast<size_t>(c.max_detections)) Fail("more detections than max_detections");
  for (size_t i = 0; i < out.size(); ++i) {
    const Detection& d = out[i];
    if (!std::isfinite(d.score) || !(d.score >= c.score_threshold)) Fail("score not finite or below the threshold");
    if (i > 0 && d.score > out[i - 1].score) Fail("scores not in descending order");
    if (!std::isfinite(d.box.x1) || !std::isfinite(d.box.y1) || !std::isfinite(d.box.x2) || !std::isfinite(d.box.y2)) {
      Fail("box coordinate not finite");
    }
    if (c.layout != pp::OutputLayout::kEndToEnd && (d.class_id < 0 || d.class_id >= c.num_classes)) {
      Fail("class id outside [0, num_classes)");
    }
    if (lb.src_width > 0 && lb.src_height > 0) {
      const float w = lb.src_width, h = lb.src_height;
      if (d.box.x1 < 0 || d.box.x2 > w || d.box.x1 > w || d.box.x2 < 0 || d.box.y1 < 0 || d.box.y2 > h ||
          d.box.y1 > h || d.box.y2 < 0) {
        Fail("box not clipped to the source frame");
      }
    }
  }
  return 0;
}
