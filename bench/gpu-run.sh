#!/usr/bin/env bash
# The WebGPU benchmark on a lent GPU machine, in one command of at most ~9 minutes, typically far
# less (give the run tool timeout_s 600) (shared
# GPU.md): sets up the Vulkan loader and node from .gpu/ (bash bench/gpu-prepare.sh packs it;
# the run tool carries it), then, each in a process of its own under a time limit (one that
# fails leaves the others' numbers):
#   1. bench/gpu-train-step.ts: the MNIST autoencoder's step through Model.trainStep and fit,
#      at batch 256 and 8192 (one process each), and its encode at batch 1024 (host to host);
#   2. bench/gpu-examples.ts: every example's training step (trainStep and fit) and encode,
#      and those of bench/models/ (a 5×5 convolution with max and average pools), each
#      checked against the CPU backend, and a 4096³ matmul; its JSON records which steps run
#      conv+pool dispatches and flash attention forward and backward; it writes every step's
#      PyTorch equivalent (the module `repr compile --target pytorch` writes) for 3;
#   3. bench/gpu_torch_anchors.py: PyTorch CUDA (fp32, TF32 off) on those modules and the matmul;
#   4. bench/train_step_torch_cuda.py: PyTorch's hand-written autoencoder step and encoder.
# Prints every JSON line and a table last; JSON and logs also go to $OUT (the run tool brings
# it back), or /tmp/repr-gpu.
# Where there is no NVIDIA Vulkan driver it runs on Chromium's SwiftShader instead, at tiny
# sizes (--quick: batch 256 for the autoencoder, 2 for the examples, a 256³ matmul) with
# PyTorch on the CPU (the CUDA parts say why they skip): the check before a GPU run.
# Run from anywhere: bash bench/gpu-run.sh [--quick]
set -uo pipefail
cd "$(dirname "$0")/.."

if [ ! -f .gpu/gpu-train-step.mjs ] || [ ! -f .gpu/gpu-examples.mjs ] || [ ! -f .gpu/node.xz ]; then
  echo "no .gpu/ here: run bash bench/gpu-prepare.sh, and carry .gpu" >&2
  exit 1
fi
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
quick=()
[ "${1:-}" = "--quick" ] && quick=(--quick)
if [ -f "$nvidia_icd" ]; then
  for f in .gpu/gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
  export VK_DRIVER_FILES="$nvidia_icd"
  python="${PYTHON:-python3}"
  device=cuda
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
else
  echo "no NVIDIA Vulkan driver: SwiftShader, quick settings; PyTorch on the CPU (no CUDA here)"
  export VK_ICD_FILENAMES="${VK_ICD_FILENAMES:-/usr/lib/chromium/vk_swiftshader_icd.json}"
  quick=(--quick)
  python="${PYTHON:-/usr/bin/python3}"
  device=cpu
fi
xz -dc .gpu/node.xz > /tmp/node && chmod +x /tmp/node
/tmp/node --version

out="${OUT:-/tmp/repr-gpu}"
mkdir -p "$out"
rm -rf "$out/torch" "$out"/*.json "$out"/*.log
if [ ${#quick[@]} -gt 0 ]; then
  batches=(256); limit_ae=600; limit_ex=900; ae_args=(--quick); torch_args=(--seconds 0.5 --encode 1000); anchor_args=(--matmul 256 --seconds 0.4)
else
  batches=(256 8192); limit_ae=75; limit_ex=240; ae_args=(--seconds 2 --encode-batch 1024 --encode 10240); torch_args=(--seconds 2 --encode 1024); anchor_args=(--matmul 4096 --seconds 1)
fi
torch_batches="$(IFS=,; echo "${batches[*]}")"

# runs NAME LIMIT COMMAND...: the command under a time limit, its JSON to $out/NAME.json and log to $out/NAME.log.
runs() {
  local name=$1 limit=$2
  shift 2
  local start=$SECONDS
  timeout "$limit" "$@" > "$out/$name.json" 2> "$out/$name.log"
  local rc=$?
  echo "$name: exit $rc, $((SECONDS - start)) s"
  [ $rc -eq 0 ] || tail -n 15 "$out/$name.log"
}

for b in "${batches[@]}"; do
  runs "repr-ae-$b" "$limit_ae" /tmp/node .gpu/gpu-train-step.mjs --batches "$b" "${ae_args[@]}"
done
runs repr-examples "$limit_ex" /tmp/node .gpu/gpu-examples.mjs --torch-dir "$out/torch" "${quick[@]}"
if [ "$device" = cuda ]; then
  runs torch-anchors 90 "$python" bench/gpu_torch_anchors.py --torch-dir "$out/torch" --device cuda "${anchor_args[@]}"
  runs torch-ae 50 "$python" bench/train_step_torch_cuda.py --batches "$torch_batches" --device cuda "${torch_args[@]}"
else
  echo "PyTorch CUDA: skipped (no NVIDIA GPU here); PyTorch on the CPU instead, to try the scripts"
  runs torch-anchors 120 "$python" bench/gpu_torch_anchors.py --torch-dir "$out/torch" --device cpu "${anchor_args[@]}"
  runs torch-ae 60 "$python" bench/train_step_torch_cuda.py --batches "$torch_batches" --device cpu "${torch_args[@]}"
fi

cat "$out"/*.json
echo
/tmp/node .gpu/gpu-train-step.mjs --table "$out"/repr-ae-*.json "$out"/torch-ae.json
echo
/tmp/node .gpu/gpu-examples.mjs --table "$out"/repr-examples.json "$out"/torch-anchors.json
