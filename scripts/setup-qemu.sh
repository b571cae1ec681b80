#!/usr/bin/env bash
# setup-qemu.sh — install what the QEMU cross-check needs, build its guest image, verify both.
#
# Needs: Debian 12 (bookworm), root, apt, and the network to the Debian mirror that the machine's
# apt sources already name. Installs:
#   - qemu-system-arm (ships qemu-system-aarch64) >= 10 from the bookworm-backports suite of that
#     same mirror (bookworm's own 7.2 has no FEAT_NV/NV2/ECV);
#   - gcc-aarch64-linux-gnu, binutils-aarch64-linux-gnu and make from bookworm.
# Then builds xcheck/guest/build/nvx.elf and boots it once to check that `-cpu max` has NV2.
#
# Idempotent: when a QEMU >= 10 and the toolchain are already on PATH nothing is installed.
# Options: --no-install  only build and verify (fail if something is missing)
#          --force-install  run apt even when everything is present
# On failure it prints one line `setup-qemu: <what failed and why>` on stderr and exits
#   2 when it cannot: something it needs is missing or cannot be installed here (not root, not
#     bookworm, no mirror, no network, a QEMU older than 10 or without FEAT_NV2);
#   1 when the project's own part is broken: the guest image does not build or does not boot.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GUEST="$ROOT/xcheck/guest"
LOG="${TMPDIR:-/tmp}/nvconform-setup-qemu.log"
SRC_FILE=/etc/apt/sources.list.d/nvconform-bookworm-backports.sources
NO_INSTALL=0
FORCE=0
for a in "$@"; do
  case "$a" in
    --no-install) NO_INSTALL=1 ;;
    --force-install) FORCE=1 ;;
    -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup-qemu: unknown option '$a' (known: --no-install, --force-install)" >&2; exit 2 ;;
  esac
done

fail() { echo "setup-qemu: $*" >&2; exit 2; }
broken() { echo "setup-qemu: $*" >&2; exit 1; }
say() { echo "  $*"; }
t0=$(date +%s)

# Major version of a qemu-system-aarch64 binary, or empty.
qemu_major() {
  local v
  v="$("$1" --version 2>/dev/null | head -n1 | sed -n 's/.*version \([0-9][0-9]*\)\..*/\1/p')"
  echo "$v"
}

have_qemu10() {
  local q
  q="$(command -v qemu-system-aarch64 2>/dev/null)" || return 1
  local m; m="$(qemu_major "$q")"
  [ -n "$m" ] && [ "$m" -ge 10 ]
}

have_toolchain() {
  command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 &&
    command -v aarch64-linux-gnu-objcopy >/dev/null 2>&1 &&
    command -v make >/dev/null 2>&1
}

# The URI of the machine's own Debian source for the suite "bookworm" (deb822 or one-line form),
# and its Signed-By if any: prints "URI<TAB>SIGNED_BY".
debian_uri() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    [ "$f" = "$SRC_FILE" ] && continue
    awk -v RS= -F'\n' '
      {
        types=""; uris=""; suites=""; signed=""; enabled="yes"
        for (i = 1; i <= NF; i++) {
          line = $i
          if (line ~ /^[ \t]*#/) continue
          split(line, kv, ":")
          key = tolower(kv[1]); val = substr(line, length(kv[1]) + 2); gsub(/^[ \t]+|[ \t]+$/, "", val)
          if (key == "types") types = val
          else if (key == "uris") uris = val
          else if (key == "suites") suites = val
          else if (key == "signed-by") signed = val
          else if (key == "enabled") enabled = tolower(val)
        }
        if (enabled == "no") next
        n = split(suites, s, /[ \t]+/); ok = 0
        for (j = 1; j <= n; j++) if (s[j] == "bookworm") ok = 1
        if (ok && types ~ /(^|[ \t])deb($|[ \t])/) { split(uris, u, /[ \t]+/); print u[1] "\t" signed; exit }
      }' "$f" | head -n1
  done | head -n1
  if [ -f /etc/apt/sources.list ]; then
    # deb [options] URI bookworm components...
    sed -n 's/^[ \t]*deb[ \t]\+\(\[[^]]*\][ \t]\+\)\{0,1\}\([^ \t]\+\)[ \t]\+bookworm[ \t].*/\2/p' /etc/apt/sources.list |
      head -n1 | awk '{ print $1 "\t" }'
  fi
}

echo "setup-qemu: QEMU >= 10 with FEAT_NV2 and an AArch64 bare-metal toolchain for nvconform's cross-check"

if have_qemu10 && have_toolchain && [ "$FORCE" = 0 ]; then
  say "found $(command -v qemu-system-aarch64) ($("$(command -v qemu-system-aarch64)" --version | head -n1)) and $(command -v aarch64-linux-gnu-gcc): nothing to install"
elif [ "$NO_INSTALL" = 1 ]; then
  have_qemu10 || fail "no qemu-system-aarch64 >= 10 on PATH and --no-install was given"
  fail "no aarch64-linux-gnu-gcc/objcopy/make on PATH and --no-install was given"
else
  missing=""
  have_qemu10 || missing="qemu-system-aarch64 >= 10"
  have_toolchain || missing="${missing:+$missing, }aarch64-linux-gnu-gcc/objcopy or make"
  [ -n "$missing" ] || missing="nothing (--force-install)"
  [ "$(id -u)" = 0 ] || fail "missing $missing; installing needs root (run as root, or install qemu-system-arm >= 10 from bookworm-backports and gcc-aarch64-linux-gnu yourself)"
  command -v apt-get >/dev/null 2>&1 || fail "missing $missing, and no apt-get to install it: this script installs with apt on Debian 12 (bookworm)"
  codename="$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")"
  [ "$codename" = bookworm ] || fail "this is not Debian 12 bookworm (VERSION_CODENAME='${codename}'): install QEMU >= 10 (FEAT_NV2) and an aarch64-linux-gnu gcc by hand"
  entry="$(debian_uri)"
  uri="${entry%%$'\t'*}"
  signed="${entry#*$'\t'}"
  [ "$signed" = "$entry" ] && signed=""
  [ -n "$uri" ] || fail "no apt source for the suite 'bookworm' in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list: cannot tell which mirror's bookworm-backports to use"
  : >"$LOG"
  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    {
      echo "# Added by nvconform scripts/setup-qemu.sh: QEMU >= 10 (FEAT_NV2) for the cross-check."
      echo "Types: deb"
      echo "URIs: $uri"
      echo "Suites: bookworm-backports"
      echo "Components: main"
      [ -n "$signed" ] && echo "Signed-By: $signed"
    } >"$SRC_FILE" || fail "cannot write $SRC_FILE"
    say "added the bookworm-backports suite of the machine's Debian mirror ($SRC_FILE)"
  else
    say "a bookworm-backports source is already configured"
  fi
  say "apt-get update (log: $LOG)"
  DEBIAN_FRONTEND=noninteractive apt-get update >>"$LOG" 2>&1 ||
    fail "apt-get update failed (network or mirror unreachable?): see $LOG"
  say "apt-get install -t bookworm-backports qemu-system-arm"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -t bookworm-backports qemu-system-arm >>"$LOG" 2>&1 ||
    fail "installing qemu-system-arm from bookworm-backports failed: see $LOG"
  say "apt-get install gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu make"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu make >>"$LOG" 2>&1 ||
    fail "installing the AArch64 toolchain failed: see $LOG"
  hash -r
fi

QEMU="$(command -v qemu-system-aarch64 2>/dev/null)" || fail "qemu-system-aarch64 is not on PATH after installing"
major="$(qemu_major "$QEMU")"
[ -n "$major" ] && [ "$major" -ge 10 ] ||
  fail "$QEMU is version '${major:-unknown}', older than 10: it lacks FEAT_NV/NV2/ECV (take qemu-system-arm from bookworm-backports)"
have_toolchain || fail "aarch64-linux-gnu-gcc/objcopy or make missing after installing"
say "qemu: $QEMU ($("$QEMU" --version | head -n1))"
say "gcc:  $(command -v aarch64-linux-gnu-gcc) ($(aarch64-linux-gnu-gcc --version | head -n1))"

make -s -C "$GUEST" >>"$LOG" 2>&1 || broken "building the guest image in $GUEST failed: see $LOG"
say "built $GUEST/build/nvx.elf"

# Boot the image with no batch: it prints its ID registers and exits.
id_line="$(timeout 20 "$QEMU" -M virt,virtualization=on,gic-version=2,secure=on -cpu max -m 256M -nodefaults -display none \
  -monitor none -serial stdio -semihosting -icount shift=0,sleep=off -kernel "$GUEST/build/nvx.elf" 2>>"$LOG" | grep '^nvx-id' | head -n1)"
[ -n "$id_line" ] || broken "the guest image did not boot under $QEMU (no 'nvx-id' line): see $LOG"
say "$id_line"
case "$id_line" in
  *" nv=2 "*) ;;
  *) fail "-cpu max of $QEMU does not report FEAT_NV2 (ID_AA64MMFR2_EL1.NV != 2): $id_line" ;;
esac
say "done in $(( $(date +%s) - t0 )) s"
