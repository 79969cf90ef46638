#pragma once
// The model input specs of the two model families in ../shared/assets/SOURCES.md, for the preprocessing tests.
#include "preprocess/letterbox.h"

namespace ct_test {

// The two model families in ../shared/assets/SOURCES.md.
inline camtrack::preprocess::ModelInputSpec YoloxSpec() {  // yolox_nano.onnx: 416, BGR, raw 0..255, top-left, pad 114
  camtrack::preprocess::ModelInputSpec s;
  s.width = s.height = 416;
  s.channel_order = camtrack::preprocess::ChannelOrder::kBGR;
  s.align = camtrack::preprocess::LetterboxAlign::kTopLeft;
  s.pad_value = 114.f;
  s.scale = 1.f;
  return s;
}
inline camtrack::preprocess::ModelInputSpec UltralyticsSpec(int size) {  // yolov8n / yolo11n: RGB, /255, centred, pad 114
  camtrack::preprocess::ModelInputSpec s;
  s.width = s.height = size;
  s.channel_order = camtrack::preprocess::ChannelOrder::kRGB;
  s.align = camtrack::preprocess::LetterboxAlign::kCenter;
  s.pad_value = 114.f;
  s.scale = 1.f / 255.f;
  return s;
}

}  // namespace ct_test
