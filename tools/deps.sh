# Sourced by ./run and ./test: installs the Debian 12 packages Secateur
# builds and tests with, asking apt only for what is missing.
SC_DEB_PACKAGES="meson ninja-build pkg-config gcc g++ libglib2.0-dev libjson-glib-dev \
libsentencepiece-dev libopenblas-dev liblapacke-dev libcairo2-dev python3 libopenmpi-dev openmpi-bin \
libgtk-4-dev libadwaita-1-dev xvfb xauth gettext appstream desktop-file-utils fonts-dejavu-core libxml2-utils iso-codes"

sc_ensure_packages () {
  missing=""
  for p in $SC_DEB_PACKAGES "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  echo "Installing Debian packages:$missing" >&2
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "need root or sudo to install:$missing" >&2; return 1; }
    sudo_cmd="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -q || return 1
  # shellcheck disable=SC2086
  $sudo_cmd apt-get install -y -q --no-install-recommends $missing || return 1
}

# Configures (once) and builds a meson build directory: sc_build DIR [meson options].
sc_build () {
  dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" || return 1
  fi
  meson compile -C "$dir" || return 1
}
