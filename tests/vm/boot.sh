# What the two VM tests share about booting their guest: which
# accelerator, a boot retried under TCG, a failed boot's report.  Sourced
# by tests/vm/run.sh and tests/vm-systemd/run.sh, which define say(),
# setup_fail() and boot() first, and set VM_NAME (the prefix of their
# lines), CONSOLE, STATUS, QEMU_ERR and TIMEOUT.
#
# A /dev/kvm that opens proves nothing: on some build machines it is
# there and read-write, but the CPU offers no virtualisation, and a guest
# started under KVM stops dead (an emulation failure, or no output at
# all) until the run's time limit.  So KVM is used only when the CPU says
# it can (vmx or svm) and a short probe boot under KVM reaches user
# space: a busybox init that prints a line and powers off.  Anything less
# is TCG, and the reason is said.
#
#	MMAPD_VM_ACCEL=auto	(default) as above
#	MMAPD_VM_ACCEL=kvm	KVM without probing
#	MMAPD_VM_ACCEL=tcg	TCG
#	MMAPD_VM_PROBE_TIMEOUT	seconds the probe may take (default 20; a
#				boot under KVM takes about 1 s, under
#				TCG about 2 s)
#
# tb-size=256 keeps TCG's translation cache (and so QEMU's memory) small
# at no cost in speed here.
VM_TCG_ARGS="-accel tcg,tb-size=256"

# accel_probe KERNEL WORKDIR: 0 when KERNEL boots to user space under
# KVM within the probe's time limit.  Sets ACCEL_PROBE_WHY to what
# happened.
accel_probe() {
	pdir=$2/accel-probe
	mkdir -p "$pdir/root/bin" || return 1
	bb=$(command -v busybox) || {
		ACCEL_PROBE_WHY="no busybox for the probe's init"
		return 1
	}
	cp "$bb" "$pdir/root/bin/busybox" || return 1
	cat >"$pdir/root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox echo mmapd-vm-probe: user space reached
/bin/busybox poweroff -f
EOF
	chmod 0755 "$pdir/root/init"
	(cd "$pdir/root" && find . | cpio -o -H newc -R 0:0 --quiet) |
	    gzip -1 >"$pdir/initrd.gz" || {
		ACCEL_PROBE_WHY="cannot pack the probe's initramfs"
		return 1
	}
	limit=${MMAPD_VM_PROBE_TIMEOUT:-20}
	t0=$(date +%s)
	rc=0
	timeout --foreground -k 2 "$limit" qemu-system-x86_64 \
		-machine q35 -accel kvm -m 128M -smp 1 \
		-nodefaults -no-user-config -display none -no-reboot \
		-serial "file:$pdir/console.log" \
		-kernel "$1" -initrd "$pdir/initrd.gz" \
		-append "console=ttyS0 panic=-1 quiet" \
		</dev/null >"$pdir/qemu.err" 2>&1 || rc=$?
	t=$(($(date +%s) - t0))
	if grep -q 'mmapd-vm-probe: user space reached' "$pdir/console.log"; then
		ACCEL_PROBE_WHY="a probe boot under KVM reached user space in ${t}s"
		rm -rf "$pdir"
		return 0
	fi
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		ACCEL_PROBE_WHY="a probe boot under KVM hung (nothing from its init in ${limit}s)"
	else
		ACCEL_PROBE_WHY="a probe boot under KVM failed (QEMU exited $rc after ${t}s: $(grep -v '^qemu-system-x86_64: warning' "$pdir/qemu.err" | head -n 1))"
	fi
	rm -rf "$pdir"
	return 1
}

# accel_pick KERNEL WORKDIR: sets VM_ACCEL (kvm or tcg), VM_ACCEL_ARGS
# (QEMU's options) and VM_ACCEL_WHY (one line).  Whichever way KVM was
# chosen, a guest that dies or hangs under it is booted once more under
# TCG by the caller before the run is called failed.
accel_pick() {
	VM_ACCEL=tcg
	VM_ACCEL_ARGS=$VM_TCG_ARGS
	case ${MMAPD_VM_ACCEL:-auto} in
	tcg)
		VM_ACCEL_WHY="MMAPD_VM_ACCEL=tcg"
		return 0 ;;
	kvm)
		VM_ACCEL=kvm
		VM_ACCEL_ARGS="-accel kvm"
		VM_ACCEL_WHY="MMAPD_VM_ACCEL=kvm (not probed)"
		return 0 ;;
	auto) ;;
	*)
		setup_fail "MMAPD_VM_ACCEL is auto, kvm or tcg, not '$MMAPD_VM_ACCEL'" ;;
	esac
	# Opening it read-write is what QEMU does; a node we cannot open
	# is the common case on machines without KVM.  (-c first: <> would
	# create a missing /dev/kvm as a plain file.)
	if [ ! -c /dev/kvm ]; then
		VM_ACCEL_WHY="no /dev/kvm"
		return 0
	fi
	if ! { : <>/dev/kvm; } 2>/dev/null; then
		VM_ACCEL_WHY="/dev/kvm cannot be opened read-write"
		return 0
	fi
	if ! grep -q -w -E 'vmx|svm' /proc/cpuinfo 2>/dev/null; then
		VM_ACCEL_WHY="/dev/kvm opens, but the CPU flags have neither vmx nor svm"
		return 0
	fi
	if ! accel_probe "$1" "$2"; then
		VM_ACCEL_WHY=$ACCEL_PROBE_WHY
		return 0
	fi
	VM_ACCEL=kvm
	VM_ACCEL_ARGS="-accel kvm"
	VM_ACCEL_WHY=$ACCEL_PROBE_WHY
}

boot_show_console() {
	echo "$VM_NAME: ---- the console's last 40 lines ($CONSOLE) ----"
	tr -d '\r' <"$CONSOLE" | tail -n 40
	echo "$VM_NAME: ---- end of console ----"
}

# boot_failed ACCEL: say how a boot with no status from the guest went
# (boot() set QEMU_RC and ELAPSED).
boot_failed() {
	if [ "$QEMU_RC" -ne 0 ] && [ "$QEMU_RC" -ne 124 ] &&
	    [ "$QEMU_RC" -ne 137 ] && [ ! -s "$CONSOLE" ]; then
		cat "$QEMU_ERR" >&2
		setup_fail "QEMU did not start (status $QEMU_RC)"
	fi
	if [ -s "$STATUS.txt" ]; then
		echo "$VM_NAME: ---- what the guest test printed ----"
		cat "$STATUS.txt"
	fi
	boot_show_console
	cat "$QEMU_ERR" >&2
	if [ "$QEMU_RC" -eq 124 ] || [ "$QEMU_RC" -eq 137 ]; then
		say "the VM hung under $1: no status after ${TIMEOUT}s"
	else
		say "the VM crashed under $1: QEMU exited $QEMU_RC after ${ELAPSED}s with no status from the guest"
	fi
}

# boot_run: the caller's boot ACCEL-ARGS under the chosen accelerator,
# and once more under TCG when a guest under KVM gave no status.  0 when
# the guest gave its status line (STATUS_LINE), 1 when it never did.
boot_run() {
	boot "$VM_ACCEL_ARGS"
	if [ -z "$STATUS_LINE" ] && [ "$VM_ACCEL" = kvm ]; then
		boot_failed kvm
		say "retrying once under TCG"
		VM_ACCEL=tcg
		boot "$VM_TCG_ARGS"
	fi
	[ -n "$STATUS_LINE" ] && return 0
	boot_failed "$VM_ACCEL"
	say "FAILED: no status from the guest"
	return 1
}
