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

# Open MPI for `train --distributed` and its tests (mpirun, libmpi.so.40). Optional: when it
# cannot be installed (no apt-get, no network, no root), say so; the MPI tests then skip
# with that reason and everything else still runs.
ensure_open_mpi() {
  command -v mpirun >/dev/null 2>&1 && ls /usr/lib/*/libmpi.so.40 >/dev/null 2>&1 && return 0
  echo "Installing openmpi-bin libopenmpi-dev (apt-get) for the distributed-training tests..." >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if ! { $sudo apt-get update -qq >/dev/null &&
         DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq openmpi-bin libopenmpi-dev >/dev/null; }; then
    echo "warning: could not install Open MPI; the MPI tests (DistributedMPITests) will be skipped" >&2
  fi
}
