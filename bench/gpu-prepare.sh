#!/usr/bin/env bash
# Packs .gpu/, what bench/gpu-run.sh needs on a GPU machine that has no Node.js, no Vulkan
# loader and no network (see shared GPU.md): the node binary (stripped, xz'd), the
# Vulkan/GL loader .deb files, one-file bundles of bench/gpu-train-step.ts and bench/gpu-examples.ts and the
# `webgpu` package cut down to its linux-x64 dawn.node. .gpu/ is git-ignored; it travels
# to the machine as a carried path (the run tool's `carry: [".gpu"]`, under 64 MiB).
# The node binary and the .deb files are fetched once; the bundle is rebuilt every time,
# so run this again after any change to the code the bench runs.
# Run from anywhere: bash bench/gpu-prepare.sh
set -euo pipefail
cd "$(dirname "$0")/.."

exclude="$(git rev-parse --git-common-dir)/info/exclude"
mkdir -p "$(dirname "$exclude")"
grep -qx '/.gpu/' "$exclude" 2>/dev/null || echo '/.gpu/' >> "$exclude"
mkdir -p .gpu/gl

if ! ls .gpu/gl/libvulkan1_*.deb > /dev/null 2>&1; then
  mkdir -p /tmp/amd64/partial
  o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
  apt-get "${o[@]}" update > /dev/null
  (cd .gpu/gl && apt-get "${o[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi

if [ ! -f .gpu/node.xz ]; then
  cp -L "$(command -v node)" .gpu/node
  strip .gpu/node
  xz -T2 -6 .gpu/node
fi

# The webgpu package: its entry and the linux-x64 Dawn only.
rm -rf .gpu/node_modules
mkdir -p .gpu/node_modules/webgpu/dist/linux-x64
cp node_modules/webgpu/package.json node_modules/webgpu/index.js .gpu/node_modules/webgpu/
cp node_modules/webgpu/dist/linux-x64/dawn.node .gpu/node_modules/webgpu/dist/linux-x64/

# The bench in one file; `webgpu` stays a runtime import, found in .gpu/node_modules.
for bench in gpu-train-step gpu-examples; do
  npx esbuild "bench/$bench.ts" --bundle --platform=node --format=esm --target=node20 \
    --external:webgpu --log-level=warning --outfile=".gpu/$bench.mjs"
done

du -sh .gpu
ls -l .gpu .gpu/gl
