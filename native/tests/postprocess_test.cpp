// Postprocess tests: layout detection on the shared models' output shapes, NMS, and each layout's parser on
// hand-built tensors with known answers (decode, letterbox un-mapping, clipping, thresholds, NMS, ordering).
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/postprocess/nms.h"
#include "core/postprocess/output_parser.h"
#include "test_main.h"

namespace pp = camtrack::postprocess;

namespace {

using ct_test::ThrowsCode;

// A parser config of `layout` with the detection options at camtrack's defaults (ParserConfig holds none).
pp::ParserConfig ParserOf(pp::OutputLayout layout) {
  pp::ParserConfig c;
  c.layout = layout;
  c.score_threshold = 0.25f;
  c.nms_iou = 0.45f;
  c.max_detections = 300;
  return c;
}

// Output shapes of the four shared models (../shared/assets/SOURCES.md) and their inputs.
const std::vector<int64_t> kYoloxNanoShape = {1, 3549, 85};     // yolox_nano.onnx, 416x416
const std::vector<int64_t> kYolov8nShape = {1, 84, 8400};       // yolov8n_int8.onnx, 640x640
const std::vector<int64_t> kYolo11n320Shape = {1, 84, 2100};    // yolo11n_int8_320.onnx, 320x320
const std::vector<int64_t> kYolo26nE2eShape = {1, 300, 6};      // yolo26n_int8_e2e.onnx, 640x640

camtrack::Detection PpDet(float x1, float y1, float x2, float y2, float score, int cls) {
  camtrack::Detection d;
  d.box = {x1, y1, x2, y2};
  d.score = score;
  d.class_id = cls;
  return d;
}

#define PP_EXPECT_BOX(d, ex1, ey1, ex2, ey2)  \
  do {                                        \
    CT_EXPECT_NEAR((d).box.x1, (ex1), 1e-3);  \
    CT_EXPECT_NEAR((d).box.y1, (ey1), 1e-3);  \
    CT_EXPECT_NEAR((d).box.x2, (ex2), 1e-3);  \
    CT_EXPECT_NEAR((d).box.y2, (ey2), 1e-3);  \
  } while (0)

}  // namespace

// The layout itself is detected in TypeScript (test/unit/model-layout.test.ts); here: what each layout implies.
CT_TEST(postprocess_layout_dims_shared_models) {
  int nc = 0, na = 0;
  pp::LayoutDims(pp::OutputLayout::kYoloxRaw, kYoloxNanoShape, &nc, &na);
  CT_EXPECT(nc == 80 && na == 3549);
  pp::LayoutDims(pp::OutputLayout::kUltralytics, kYolov8nShape, &nc, &na);
  CT_EXPECT(nc == 80 && na == 8400);
  pp::LayoutDims(pp::OutputLayout::kUltralytics, kYolo11n320Shape, &nc, &na);
  CT_EXPECT(nc == 80 && na == 2100);
  pp::LayoutDims(pp::OutputLayout::kEndToEnd, kYolo26nE2eShape, &nc, &na);
  CT_EXPECT(na == 300);
}

CT_TEST(postprocess_layout_dims_bad_shapes_throw_model_error) {
  std::string msg;
  CT_EXPECT(ThrowsCode(camtrack::ErrorCode::kModel,
                       [] { pp::LayoutDims(pp::OutputLayout::kUltralytics, {1, 4, 8400}, nullptr, nullptr); }, &msg));
  CT_EXPECT(msg.find("[1,4,8400]") != std::string::npos);
  CT_EXPECT(ThrowsCode(camtrack::ErrorCode::kModel,
                       [] { pp::LayoutDims(pp::OutputLayout::kEndToEnd, {1, 300, 7}, nullptr, nullptr); }));
  CT_EXPECT(ThrowsCode(camtrack::ErrorCode::kModel,
                       [] { pp::LayoutDims(pp::OutputLayout::kYoloxRaw, {84, 8400}, nullptr, nullptr); }));
  // Regression (native/fuzz, native/fuzz/regressions/output_parser/layout-dims-int-truncation): dimensions past
  // INT_MAX were truncated to a plausible int ([1, 2^32+7, 40] as YOLOX with 7 anchors) instead of refused.
  CT_EXPECT(ThrowsCode(camtrack::ErrorCode::kModel,
                       [] { pp::LayoutDims(pp::OutputLayout::kYoloxRaw, {1, (int64_t{1} << 32) + 7, 40}, nullptr, nullptr); }));
  CT_EXPECT(ThrowsCode(camtrack::ErrorCode::kModel,
                       [] { pp::LayoutDims(pp::OutputLayout::kUltralytics, {1, 84, (int64_t{1} << 32) + 8400}, nullptr, nullptr); }));
  CT_EXPECT(ThrowsCode(camtrack::ErrorCode::kModel,
                       [] { pp::LayoutDims(pp::OutputLayout::kEndToEnd, {1, (int64_t{1} << 31), 6}, nullptr, nullptr); }));
  bool hint_names_layout = false;
  try {
    pp::LayoutDims(pp::OutputLayout::kYoloxRaw, {1, 100, 5}, nullptr, nullptr);
  } catch (const camtrack::Error& e) {
    hint_names_layout = e.hint().find("model.layout") != std::string::npos && e.stage() == "postprocess";
  }
  CT_EXPECT(hint_names_layout);
}

CT_TEST(postprocess_layout_names_round_trip) {
  for (auto l : {pp::OutputLayout::kUltralytics, pp::OutputLayout::kYoloxRaw, pp::OutputLayout::kEndToEnd}) {
    pp::OutputLayout parsed = pp::OutputLayout::kUltralytics;
    CT_EXPECT(pp::ParseLayoutName(pp::LayoutName(l), &parsed));
    CT_EXPECT(parsed == l);
  }
  CT_EXPECT(std::string(pp::LayoutName(pp::OutputLayout::kYoloxRaw)) == "yolox");
  CT_EXPECT(std::string(pp::LayoutName(pp::OutputLayout::kEndToEnd)) == "e2e");
  pp::OutputLayout untouched = pp::OutputLayout::kEndToEnd;
  CT_EXPECT(!pp::ParseLayoutName("yolov8", &untouched));
  CT_EXPECT(untouched == pp::OutputLayout::kEndToEnd);
}

CT_TEST(postprocess_nms_class_aware_and_agnostic) {
  // B overlaps A with IoU 81/119 = 0.68; C is B's box with another class; D is far away. Input not sorted.
  const std::vector<camtrack::Detection> input = {
      PpDet(1, 1, 11, 11, 0.8f, 0),        // B
      PpDet(100, 100, 120, 130, 0.6f, 0),  // D
      PpDet(0, 0, 10, 10, 0.9f, 0),        // A
      PpDet(1, 1, 11, 11, 0.7f, 1),        // C
  };
  std::vector<int> scratch;
  std::vector<camtrack::Detection> d = input;
  pp::Nms(d, 0.45f, /*class_agnostic=*/false, 300, scratch);
  CT_EXPECT(d.size() == 3);
  CT_EXPECT_NEAR(d[0].score, 0.9, 1e-6);
  CT_EXPECT(d[1].class_id == 1);
  CT_EXPECT_NEAR(d[1].score, 0.7, 1e-6);
  CT_EXPECT_NEAR(d[2].score, 0.6, 1e-6);

  d = input;
  pp::Nms(d, 0.45f, /*class_agnostic=*/true, 300, scratch);
  CT_EXPECT(d.size() == 2);
  CT_EXPECT_NEAR(d[0].score, 0.9, 1e-6);
  CT_EXPECT_NEAR(d[1].score, 0.6, 1e-6);

  // Threshold above the overlap: nothing suppressed. max_detections caps the result.
  d = input;
  pp::Nms(d, 0.7f, false, 300, scratch);
  CT_EXPECT(d.size() == 4);
  d = input;
  pp::Nms(d, 0.7f, false, 2, scratch);
  CT_EXPECT(d.size() == 2);
  CT_EXPECT_NEAR(d[1].score, 0.8, 1e-6);
}

CT_TEST(postprocess_nms_iou_equal_to_threshold_is_kept) {
  // IoU of these two is exactly 0.5 (overlap 50, union 100): suppression needs IoU > threshold.
  std::vector<camtrack::Detection> d = {PpDet(0, 0, 10, 10, 0.9f, 0), PpDet(0, 0, 10, 5, 0.8f, 0)};
  CT_EXPECT_NEAR(camtrack::IoU(d[0].box, d[1].box), 0.5, 1e-7);
  std::vector<int> scratch;
  pp::Nms(d, 0.5f, false, 0, scratch);
  CT_EXPECT(d.size() == 2);
  pp::Nms(d, 0.49f, false, 0, scratch);
  CT_EXPECT(d.size() == 1);
  std::vector<camtrack::Detection> none;
  pp::Nms(none, 0.5f, false, 10, scratch);
  CT_EXPECT(none.empty());
}

CT_TEST(postprocess_ultralytics_decode_unletterbox_clip_nms) {
  // 64x64 input, N = 5 anchors, 3 classes, channel-major [4+3, 5].
  pp::ParserConfig c = ParserOf(pp::OutputLayout::kUltralytics);
  c.input_width = c.input_height = 64;
  c.num_classes = 3;
  c.num_anchors = 5;
  pp::OutputParser parser(c);
  CT_EXPECT(parser.elements_per_image() == 7 * 5);
  const int n = 5;
  std::vector<float> t(7 * n, 0.f);
  auto set = [&](int i, float cx, float cy, float w, float h, float p0, float p1, float p2) {
    t[0 * n + i] = cx;
    t[1 * n + i] = cy;
    t[2 * n + i] = w;
    t[3 * n + i] = h;
    t[4 * n + i] = p0;
    t[5 * n + i] = p1;
    t[6 * n + i] = p2;
  };
  set(0, 32, 32, 20, 10, 0.1f, 0.9f, 0.2f);   // class 1, 0.9
  set(1, 33, 32, 20, 10, 0.1f, 0.8f, 0.2f);   // same class, overlapping: suppressed
  set(2, 10, 10, 4, 4, 0.2f, 0.1f, 0.05f);    // below 0.25
  set(3, 2, 60, 10, 20, 0.5f, 0.1f, 0.1f);    // class 0, crosses the left and bottom edges
  set(4, 32, 32, 20, 10, 0.1f, 0.2f, 0.7f);   // same box as anchor 0, other class: kept (class-aware)
  // Source 128x96 letterboxed to 64x64 centred: scale 0.5, 64x48 image, pad_y 8.
  camtrack::LetterboxInfo lb;
  lb.scale = 0.5f;
  lb.pad_x = 0.f;
  lb.pad_y = 8.f;
  lb.src_width = 128;
  lb.src_height = 96;
  std::vector<camtrack::Detection> out;
  parser.Parse(t.data(), lb, out);
  CT_EXPECT(out.size() == 3);
  CT_EXPECT(out[0].class_id == 1);
  CT_EXPECT_NEAR(out[0].score, 0.9, 1e-6);
  PP_EXPECT_BOX(out[0], 44, 38, 84, 58);  // ((32-10)-0)/0.5, ((32-5)-8)/0.5, ...
  CT_EXPECT(out[1].class_id == 2);
  CT_EXPECT_NEAR(out[1].score, 0.7, 1e-6);
  PP_EXPECT_BOX(out[1], 44, 38, 84, 58);
  CT_EXPECT(out[2].class_id == 0);
  CT_EXPECT_NEAR(out[2].score, 0.5, 1e-6);
  PP_EXPECT_BOX(out[2], 0, 84, 14, 96);  // x1 = -6 and y2 = 124 clipped

  // Class-agnostic: the class-2 twin of anchor 0 goes too.
  c.class_agnostic_nms = true;
  pp::OutputParser agnostic(c);
  agnostic.Parse(t.data(), lb, out);
  CT_EXPECT(out.size() == 2);
  CT_EXPECT(out[0].class_id == 1 && out[1].class_id == 0);

  // Higher threshold and max_detections.
  c.class_agnostic_nms = false;
  c.score_threshold = 0.6f;
  c.max_detections = 1;
  pp::OutputParser strict(c);
  strict.Parse(t.data(), lb, out);
  CT_EXPECT(out.size() == 1);
  CT_EXPECT_NEAR(out[0].score, 0.9, 1e-6);
}

CT_TEST(postprocess_yolox_grid_decode) {
  // 64x64 input, strides 8/16/32: 64 + 16 + 4 = 84 anchor rows of 5 + 2 classes.
  pp::ParserConfig c = ParserOf(pp::OutputLayout::kYoloxRaw);
  c.input_width = c.input_height = 64;
  c.num_classes = 2;
  c.num_anchors = 84;
  pp::OutputParser parser(c);
  const int row = 7;
  std::vector<float> t(84 * row, 0.f);
  auto set = [&](int i, float dx, float dy, float dw, float dh, float obj, float c0, float c1) {
    float* r = &t[i * row];
    r[0] = dx, r[1] = dy, r[2] = dw, r[3] = dh, r[4] = obj, r[5] = c0, r[6] = c1;
  };
  // Stride 16 grid (4x4) starts at row 64; cell (gx=1, gy=2) is row 64 + 2*4 + 1 = 73:
  // cx = (0.5+1)*16 = 24, cy = (0.25+2)*16 = 36, w = exp(ln 2)*16 = 32, h = exp(0)*16 = 16; score 0.8*0.9.
  set(73, 0.5f, 0.25f, std::log(2.f), 0.f, 0.8f, 0.5f, 0.9f);
  // Stride 32 grid (2x2) starts at row 80; cell (0,0): box (-16,-16,16,16) in input pixels; score 0.9*0.6.
  set(80, 0.f, 0.f, 0.f, 0.f, 0.9f, 0.6f, 0.1f);
  // High objectness but low class probability: 0.9 * 0.2 = 0.18 < 0.25.
  set(5, 0.f, 0.f, 0.f, 0.f, 0.9f, 0.2f, 0.1f);
  // YOLOX letterbox: top-left, no padding; source 128x100 at scale 0.5.
  camtrack::LetterboxInfo lb;
  lb.scale = 0.5f;
  lb.src_width = 128;
  lb.src_height = 100;
  std::vector<camtrack::Detection> out;
  parser.Parse(t.data(), lb, out);
  CT_EXPECT(out.size() == 2);
  CT_EXPECT(out[0].class_id == 1);
  CT_EXPECT_NEAR(out[0].score, 0.72, 1e-6);
  PP_EXPECT_BOX(out[0], 16, 56, 80, 88);  // (24-16)/0.5, (36-8)/0.5, (24+16)/0.5, (36+8)/0.5
  CT_EXPECT(out[1].class_id == 0);
  CT_EXPECT_NEAR(out[1].score, 0.54, 1e-6);
  PP_EXPECT_BOX(out[1], 0, 0, 32, 32);  // (-32,-32,32,32) clipped

  // The anchor rows must match the grid of the input size.
  c.num_anchors = 85;
  CT_EXPECT(ThrowsCode(camtrack::ErrorCode::kModel, [&] { pp::OutputParser bad(c); }));
}

CT_TEST(postprocess_end_to_end_filter_round_class_optional_nms) {
  pp::ParserConfig c = ParserOf(pp::OutputLayout::kEndToEnd);
  c.input_width = c.input_height = 640;
  c.num_classes = 80;
  c.num_anchors = 4;
  const std::vector<float> t = {
      10, 20, 30, 40, 0.9f, 2.0f,      //
      11, 21, 31, 41, 0.8f, 2.0f,      // near-duplicate of row 0
      0,  0,  5,  5,  0.1f, 0.0f,      // below threshold
      50, 50, 250, 90, 0.6f, 0.9999f,  // class rounds to 1; x2 runs past the source width
  };
  // scale 2, pad_x 4: x_src = (x - 4) / 2; source 100x100.
  camtrack::LetterboxInfo lb;
  lb.scale = 2.f;
  lb.pad_x = 4.f;
  lb.pad_y = 0.f;
  lb.src_width = 100;
  lb.src_height = 100;
  std::vector<camtrack::Detection> out;
  pp::OutputParser parser(c);
  parser.Parse(t.data(), lb, out);
  CT_EXPECT(out.size() == 3);
  CT_EXPECT(out[0].class_id == 2);
  PP_EXPECT_BOX(out[0], 3, 10, 13, 20);
  CT_EXPECT_NEAR(out[1].score, 0.8, 1e-6);
  CT_EXPECT(out[2].class_id == 1);
  PP_EXPECT_BOX(out[2], 23, 25, 100, 45);  // x2 = 123 clipped to 100

  c.nms_for_end_to_end = true;
  pp::OutputParser with_nms(c);
  with_nms.Parse(t.data(), lb, out);
  CT_EXPECT(out.size() == 2);
  CT_EXPECT_NEAR(out[0].score, 0.9, 1e-6);
  CT_EXPECT_NEAR(out[1].score, 0.6, 1e-6);
}

CT_TEST(postprocess_parse_reuses_memory_and_rejects_bad_input) {
  pp::ParserConfig c = ParserOf(pp::OutputLayout::kEndToEnd);
  c.num_anchors = 2;
  c.input_width = c.input_height = 640;
  const std::vector<float> t = {10, 20, 30, 40, 0.9f, 0.f, 50, 60, 70, 80, 0.8f, 1.f};
  camtrack::LetterboxInfo lb;
  lb.src_width = 640;
  lb.src_height = 640;
  pp::OutputParser parser(c);
  std::vector<camtrack::Detection> out;
  out.reserve(c.max_detections);
  const camtrack::Detection* data = out.data();
  for (int i = 0; i < 5; ++i) {
    parser.Parse(t.data(), lb, out);
    CT_EXPECT(out.size() == 2);
  }
  CT_EXPECT(out.data() == data);  // the caller's capacity was enough: no reallocation
  lb.scale = 0.f;
  CT_EXPECT(ThrowsCode(camtrack::ErrorCode::kInvalidArgument, [&] { parser.Parse(t.data(), lb, out); }));
  c.score_threshold = 1.5f;
  CT_EXPECT(ThrowsCode(camtrack::ErrorCode::kInvalidArgument, [&] { pp::OutputParser bad(c); }));
  // Batch stride of the shared models.
  pp::ParserConfig u = ParserOf(pp::OutputLayout::kUltralytics);
  u.num_classes = 80;
  u.num_anchors = 8400;
  CT_EXPECT(pp::OutputElementsPerImage(u) == size_t(84) * 8400);
}

CT_TEST(postprocess_drops_non_finite_model_values) {
  // A broken model's NaN/Inf would reach JS as boxes nobody can use (JSON has no NaN): such rows give no detection.
  pp::ParserConfig c = ParserOf(pp::OutputLayout::kEndToEnd);
  c.input_width = c.input_height = 640;
  c.num_classes = 80;
  c.num_anchors = 5;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> t = {
      10,  20, 30,  40, 0.9f, 1.f,  // the only usable row
      nan, 20, 30,  40, 0.9f, 1.f,  //
      10,  20, inf, 40, 0.8f, 1.f,  //
      10,  20, 30,  40, inf,  1.f,  //
      10,  20, 30,  40, 0.7f, nan,  // class id
  };
  camtrack::LetterboxInfo lb;
  lb.src_width = 640;
  lb.src_height = 640;
  std::vector<camtrack::Detection> out;
  pp::OutputParser parser(c);
  parser.Parse(t.data(), lb, out);
  CT_EXPECT(out.size() == 1);
  CT_EXPECT_NEAR(out[0].score, 0.9, 1e-6);
  PP_EXPECT_BOX(out[0], 10, 20, 30, 40);
}
