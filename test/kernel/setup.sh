#!/usr/bin/env bash
# Prepares a QEMU guest with a real Linux kernel's GPIO for test/gpio-kernel.test.ts:
# Debian's kernel (which has sysfs and character-device GPIO but not gpio-sim), gpio-sim built out
# of tree from Debian's linux-source of the SAME version (with kernel/irq/irq_sim.c linked in: the
# kernel lacks CONFIG_IRQ_SIM), and a busybox initramfs (test/kernel/init.sh) that mounts the
# host's root read-only over virtio-9p and runs the command the host put in its shared directory.
#
#   test/kernel/setup.sh [--install]
#
# --install (CI, root): apt-get installs the tools and the kernel headers. Without it the script
# uses what is there and exits 3 naming what is missing. Artifacts go to a cache directory keyed
# by the kernel version and this script's inputs, so a warm run only checks and prints:
#   GPIO_SIM_KERNEL=<vmlinuz>  GPIO_SIM_INITRD=<initramfs>  GPIO_SIM_KVER=<kernel release>
# Cache: $LLMOS_GPIO_SIM_CACHE, else node_modules/.cache/llmos-gpio-sim in the repository.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${LLMOS_GPIO_SIM_CACHE:-$repo/node_modules/.cache/llmos-gpio-sim}"
install=0
[ "${1:-}" = "--install" ] && install=1
say() { echo "gpio-sim setup: $*" >&2; }
missing() { say "$*"; exit 3; }

export DEBIAN_FRONTEND=noninteractive
command -v apt-cache >/dev/null || missing "apt-cache not found (a Debian/Ubuntu host is needed to fetch Debian's kernel)"

# One kernel version for image, headers and source: the ABI the linux-image-amd64 metapackage
# points at, and the package version apt offers for it (two apt-cache calls: each takes seconds).
abi() { apt-cache show --no-all-versions linux-image-amd64 2>/dev/null | sed -n 's/^Depends:.*\(linux-image-[0-9][^ ,]*\).*/\1/p' | head -n 1; }
abi_pkg="$(abi)"
if [ -z "$abi_pkg" ] && [ $install = 1 ]; then apt-get update -qq; abi_pkg="$(abi)"; fi
[ -n "$abi_pkg" ] || missing "apt knows no linux-image-amd64 (run apt-get update)"
kver="${abi_pkg#linux-image-}"                      # e.g. 6.1.0-57-amd64
series="$(echo "$kver" | cut -d. -f1-2)"            # 6.1
candidates="$(apt-cache policy "$abi_pkg" "linux-headers-$kver" "linux-source-$series" 2>/dev/null | awk '/^[^ ]/ { p = $1 } /Candidate:/ { print p, $2 }')"
candidate() { echo "$candidates" | awk -v p="$1:" '$1 == p { print $2 }'; }
version="$(candidate "$abi_pkg")"                   # e.g. 6.1.192-3
[ -n "$version" ] && [ "$version" != "(none)" ] || missing "no installable version of $abi_pkg"
[ "$(candidate "linux-headers-$kver")" = "$version" ] || missing "linux-headers-$kver is not at $version (image and headers must match)"
[ "$(candidate "linux-source-$series")" = "$version" ] || missing "linux-source-$series is at $(candidate "linux-source-$series"), not $version like $abi_pkg; cannot build gpio-sim for this kernel"

# installed PACKAGE [VERSION]
installed() {
  local got
  got="$(dpkg-query -W -f '${Status} ${Version}' "$1" 2>/dev/null)" || return 1
  if [ -n "${2:-}" ]; then [ "$got" = "install ok installed $2" ]; else [[ $got == "install ok installed "* ]]; fi
}
need=()
for p in qemu-system-x86 busybox-static kmod make gcc; do installed "$p" || need+=("$p"); done
installed "linux-headers-$kver" "$version" || need+=("linux-headers-$kver=$version")
if [ ${#need[@]} -gt 0 ]; then
  if [ $install = 1 ]; then
    say "apt-get install ${need[*]}"
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    missing "missing Debian packages: ${need[*]} (install them, or run test/kernel/setup.sh --install as root)"
  fi
fi

key="$kver-$version-$(cat "$0" "$here/init.sh" | sha256sum | cut -c1-12)"
out="$cache/$key"
print() { echo "GPIO_SIM_KERNEL=$out/vmlinuz"; echo "GPIO_SIM_INITRD=$out/initrd.cpio.gz"; echo "GPIO_SIM_KVER=$kver"; }
if [ -f "$out/done" ]; then print; exit 0; fi

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9                                             # one build at a time per cache
if [ -f "$out/done" ]; then print; exit 0; fi
work="$(mktemp -d "$cache/build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"
start=$SECONDS

# The kernel image and its modules: extracted, not installed (no /boot, no update-initramfs).
apt-get download -qq "$abi_pkg=$version" "linux-source-$series=$version" 2>/dev/null
mkdir img
dpkg-deb -x ./"${abi_pkg}_"*.deb img
[ -f "img/boot/vmlinuz-$kver" ] || { say "no vmlinuz-$kver in $abi_pkg"; exit 1; }
grep -q '^CONFIG_GPIO_SYSFS=y' "img/boot/config-$kver" || { say "$kver has no CONFIG_GPIO_SYSFS"; exit 1; }

# gpio-sim (+ irq_sim when the kernel lacks it) from the source of the same version.
mkdir src mod
dpkg-deb --fsys-tarfile ./linux-source-*.deb | tar -xO "./usr/src/linux-source-$series.tar.xz" | xz -dc -T0 \
  | tar -x -C src --strip-components=1 --wildcards '*/drivers/gpio/gpio-sim.c' '*/drivers/gpio/gpiolib.h' '*/kernel/irq/irq_sim.c'
cp src/drivers/gpio/gpio-sim.c mod/gpio_sim_core.c
cp src/drivers/gpio/gpiolib.h mod/
objs="gpio_sim_core.o"
if ! grep -q '^CONFIG_IRQ_SIM=y' "img/boot/config-$kver"; then
  # irq_to_desc() is not exported to modules; generic_handle_irq_safe() does the same lookup.
  sed 's/handle_simple_irq(irq_to_desc(irqnum));/generic_handle_irq_safe(irqnum);/' src/kernel/irq/irq_sim.c > mod/irq_sim.c
  objs="$objs irq_sim.o"
fi
printf 'obj-m := gpio-sim.o\ngpio-sim-y := %s\n' "$objs" > mod/Kbuild
make -s -C "/lib/modules/$kver/build" M="$work/mod" modules >mod/build.log 2>&1 || { cat mod/build.log >&2; say "building gpio-sim failed"; exit 1; }

# The initramfs: static busybox, the modules for 9p over virtio and gpio-sim, in load order.
mdir="img/lib/modules/$kver"
mkdir -p "$mdir/extra" && cp mod/gpio-sim.ko "$mdir/extra/"
depmod -b img "$kver"
mkdir -p root/bin root/modules root/proc root/sys root/dev root/newroot
cp /bin/busybox root/bin/busybox
! ldd root/bin/busybox >/dev/null 2>&1 || { say "/bin/busybox is not static (install busybox-static)"; exit 1; }
cp "$here/init.sh" root/init && chmod 755 root/init
modprobe -d img -S "$kver" -a --show-depends virtio_pci 9pnet_virtio 9p configfs gpio-sim \
  | awk '$1 == "insmod" { print $2 }' | awk '!seen[$0]++' > order.txt
while read -r ko; do
  cp "$ko" root/modules/ && basename "$ko" >> root/modules/order
done < order.txt
(cd root && find . | sort | /bin/busybox cpio -o -H newc 2>/dev/null | gzip -1 > "$work/initrd.cpio.gz")

mkdir -p "$work/final"
mv "$work/initrd.cpio.gz" "$work/final/"
cp "img/boot/vmlinuz-$kver" "$work/final/vmlinuz"
cp mod/gpio-sim.ko "$work/final/"
echo "$kver $version built in $((SECONDS - start)) s" > "$work/final/done"
rm -rf "$out"
mv "$work/final" "$out"
# Older builds of this cache are dead weight (each holds a kernel).
find "$cache" -mindepth 1 -maxdepth 1 -type d ! -name "$key" ! -name 'build.*' -exec rm -rf {} +
say "built $key in $((SECONDS - start)) s"
print
