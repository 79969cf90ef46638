# The prebuilt addon of @camtrack/linux-x64 (scripts/prebuild.mjs configures with -DCAMTRACK_PREBUILT=ON against the
# bundled FFmpeg and libjpeg-turbo of @camtrack/ffmpeg-linux-x64). Included at the end of CMakeLists.txt; changes
# nothing unless CAMTRACK_PREBUILT is ON, so the source build (`npx camtrack build-native`, `npm run build:dev`) is
# as before.
#
#   -static-libstdc++ -static-libgcc   no dependency on the user's libstdc++ (and its GLIBCXX version); with
#   --exclude-libs,ALL                 their symbols stay inside the addon (Node and onnxruntime keep their own)
#   cmake/glibc_compat.c               arc4random for the static libstdc++ (else the floor would be glibc 2.36)
#   RUNPATH (new dtags)                the bundled libraries are found next to the addon's package, whatever the
#                                      system has (LD_LIBRARY_PATH still overrides, for debugging):
#     $ORIGIN/../ffmpeg-linux-x64/lib                           node_modules/@camtrack/{linux-x64,ffmpeg-linux-x64}
#     $ORIGIN/node_modules/@camtrack/ffmpeg-linux-x64/lib       npm nested it under @camtrack/linux-x64
# The CUDA runtime is static already (CMakeLists.txt); NVDEC and the driver are loaded at run time as in every build.
option(CAMTRACK_PREBUILT "Build the addon as shipped in @camtrack/linux-x64 (static libstdc++, RUNPATH to the bundled FFmpeg)" OFF)
set(CAMTRACK_PREBUILT_RPATH "$ORIGIN/../ffmpeg-linux-x64/lib:$ORIGIN/node_modules/@camtrack/ffmpeg-linux-x64/lib"
  CACHE STRING "RUNPATH of the prebuilt addon")
if(CAMTRACK_PREBUILT AND TARGET camtrack)
  target_sources(camtrack PRIVATE ${CMAKE_CURRENT_LIST_DIR}/glibc_compat.c)
  target_link_options(camtrack PRIVATE -static-libstdc++ -static-libgcc -Wl,--exclude-libs,ALL -Wl,--enable-new-dtags)
  set_target_properties(camtrack PROPERTIES
    BUILD_WITH_INSTALL_RPATH ON
    INSTALL_RPATH "${CAMTRACK_PREBUILT_RPATH}")
endif()
