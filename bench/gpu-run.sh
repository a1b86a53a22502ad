#!/usr/bin/env bash
# The WebGPU benchmark on a lent GPU machine, in one command (shared GPU.md): sets up the
# Vulkan loader and node from .gpu/ (bash bench/gpu-prepare.sh packs it; the run tool
# carries it), runs bench/gpu-train-step.ts's bundle once per train batch (a process
# each, so that one failing leaves the others' numbers), then PyTorch's CUDA anchor
# (bench/train_step_torch_cuda.py) with the machine's python3, and prints every JSON
# line and a table last. The JSON and logs also go to $OUT (the run tool brings it
# back), or /tmp/repr-gpu.
# Where there is no NVIDIA Vulkan driver it runs on Chromium's SwiftShader instead, with
# --quick settings (batch 256, 1 s) and PyTorch on the CPU: the check before a GPU run.
# Run from anywhere: bash bench/gpu-run.sh [--quick]
set -uo pipefail
cd "$(dirname "$0")/.."

if [ ! -f .gpu/gpu-train-step.mjs ] || [ ! -f .gpu/node.xz ]; then
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
  torch_args=(--device cuda)
  limit=100
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
else
  echo "no NVIDIA Vulkan driver: SwiftShader, quick settings"
  export VK_ICD_FILENAMES="${VK_ICD_FILENAMES:-/usr/lib/chromium/vk_swiftshader_icd.json}"
  quick=(--quick)
  python="${PYTHON:-/usr/bin/python3}"
  torch_args=(--device cpu --seconds 1 --encode 1000)
  limit=900  # a step takes seconds on SwiftShader
fi
xz -dc .gpu/node.xz > /tmp/node && chmod +x /tmp/node
/tmp/node --version

out="${OUT:-/tmp/repr-gpu}"
mkdir -p "$out"
if [ ${#quick[@]} -gt 0 ]; then batches=(256); else batches=(256 1024 8192); fi
torch_batches="$(IFS=,; echo "${batches[*]}")"

for b in "${batches[@]}"; do
  start=$SECONDS
  timeout "$limit" /tmp/node .gpu/gpu-train-step.mjs --batches "$b" "${quick[@]}" > "$out/repr-$b.json" 2> "$out/repr-$b.log"
  rc=$?
  echo "repr batch $b: exit $rc, $((SECONDS - start)) s"
  [ $rc -eq 0 ] || tail -n 15 "$out/repr-$b.log"
done

start=$SECONDS
timeout 90 "$python" bench/train_step_torch_cuda.py --batches "$torch_batches" "${torch_args[@]}" > "$out/torch.json" 2> "$out/torch.log"
rc=$?
echo "PyTorch: exit $rc, $((SECONDS - start)) s"
[ $rc -eq 0 ] || tail -n 15 "$out/torch.log"

cat "$out"/*.json
echo
/tmp/node .gpu/gpu-train-step.mjs --table "$out"/*.json
