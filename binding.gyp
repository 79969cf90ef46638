# For node-gyp based tooling (prebuildify, node-gyp-build's install fallback). It holds NO list of sources: the one
# build is CMakeLists.txt, and this target only asks cmake-js to run it, then copies the result where node-gyp
# expects it.
{
  "targets": [
    {
      "target_name": "camtrack",
      "type": "none",
      "actions": [
        {
          "action_name": "cmake_js_build",
          "inputs": ["CMakeLists.txt"],
          "outputs": ["build/Release/camtrack.node"],
          "action": ["node", "scripts/build-native.mjs"]
        }
      ]
    }
  ]
}
