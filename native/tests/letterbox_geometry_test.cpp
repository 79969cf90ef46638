// Tests of the letterbox geometry (ComputeLetterbox / ComputeResizedSize): the Ultralytics centred and YOLOX
// top-left rules, rounding, and bad sizes.
#include "common/error.h"
#include "model_specs.h"
#include "preprocess/letterbox.h"
#include "test_main.h"

namespace {

using camtrack::ErrorCode;
using camtrack::LetterboxInfo;
using camtrack::preprocess::ComputeLetterbox;
using camtrack::preprocess::ComputeResizedSize;
using camtrack::preprocess::ModelInputSpec;
using ct_test::UltralyticsSpec;
using ct_test::YoloxSpec;

}  // namespace

// ---- geometry ----------------------------------------------------------------------------------------------

CT_TEST(preprocess_letterbox_yolox_1280x720_to_416_top_left) {
  const LetterboxInfo i = ComputeLetterbox(1280, 720, YoloxSpec());
  CT_EXPECT_NEAR(i.scale, 0.325, 1e-7);  // min(416/720, 416/1280)
  CT_EXPECT(i.pad_x == 0.f && i.pad_y == 0.f);
  CT_EXPECT(i.src_width == 1280 && i.src_height == 720);
  const auto rs = ComputeResizedSize(1280, 720, YoloxSpec());
  CT_EXPECT(rs.width == 416 && rs.height == 234);
  // YOLOX truncates: 1000x700 → r = 0.416, 700*r = 291.2 → 291.
  const auto rs2 = ComputeResizedSize(1000, 700, YoloxSpec());
  CT_EXPECT(rs2.width == 416 && rs2.height == 291);
}

CT_TEST(preprocess_letterbox_ultralytics_1280x720_to_640_center) {
  const LetterboxInfo i = ComputeLetterbox(1280, 720, UltralyticsSpec(640));
  CT_EXPECT_NEAR(i.scale, 0.5, 1e-9);
  CT_EXPECT(i.pad_x == 0.f);
  CT_EXPECT(i.pad_y == 140.f);  // (640 - 360) / 2
  const auto rs = ComputeResizedSize(1280, 720, UltralyticsSpec(640));
  CT_EXPECT(rs.width == 640 && rs.height == 360);
  // A box corner at input (320, 300) maps back to source (320-0)/0.5, (300-140)/0.5 = (640, 320).
  CT_EXPECT_NEAR((320 - i.pad_x) / i.scale, 640.0, 1e-4);
  CT_EXPECT_NEAR((300 - i.pad_y) / i.scale, 320.0, 1e-4);
}

CT_TEST(preprocess_letterbox_portrait_810x1080_to_640_center) {
  const LetterboxInfo i = ComputeLetterbox(810, 1080, UltralyticsSpec(640));
  CT_EXPECT_NEAR(i.scale, 640.0 / 1080.0, 1e-7);
  CT_EXPECT(i.pad_x == 80.f && i.pad_y == 0.f);  // new size 480x640, dw = 80
  const auto rs = ComputeResizedSize(810, 1080, UltralyticsSpec(640));
  CT_EXPECT(rs.width == 480 && rs.height == 640);
}

CT_TEST(preprocess_letterbox_center_odd_padding_goes_bottom_right) {
  // 1280x718 → 640x359: dh = 140.5, top = round(140.4) = 140 (bottom gets 141), as Ultralytics does.
  const LetterboxInfo i = ComputeLetterbox(1280, 718, UltralyticsSpec(640));
  CT_EXPECT(i.pad_y == 140.f);
  CT_EXPECT(ComputeResizedSize(1280, 718, UltralyticsSpec(640)).height == 359);
  // 1280x721 → 721*0.5 = 360.5 → Python round() gives 360 (half to even).
  CT_EXPECT(ComputeResizedSize(1280, 721, UltralyticsSpec(640)).height == 360);
}

CT_TEST(preprocess_letterbox_BAD_CALL_non_positive_size_throws_invalid_argument) {
  CT_EXPECT(ct_test::ThrowsCode(ErrorCode::kInvalidArgument, [] { ComputeLetterbox(0, 720, YoloxSpec()); }));
  ModelInputSpec bad = YoloxSpec();
  bad.std[1] = 0.f;
  CT_EXPECT(ct_test::ThrowsCode(ErrorCode::kInvalidArgument, [&] { ComputeLetterbox(1280, 720, bad); }));
}
