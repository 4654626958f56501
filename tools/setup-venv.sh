#!/bin/sh
# Creates tools/.venv: Debian's python3-torch plus the pinned Hugging Face
# packages. Only the generators in tools/ and bench/ need it; ./test never does.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "setup-venv: installing python3-torch python3-numpy python3-venv (apt)" >&2
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd=sudo
  $sudo_cmd apt-get install -y python3-torch python3-numpy python3-venv
fi
[ -x "$here/.venv/bin/python" ] || /usr/bin/python3 -m venv --system-site-packages "$here/.venv"
"$here/.venv/bin/pip" install -q -r "$here/requirements.txt"
"$here/.venv/bin/python" -c 'import transformers, torch; print("transformers", transformers.__version__, "torch", torch.__version__)'
