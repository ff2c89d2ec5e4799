# Shared by scripts/*: install the system libraries Backprop uses, only when missing.
ensure_system_packages() {
  local missing=()
  [ -e /usr/lib/x86_64-linux-gnu/libomp5.so ] || ls /usr/lib/*/libomp5.so >/dev/null 2>&1 || missing+=(libomp-dev)
  ls /usr/lib/*/libopenblas.so.0 >/dev/null 2>&1 || missing+=(libopenblas-dev)
  [ -e /usr/include/zlib.h ] || missing+=(zlib1g-dev)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing ${missing[*]} (apt-get)..." >&2
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}
