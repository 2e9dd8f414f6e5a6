#!/bin/busybox sh
# /init of the gpio-sim test guest (built into the initramfs by setup.sh). Loads the modules,
# mounts the host's root read-only over virtio-9p with the guest's own /proc, /sys, /dev, a tmpfs
# /tmp, the host's writable result directory at /tmp/out and the project at its own path, runs the command the host left in
# /tmp/out/run.sh inside it, records its exit status and powers off.
/bin/busybox --install -s /bin
export PATH=/bin
say() { echo "llmos-guest: $*"; }
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules/order); do insmod "/modules/$m" || say "insmod $m failed"; done
p9='trans=virtio,version=9p2000.L,msize=262144'
if mount -t 9p -o "$p9,ro,cache=loose" hostroot /newroot; then
  mount -t proc proc /newroot/proc
  mount -t sysfs sys /newroot/sys
  mount -t configfs configfs /newroot/sys/kernel/config || say "no configfs"
  mount -t devtmpfs dev /newroot/dev
  mount -t tmpfs -o mode=1777 tmp /newroot/tmp
  mkdir /newroot/tmp/out
  if mount -t 9p -o "$p9" out /newroot/tmp/out; then
    # The project itself, at its own path: a checkout under /tmp (CI's clone) is hidden by the
    # guest's tmpfs /tmp otherwise.
    if [ -f /newroot/tmp/out/repo-path ]; then
      repo=$(cat /newroot/tmp/out/repo-path)
      mkdir -p "/newroot$repo"
      mount -t 9p -o "$p9,ro,cache=loose" repo "/newroot$repo" || say "cannot mount the project at $repo"
    fi
    say "running /tmp/out/run.sh"
    chroot /newroot /bin/sh /tmp/out/run.sh
    echo $? > /newroot/tmp/out/exit-code
    sync
    umount /newroot/tmp/out
  else
    say "cannot mount the result share"
  fi
else
  say "cannot mount the host root over 9p"
fi
say "power off"
poweroff -f
