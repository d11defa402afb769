#!/usr/bin/env bash
# Builds a real LLM server (llama.cpp's llama-server, from the vendored source
# in the llama-cpp-python sdist on PyPI) and a tiny random-weight Llama model
# with a locally trained BPE tokenizer, for testing peakrps against it.
#
#   bash make.sh            # server + model (idempotent: skips what exists)
#   bash make.sh server     # only bin/llama-server
#   bash make.sh model      # only model/tiny.gguf + model/tokenizer.json
#
# Output (default LLAMA_HOME=~/.cache/peakrps/llama):
#   $LLAMA_HOME/bin/llama-server
#   $LLAMA_HOME/model/tiny.gguf
#   $LLAMA_HOME/model/tokenizer.json
#
# Needs: network access to PyPI and Debian's archive only. The server build
# takes ~15-20 min on 2 cores and runs under nice -n 19.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LLAMA_HOME="${LLAMA_HOME:-$HOME/.cache/peakrps/llama}"
LLAMA_CPP_PYTHON_VERSION="0.3.36"      # sdist; vendor/llama.cpp is the source
LLAMA_CPP_PYTHON_SHA256="832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"
# Python packages for make_model.py, installed into $LLAMA_HOME/venv
# (gguf, tokenizers, numpy are used directly; the rest is their closure).
PY_PINS=(
  gguf==0.19.0 tokenizers==0.23.3 numpy==2.4.6
  PyYAML==6.0.4 tqdm==4.70.1 requests==2.34.2 huggingface_hub==2.5.0
  anyio==4.16.0 certifi==2026.10.19.post1 charset-normalizer==3.5.3 click==8.5.1
  filelock==4.3.2 fsspec==2026.9.0 h11==0.16.0 hf-xet==1.8.0 httpcore2==2.17.0
  httpx2==2.17.0 idna==3.21 packaging==26.4 truststore==0.10.5
  typing_extensions==4.16.0 urllib3==2.8.0
)
JOBS="${JOBS:-2}"
NICE="nice -n 19"
WHAT="${1:-all}"

PY="${PYTHON:-python3}"          # only to create the venv
VENV="$LLAMA_HOME/venv"
mkdir -p "$LLAMA_HOME/bin" "$LLAMA_HOME/model" "$LLAMA_HOME/src"

log() { printf '[make.sh %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

need_apt() {
  local missing=()
  command -v cmake >/dev/null || missing+=(cmake)
  command -v g++ >/dev/null || missing+=(g++)
  command -v make >/dev/null || missing+=(make)
  if ((${#missing[@]})); then
    log "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq cmake build-essential >/dev/null
  fi
}

ensure_venv() {
  local stamp="$VENV/.pins"
  if [[ -x "$VENV/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "${PY_PINS[*]}" ]]; then
    return
  fi
  log "venv $VENV: pip install ${PY_PINS[*]:0:3} (+closure)"
  rm -rf "$VENV"
  $NICE "$PY" -m venv "$VENV"
  $NICE "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PY_PINS[@]}"
  echo "${PY_PINS[*]}" >"$stamp"
}

fetch_sdist() {
  local tgz="$LLAMA_HOME/src/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION.tar.gz"
  local dir="$LLAMA_HOME/src/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION"
  if [[ ! -f "$dir/vendor/llama.cpp/CMakeLists.txt" ]]; then
    if [[ ! -f "$tgz" ]]; then
      log "pip download llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION (sdist)"
      # --no-binary only for this package: its build backend (scikit-build-core)
      # comes as a wheel for pip's metadata step. ':all:' would make pip build
      # cmake itself from source.
      ensure_venv >&2
      $NICE "$VENV/bin/pip" download --quiet --disable-pip-version-check --no-deps \
        --no-binary llama-cpp-python \
        "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" -d "$LLAMA_HOME/src" >&2
    fi
    echo "$LLAMA_CPP_PYTHON_SHA256  $tgz" | sha256sum -c --quiet - >&2 \
      || { echo "sha256 mismatch for $tgz" >&2; exit 1; }
    tar -xzf "$tgz" -C "$LLAMA_HOME/src"
  fi
  echo "$dir/vendor/llama.cpp"
}

build_server() {
  local bin="$LLAMA_HOME/bin/llama-server"
  if [[ -x "$bin" ]] && "$bin" --version >/dev/null 2>&1; then
    log "have $bin"
    return
  fi
  need_apt
  local src build
  src="$(fetch_sdist)"
  build="$LLAMA_HOME/src/build-$LLAMA_CPP_PYTHON_VERSION"
  log "configure $src -> $build"
  # Static libllama/libggml; no OpenSSL, no OpenMP (ggml's own thread pool),
  # no web UI (its assets would be downloaded), portable x86-64 + AVX2/FMA/F16C.
  $NICE cmake -S "$src" -B "$build" \
    -DCMAKE_BUILD_TYPE=Release \
    -DBUILD_SHARED_LIBS=OFF \
    -DGGML_NATIVE=OFF \
    -DGGML_OPENMP=OFF \
    -DLLAMA_OPENSSL=OFF \
    -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_EXAMPLES=OFF \
    -DLLAMA_BUILD_TOOLS=ON \
    -DLLAMA_BUILD_SERVER=ON \
    -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_BUILD_UI=OFF \
    -DLLAMA_USE_PREBUILT_UI=OFF \
    "-DCMAKE_EXE_LINKER_FLAGS=-static-libgcc -static-libstdc++" \
    >"$build.configure.log" 2>&1 || { tail -40 "$build.configure.log"; exit 1; }
  log "build llama-server (-j$JOBS, nice 19); log: $build.build.log"
  local t0=$SECONDS
  $NICE cmake --build "$build" --target llama-server -j"$JOBS" \
    >"$build.build.log" 2>&1 || { tail -40 "$build.build.log"; exit 1; }
  log "built in $((SECONDS - t0)) s"
  install -m 0755 "$build/bin/llama-server" "$bin.tmp"
  strip "$bin.tmp" || true
  mv "$bin.tmp" "$bin"
  "$bin" --version 2>&1 | head -3 >&2
}

build_model() {
  local gguf="$LLAMA_HOME/model/tiny.gguf" tok="$LLAMA_HOME/model/tokenizer.json"
  local stamp="$LLAMA_HOME/model/.stamp" want
  # Rebuild when make_model.py or the pins change.
  want="$(cat "$HERE/make_model.py" <(echo "${PY_PINS[*]}") | sha256sum | cut -d' ' -f1)"
  if [[ -s "$gguf" && -s "$tok" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    log "have $gguf"
    return
  fi
  ensure_venv
  log "make_model.py -> $LLAMA_HOME/model"
  $NICE "$VENV/bin/python" "$HERE/make_model.py" --out "$LLAMA_HOME/model"
  echo "$want" >"$stamp"
}

case "$WHAT" in
  all)    build_model; build_server ;;
  server) build_server ;;
  model)  build_model ;;
  *) echo "usage: bash make.sh [all|server|model]" >&2; exit 2 ;;
esac
log "done: $LLAMA_HOME/bin/llama-server $LLAMA_HOME/model/tiny.gguf"
