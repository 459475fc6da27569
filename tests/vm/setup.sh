#!/bin/sh
# One-time set-up of the VM test harness (tests/vm/run.sh): QEMU, a static
# busybox and cpio from Debian, and Debian's stock kernel image in a cache
# folder.  A second run finds everything in place and returns at once.
#
#	sh tests/vm/setup.sh
#
# The kernel goes into $MMAPD_VM_CACHE (default $HOME/.cache/mmapd-vm),
# never into the host's /boot: the build machines' own kernel has no
# /dev/mem, and the harness only needs a bootable image, not an installed
# kernel.
#
# Exit status: 0 ready; 77 (automake's SKIP) QEMU is not installed and
# cannot be; 1 anything else went wrong.
set -eu

CACHE=${MMAPD_VM_CACHE:-${HOME:-/root}/.cache/mmapd-vm}

# What run.sh needs from Debian.  --no-install-recommends keeps QEMU near
# 18 MB: the recommends (ipxe roms, ovmf, ...) are of no use to a
# -nodefaults machine booted with -kernel.
PACKAGES="qemu-system-x86 busybox-static cpio"

say() {
	printf '%s\n' "vm-setup: $*"
}

die() {
	printf '%s\n' "vm-setup: error: $*" >&2
	exit 1
}

# A skip must never pass for success: shout it, then exit 77.
skip() {
	{
		echo "vm-setup: ##################################################"
		echo "vm-setup: SKIP: $*"
		echo "vm-setup: the VM tests (make check-vm) did NOT run"
		echo "vm-setup: ##################################################"
	} >&2
	exit 77
}

is_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null |
	    grep -q 'install ok installed'
}

install_packages() {
	missing=
	if command -v dpkg-query >/dev/null 2>&1; then
		for p in $PACKAGES; do
			is_installed "$p" || missing="$missing $p"
		done
	elif ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
		skip "no dpkg here to install $PACKAGES with; install them by hand"
	fi
	if [ -z "$missing" ]; then
		say "packages: installed ($PACKAGES)"
		return 0
	fi
	say "packages: missing:$missing"
	if [ "$(id -u)" -ne 0 ]; then
		case $missing in
		*qemu-system-x86*)
			skip "not root: cannot install$missing (as root: apt-get install --no-install-recommends$missing)" ;;
		esac
		die "not root: cannot install$missing"
	fi
	# The lists may be missing or stale on a fresh machine: without an
	# update, install can fail on a package the mirror no longer has.
	say "packages: apt-get update"
	if ! apt-get update -q >/dev/null; then
		say "packages: apt-get update failed; trying the lists as they are"
	fi
	say "packages: apt-get install --no-install-recommends$missing"
	# shellcheck disable=SC2086
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends $missing; then
		is_installed qemu-system-x86 ||
		    skip "apt-get could not install qemu-system-x86"
		die "apt-get could not install$missing"
	fi
}

# The versioned kernel package the metapackage points at today, e.g.
# linux-image-6.1.0-56-amd64.  apt-cache needs the lists: on a machine
# whose lists were never fetched it finds nothing, so update then.
kernel_package() {
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	    sed -n 's/^ *Depends: *\(linux-image-[0-9][^ ]*\).*/\1/p' | head -n 1)
	if [ -z "$pkg" ] && [ "$(id -u)" -eq 0 ]; then
		apt-get update -q >/dev/null || true
		pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		    sed -n 's/^ *Depends: *\(linux-image-[0-9][^ ]*\).*/\1/p' |
		    head -n 1)
	fi
	[ -n "$pkg" ] || die "apt-cache does not know linux-image-amd64"
	printf '%s\n' "$pkg"
}

fetch_kernel() {
	# Whatever kernel was fetched once is kept: a second run must not
	# depend on the archive (nor re-download 70 MB when it moves on).
	if [ -s "$CACHE/vmlinuz" ]; then
		say "kernel: $CACHE/vmlinuz ($(cat "$CACHE/kernel-package" 2>/dev/null || echo unknown))"
		return 0
	fi
	command -v apt-get >/dev/null 2>&1 || die "no apt-get to fetch the kernel with"
	pkg=$(kernel_package)
	mkdir -p "$CACHE"
	# apt-get download drops privileges to _apt when that user can
	# write the folder, and warns when it cannot: the cache under root's
	# home (mode 0700) it cannot even reach, so download in $TMPDIR.
	tmp=$(mktemp -d)
	if id _apt >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
		chmod 0755 "$tmp"
		chown _apt "$tmp" 2>/dev/null || true
	fi
	say "kernel: apt-get download $pkg"
	if ! (cd "$tmp" && apt-get download -q "$pkg" >/dev/null); then
		die "apt-get download $pkg failed"
	fi
	deb=
	for f in "$tmp"/*.deb; do
		[ -f "$f" ] && deb=$f
	done
	[ -n "$deb" ] || die "apt-get download $pkg left no .deb"
	# Only ./boot: the modules are 390 MB that a /dev/mem test does not
	# need (the drivers it touches are built in, and nothing else loads).
	mkdir "$tmp/x"
	if ! dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp/x" ./boot; then
		die "cannot extract ./boot from $deb"
	fi
	img=
	for f in "$tmp"/x/boot/vmlinuz-*; do
		[ -f "$f" ] && img=$f
	done
	[ -n "$img" ] || die "$deb has no boot/vmlinuz-*"
	cp "$tmp"/x/boot/config-* "$CACHE/config" 2>/dev/null || true
	# Renamed into place last, so an interrupted fetch leaves no image
	# that a later run would take for complete.
	cp "$img" "$CACHE/vmlinuz.new"
	printf '%s\n' "$pkg" >"$CACHE/kernel-package"
	mv "$CACHE/vmlinuz.new" "$CACHE/vmlinuz"
	say "kernel: $CACHE/vmlinuz ($pkg)"
}

# The image Debian ships is a bzImage whose payload is XZ: decompressing
# 8 MB of XZ in the emulated CPU, before the kernel even starts, is about
# 4 of the 8 seconds a TCG boot takes.  The kernel has CONFIG_PVH, so QEMU
# can boot the decompressed ELF directly (its PVH entry note), which skips
# that step; run.sh uses vmlinux when it is there.  Same kernel, same
# code: only the entry path and the boot loader's e820 table under 1 MiB
# differ.  Without xz or CONFIG_PVH, run.sh boots vmlinuz as it is.
unpack_vmlinux() {
	if [ -s "$CACHE/vmlinux" ]; then
		say "kernel: $CACHE/vmlinux (decompressed, PVH boot)"
		return 0
	fi
	if ! grep -q '^CONFIG_PVH=y' "$CACHE/config" 2>/dev/null ||
	    ! command -v xz >/dev/null 2>&1; then
		say "kernel: no CONFIG_PVH or no xz: run.sh will boot the compressed vmlinuz (slower)"
		return 0
	fi
	magic=$(printf '\3757zXZ')
	# The first offset that decompresses to an ELF image is the payload
	# (as the kernel's scripts/extract-vmlinux does it).
	# shellcheck disable=SC2013  # one number per line
	for off in $(LC_ALL=C grep -obaF "$magic" "$CACHE/vmlinuz" | cut -d: -f1); do
		tail -c +$((off + 1)) "$CACHE/vmlinuz" |
		    xz -dc --single-stream >"$CACHE/vmlinux.new" 2>/dev/null || continue
		if [ "$(dd if="$CACHE/vmlinux.new" bs=4 count=1 2>/dev/null |
		    od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; then
			mv "$CACHE/vmlinux.new" "$CACHE/vmlinux"
			say "kernel: $CACHE/vmlinux (decompressed, PVH boot)"
			return 0
		fi
	done
	say "kernel: no XZ payload found in vmlinuz: run.sh will boot it as it is (slower)"
}

# Whatever way this ends, no half-made file stays behind: the kernel is
# renamed into place only when complete.
tmp=
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
	[ -z "$tmp" ] || rm -rf "$tmp"
	rm -f "$CACHE/vmlinuz.new" "$CACHE/vmlinux.new"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

install_packages
command -v qemu-system-x86_64 >/dev/null 2>&1 ||
    skip "qemu-system-x86_64 is not on PATH although qemu-system-x86 is installed"
fetch_kernel
unpack_vmlinux
say "ready"
