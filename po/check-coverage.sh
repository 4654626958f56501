#!/bin/sh
# check-coverage.sh SOURCE_ROOT LANG...: extracts the messages of the files
# in po/POTFILES.in (the glib preset's keywords, as i18n.gettext uses) and
# checks with msgcmp that each catalogue translates every one of them, so a
# new string in the sources fails until fr and de translate it. TAP output.
set -u
root=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..$#"
grep -v '^#' "$root/po/POTFILES.in" | grep -v '^$' > "$tmp/files"
if ! xgettext --from-code=UTF-8 --add-comments -D "$root" -f "$tmp/files" -o "$tmp/secateur.pot" \
  --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 --keyword=g_dcgettext:2 \
  --keyword=g_dngettext:2,3 --keyword=g_dpgettext2:2c,3 2> "$tmp/err"; then
  sed 's/^/# /' "$tmp/err"
  i=1
  for lang in "$@"; do echo "not ok $i - $lang.po: xgettext failed"; i=$((i + 1)); done
  exit 0
fi
i=1
for lang in "$@"; do
  if msgcmp "$root/po/$lang.po" "$tmp/secateur.pot" > "$tmp/out" 2>&1; then
    echo "ok $i - $lang.po translates every message of the sources"
  else
    sed 's/^/# /' "$tmp/out" | head -n 40
    echo "not ok $i - $lang.po lacks translations of current messages"
  fi
  i=$((i + 1))
done
