#!/bin/sh
# check-po.sh MSGFMT FILE.po: fails unless msgfmt --check accepts FILE.po and
# reports every message translated (no fuzzy, no untranslated entries).
set -u
msgfmt=$1
po=$2
stats=$(LC_ALL=C "$msgfmt" --check --statistics -o /dev/null "$po" 2>&1) || {
  echo "$stats"
  exit 1
}
echo "$po: $stats"
case $stats in
  *fuzzy* | *untranslated*) echo "incomplete catalogue" >&2; exit 1 ;;
  *" translated message"*) exit 0 ;;
  *) echo "unexpected msgfmt output" >&2; exit 1 ;;
esac
