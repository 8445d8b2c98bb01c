#!/usr/bin/env bash
# run-in-guest.sh - run one command inside a throw-away QEMU guest (busybox initramfs)
# and bring back its stdout+stderr, its exit status and the guest's /out directory.
#
# Usage: tests/qemu/run-in-guest.sh --kernel BZIMAGE [--modules DIR|--no-modules]
#          [--mem 1G] [--cpus 2] [--numa N] [--timeout 120] [--file HOST[:GUEST]]...
#          [--out HOSTDIR] [--env K=V]... [--append CMDLINE] [--accel auto|kvm|tcg] [-v] -- CMD ARGS...
#   CMD's output is printed on stdout (byte-exact); exit status = CMD's, 124 = guest timed
#   out, 125 = kernel panic/oops or boot failure. HOSTDIR gets the guest's /out, plus
#   console.log, guest-output.log, guest-status, run-info.txt. --file default GUEST is
#   /mmreplay/<name> (on PATH). See tests/qemu/NOTES.md; --help lists every option.
set -euo pipefail

me=run-in-guest
usage() {
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
    cat <<'EOF'

Options:
  --kernel BZIMAGE     guest kernel (required; env MMREPLAY_KERNEL)
  --modules DIR        lib/modules/<kver> dir, or a root holding lib/modules/<kver>; default:
                       <dir of BZIMAGE>/lib/modules if present. zram (+deps, compressors)
                       and the NVMe/virtio block drivers are copied in and loaded.
  --no-modules         do not add kernel modules
  --kmod NAME          also copy in and modprobe module NAME (repeatable)
  --mem SIZE           guest RAM, e.g. 512M, 1G (default 1G)
  --cpus N             vCPUs (default 2)
  --numa N             split RAM (and CPUs) into N NUMA nodes (default 1 = no NUMA)
  --timeout SEC        wall-clock limit for boot + run (default 120)
  --file HOST[:GUEST]  copy HOST (file or dir) to GUEST (default /mmreplay/<basename>;
                       a GUEST ending in / means GUEST/<basename>). ELF files get their
                       ldd libraries and dynamic loader too. Repeatable.
  --out HOSTDIR        where guest /out, console.log etc. go (created; files overwritten)
  --env K=V            export K=V for CMD (repeatable)
  --append STR         extra kernel command line
  --accel MODE         auto (default; env MMREPLAY_ACCEL), kvm or tcg. auto probes KVM
                       once (10 s) and caches the answer in $MMREPLAY_CACHE/accel-probe.
  --transport T        auto (default), nvme, virtio or serial: how results come back
  --out-size SIZE      size of the (sparse) result disk (default 4G)
  --allow-oops         exit with CMD's status even if the kernel oopsed (still reported)
  --qemu-arg ARG       extra qemu argument (repeatable)
  -v, --verbose        progress, qemu command line, live console and timings on stderr
EOF
}

# ---------------------------------------------------------------- arguments
kernel=${MMREPLAY_KERNEL:-} modules='' no_modules=0 mem=1G cpus=2 numa=1 timeout_s=120
outdir='' append='' accel=${MMREPLAY_ACCEL:-auto} transport=auto out_size=4G allow_oops=0 verbose=0
files=() envs=() kmods=() qemu_extra=()
need() { [ $# -ge 2 ] || { echo "$me: option $1 needs an argument" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
    case "$1" in
        --kernel) need "$@"; kernel=$2; shift ;;
        --modules) need "$@"; modules=$2; shift ;;
        --no-modules) no_modules=1 ;;
        --kmod) need "$@"; kmods+=("$2"); shift ;;
        --mem) need "$@"; mem=$2; shift ;;
        --cpus) need "$@"; cpus=$2; shift ;;
        --numa) need "$@"; numa=$2; shift ;;
        --timeout) need "$@"; timeout_s=$2; shift ;;
        --file) need "$@"; files+=("$2"); shift ;;
        --out) need "$@"; outdir=$2; shift ;;
        --env) need "$@"; envs+=("$2"); shift ;;
        --append) need "$@"; append="$append $2"; shift ;;
        --accel) need "$@"; accel=$2; shift ;;
        --transport) need "$@"; transport=$2; shift ;;
        --out-size) need "$@"; out_size=$2; shift ;;
        --allow-oops) allow_oops=1 ;;
        --qemu-arg) need "$@"; qemu_extra+=("$2"); shift ;;
        -v|--verbose) verbose=1 ;;
        -h|--help) usage; exit 0 ;;
        --) shift; break ;;
        *) echo "$me: unknown argument: $1 (use -- before the command)" >&2; exit 2 ;;
    esac
    shift
done
[ $# -gt 0 ] || { echo "$me: no command given (… -- CMD ARGS)" >&2; exit 2; }
cmd=("$@")
[ -n "$kernel" ] || { echo "$me: --kernel BZIMAGE is required" >&2; exit 2; }
[ -f "$kernel" ] || { echo "$me: kernel not found: $kernel" >&2; exit 2; }
case "$cpus$numa$timeout_s" in *[!0-9]*) echo "$me: --cpus/--numa/--timeout take integers" >&2; exit 2 ;; esac
case "$accel" in auto|kvm|tcg) ;; *) echo "$me: --accel must be auto, kvm or tcg" >&2; exit 2 ;; esac
case "$transport" in auto|nvme|virtio|serial) ;; *) echo "$me: bad --transport $transport" >&2; exit 2 ;; esac

log() { if [ "$verbose" = 1 ]; then echo "$me: $*" >&2; fi; }
die() { echo "$me: $*" >&2; exit 125; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
t_start=$(now)

# size "1G"/"512M"/"512" (MiB) -> MiB
to_mib() {
    case "$1" in
        *[Gg]) echo $(( ${1%[Gg]} * 1024 )) ;;
        *[Mm]) echo $(( ${1%[Mm]} )) ;;
        *[!0-9]*|'') echo "$me: bad size: $1" >&2; exit 2 ;;
        *) echo "$1" ;;
    esac
}
mem_mib=$(to_mib "$mem")
out_size_mib=$(to_mib "$out_size")

command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"
busybox=${MMREPLAY_BUSYBOX:-}
if [ -z "$busybox" ]; then
    for b in /bin/busybox /usr/bin/busybox; do [ -x "$b" ] && { busybox=$b; break; }; done
fi
[ -n "$busybox" ] || die "busybox not found (apt-get install busybox-static)"

cache=${MMREPLAY_CACHE:-$HOME/.cache/mmreplay}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/run-in-guest.XXXXXX")
qpid=
cleanup() {
    if [ -n "$qpid" ]; then kill "$qpid" 2>/dev/null || true; wait "$qpid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "$me: internal error (line $LINENO, exit $?)" >&2; exit 125' ERR
trap 'echo "$me: interrupted" >&2; exit 130' INT TERM

if [ -n "$outdir" ]; then
    mkdir -p "$outdir"
    outdir=$(cd "$outdir" && pwd)
    rm -f "$outdir/console.log" "$outdir/guest-output.log" "$outdir/guest-status" "$outdir/run-info.txt"
    console=$outdir/console.log
else
    console=$tmp/console.log
fi

# Kernel release from the bzImage header (version string pointer at 0x20E).
kernel_release() {
    local off
    off=$(od -An -tu2 -j $((0x20E)) -N2 "$1" 2>/dev/null | tr -d ' ') || return 0
    [ -n "$off" ] && [ "$off" -gt 0 ] || return 0
    dd if="$1" bs=1 skip=$((off + 0x200)) count=200 2>/dev/null | tr '\0' '\n' | head -n1 | awk '{print $1}'
}
krel=$(kernel_release "$kernel")
log "kernel $kernel (release ${krel:-unknown})"

# ---------------------------------------------------------------- initramfs
stage=$tmp/root
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,root,out,mmreplay,etc,lib}
chmod 1777 "$stage/tmp"

# copy_with_libs SRC DEST: copy a file; for dynamic ELF also its libraries and loader.
copy_with_libs() {
    local src=$1 dst=$2 lib
    mkdir -p "$(dirname "$dst")"
    if [ "$src" != "$dst" ]; then cp -L "$src" "$dst"; fi
    if [ "$(head -c4 "$src" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]; then
        # without ldd (libc-bin) a dynamic binary would come without its libraries
        command -v ldd >/dev/null || die "ldd not found (apt-get install libc-bin)"
        ldd "$src" 2>/dev/null | awk '
            $2 == "=>" && $3 ~ /^\// { print $3; next }
            $2 == "=>" && $3 == "not" { print "MISSING " $1; next }
            $1 ~ /^\// { print $1 }' > "$tmp/ldd.txt" || true
        while read -r lib; do
            case "$lib" in MISSING*) die "$src: shared library ${lib#MISSING } not found by ldd" ;; esac
            [ -e "$stage$lib" ] || { mkdir -p "$stage$(dirname "$lib")"; cp -L "$lib" "$stage$lib"; }
        done < "$tmp/ldd.txt"
    fi
}

copy_with_libs "$busybox" "$stage/bin/busybox"
# busybox applet symlinks are made by /init (busybox --install -s), except /bin/sh
ln -s busybox "$stage/bin/sh"

guest_path_dirs=/mmreplay
for spec in ${files[@]+"${files[@]}"}; do
    host=$spec guest=
    case "$spec" in *:/*) host=${spec%:*}; guest=${spec##*:} ;; esac
    [ -e "$host" ] || die "--file: no such file: $host"
    name=$(basename "$host")
    if [ -z "$guest" ]; then guest=/mmreplay/$name; fi
    case "$guest" in */) guest=$guest$name ;; esac
    if [ -d "$host" ]; then
        mkdir -p "$stage$guest"
        cp -a "$host/." "$stage$guest/"
        while read -r f; do copy_with_libs "$f" "$f"; done < <(find "$stage$guest" -type f -perm -u+x)
    else
        copy_with_libs "$host" "$stage$guest"
        if [ -x "$host" ]; then
            d=$(dirname "$guest")
            case ":$guest_path_dirs:" in *":$d:"*) ;; *) guest_path_dirs=$guest_path_dirs:$d ;; esac
        fi
    fi
    log "file $host -> $guest"
done

# Kernel modules: pick lib/modules/<kver>, copy the wanted modules and their deps.
moddir=
if [ "$no_modules" = 0 ]; then
    if [ -z "$modules" ] && [ -d "$(dirname "$kernel")/lib/modules" ]; then modules=$(dirname "$kernel"); fi
    if [ -n "$modules" ]; then
        [ -d "$modules" ] || die "--modules: no such directory: $modules"
        if [ -f "$modules/modules.order" ] || [ -f "$modules/modules.builtin" ] || [ -d "$modules/kernel" ]; then
            moddir=$modules
        elif [ -n "$krel" ] && [ -d "$modules/lib/modules/$krel" ]; then
            moddir=$modules/lib/modules/$krel
        elif [ -n "$krel" ] && [ -d "$modules/$krel" ]; then
            moddir=$modules/$krel
        else
            die "--modules $modules: no lib/modules/${krel:-<kver>} in it"
        fi
    fi
fi
if [ -z "$moddir" ] && [ ${#kmods[@]} -gt 0 ]; then die "--kmod needs kernel modules (--modules DIR)"; fi
want_mods="zram zsmalloc lzo lzo_rle lz4 lz4hc zstd nvme nvme_core virtio_pci virtio_blk ${kmods[*]+${kmods[*]}}"
load_mods=
if [ -n "$moddir" ]; then
    mver=$(basename "$moddir")
    if [ -n "$krel" ] && [ "$mver" != "$krel" ]; then die "--modules $moddir is for $mver but the kernel is $krel"; fi
    gmod=$stage/lib/modules/$mver
    mkdir -p "$gmod"
    for f in modules.builtin modules.builtin.modinfo modules.order; do
        if [ -f "$moddir/$f" ]; then cp "$moddir/$f" "$gmod/"; fi
    done
    # name -> relative path of every module file (name: basename, '-' -> '_', no suffix)
    (cd "$moddir" && for d in kernel updates extra; do if [ -d "$d" ]; then find "$d" -name '*.ko*'; fi; done) \
        | awk '{ n = $0; sub(/.*\//, "", n); sub(/\.ko(\.(xz|gz|zst))?$/, "", n); gsub(/-/, "_", n); print n, $0 }' \
        > "$tmp/modmap"
    todo=$want_mods seen=" "
    while [ -n "${todo// /}" ]; do
        set -f; set -- $todo; set +f
        m=${1//-/_}; shift; todo="$*"
        case "$seen" in *" $m "*) continue ;; esac
        seen="$seen$m "
        rel=$(awk -v n="$m" '$1 == n { print $2; exit }' "$tmp/modmap")
        if [ -z "$rel" ]; then
            if grep -q "/${m//_/[-_]}\.ko" "$moddir/modules.builtin" 2>/dev/null; then
                log "module $m is built in"
            else
                log "module $m not found (skipped)"
            fi
            continue
        fi
        dst=$gmod/${rel%.ko*}.ko
        mkdir -p "$(dirname "$dst")"
        case "$rel" in
            *.ko.xz) xz -dc "$moddir/$rel" > "$dst" ;;
            *.ko.gz) gzip -dc "$moddir/$rel" > "$dst" ;;
            *.ko.zst) zstd -qdc "$moddir/$rel" > "$dst" ;;
            *) cp "$moddir/$rel" "$dst" ;;
        esac
        deps=$(tr '\0' '\n' < "$dst" | grep -a '^depends=' | head -n1 | cut -d= -f2 | tr ',' ' ')
        todo="$todo $deps"
        load_mods="$load_mods $m"
    done
    for m in ${kmods[@]+"${kmods[@]}"}; do
        m=${m//-/_}
        case " $load_mods " in *" $m "*) continue ;; esac
        grep -q "/${m//_/[-_]}\.ko" "$moddir/modules.builtin" 2>/dev/null || die "--kmod $m: not found in $moddir"
    done
    if [ -n "$load_mods" ]; then
        "$busybox" depmod -b "$stage" "$mver" || die "depmod failed for $gmod"
    fi
    log "modules from $moddir:${load_mods:- none}"
fi

# Command, environment and settings for /init.
sq() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }
{
    printf 'cd / || exit 126\nexec'
    for a in "${cmd[@]}"; do printf ' %s' "$(sq "$a")"; done
    printf '\n'
} > "$stage/mmreplay/.cmd.sh"
{
    echo "export PATH=$(sq "$guest_path_dirs:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")"
    echo "export HOME=/root TERM=dumb"
    for e in ${envs[@]+"${envs[@]}"}; do
        case "$e" in *=*) ;; *) die "--env wants K=V, got: $e" ;; esac
        echo "export $(sq "$e")"
    done
    echo "MMR_TRANSPORT=$transport"
    # modules the user asked for (plus zram) are loaded; the others only if needed
    echo "MMR_LOAD=$(sq "zram ${kmods[*]+${kmods[*]}}")"
} > "$stage/mmreplay/.config"

cat > "$stage/init" <<'INIT'
#!/bin/busybox sh
# generated by run-in-guest.sh
/bin/busybox --install -s
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
exec </dev/null >/dev/console 2>&1
t_init=$(cut -d' ' -f1 /proc/uptime)
echo "MMREPLAY: init started at ${t_init}s, kernel $(uname -r)"
. /mmreplay/.config
hostname guest
ip link set lo up 2>/dev/null
ulimit -l unlimited 2>/dev/null
mkdir -p /.mmreplay-meta
if [ -d "/lib/modules/$(uname -r)" ]; then
    for m in $MMR_LOAD; do
        modprobe "$m" || echo "MMREPLAY: modprobe $m failed"
    done
fi
echo "MMREPLAY: running command"
t_cmd=$(cut -d' ' -f1 /proc/uptime)
: > /.mmreplay-meta/output
# echo the output to the console too (prefixed, first 5000 lines) so it survives a panic
mkfifo /tmp/.mmreplay-echo
tail -n +1 -f /.mmreplay-meta/output > /tmp/.mmreplay-echo 2>/dev/null &
echo_tail=$!
awk '{ if (n++ < 5000) print "[cmd] " $0 }' < /tmp/.mmreplay-echo > /dev/console 2>&1 &
echo_awk=$!
sh /mmreplay/.cmd.sh </dev/null >/.mmreplay-meta/output 2>&1
status=$?
kill $echo_tail 2>/dev/null; wait $echo_awk 2>/dev/null
rm -f /tmp/.mmreplay-echo
t_end=$(cut -d' ' -f1 /proc/uptime)
echo "MMREPLAY: command exited with status $status"
echo "$status" > /.mmreplay-meta/status
printf 'init %s\ncmd_start %s\ncmd_end %s\n' "$t_init" "$t_cmd" "$t_end" > /.mmreplay-meta/timing
cd /
: > /.mmreplay-done

wait_dev() { # wait_dev DEV DRIVER_SYSFS_DIR
    n=0
    while [ $n -lt 300 ]; do
        [ -b "$1" ] && return 0
        [ $n -eq 0 ] && [ ! -d "$2" ] && return 1
        n=$((n + 1)); usleep 100000
    done
    return 1
}
dev=
nvme_dev() { modprobe -q nvme 2>/dev/null; wait_dev /dev/nvme0n1 /sys/bus/pci/drivers/nvme && dev=/dev/nvme0n1; }
virtio_dev() { modprobe -q -a virtio_pci virtio_blk 2>/dev/null; wait_dev /dev/vda /sys/bus/virtio/drivers/virtio_blk && dev=/dev/vda; }
case $MMR_TRANSPORT in
    auto) nvme_dev || virtio_dev ;;
    nvme) nvme_dev ;;
    virtio) virtio_dev ;;
esac
if [ -n "$dev" ]; then
    echo "MMREPLAY: sending results via $dev"
    tar -cf "$dev" .mmreplay-meta out .mmreplay-done && sync && echo "MMREPLAY: results sent"
else
    echo "MMREPLAY: sending results via /dev/ttyS1"
    stty -F /dev/ttyS1 raw -echo -ixon -ixoff 115200
    tar -cf - .mmreplay-meta out .mmreplay-done > /dev/ttyS1 && echo "MMREPLAY: results sent"
fi
reboot -f
sleep 5
echo o > /proc/sysrq-trigger
INIT
chmod 755 "$stage/init"

(cd "$stage" && find . | LC_ALL=C sort | "$busybox" cpio -o -H newc -R 0:0 2>/dev/null) | gzip -1 > "$tmp/initramfs.gz"
log "initramfs $(du -h "$tmp/initramfs.gz" | cut -f1) built in $(elapsed "$t_start" "$(now)")s"

# ---------------------------------------------------------------- accelerator
probe_kvm() {
    local p=$tmp/probe
    mkdir -p "$p/bin"
    cp "$busybox" "$p/bin/busybox"
    printf '#!/bin/busybox sh\n/bin/busybox echo MMREPLAY-KVM-PROBE-OK\n/bin/busybox reboot -f\n' > "$p/init"
    chmod 755 "$p/init"
    (cd "$p" && find . | "$busybox" cpio -o -H newc -R 0:0 2>/dev/null) | gzip -1 > "$tmp/probe.gz"
    (timeout -k 2 10 qemu-system-x86_64 -accel kvm -cpu host -m 256 -nodefaults -nographic -no-reboot \
        -chardev file,id=c0,path="$tmp/probe.log" -serial chardev:c0 -monitor none \
        -kernel "$kernel" -initrd "$tmp/probe.gz" -append "console=ttyS0 panic=-1" \
        </dev/null >/dev/null 2>&1; exit 0) >/dev/null 2>&1
    grep -q MMREPLAY-KVM-PROBE-OK "$tmp/probe.log" 2>/dev/null
}
if [ "$accel" = auto ]; then
    if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
        key="$(uname -r) $(qemu-system-x86_64 --version | head -n1 | awk '{print $4}')"
        accel=$(awk -v k="$key" 'substr($0, 1, length(k) + 1) == k " " { print $NF }' "$cache/accel-probe" 2>/dev/null | tail -n1 || true)
        if [ -z "$accel" ]; then
            log "probing KVM (10 s at most)"
            if probe_kvm; then accel=kvm; else accel=tcg; fi
            mkdir -p "$cache" && echo "$key $accel" >> "$cache/accel-probe"
            log "KVM probe: using $accel (cached in $cache/accel-probe)"
        fi
    else
        accel=tcg
    fi
fi
# TCG "max" would enable LA57 (5-level paging), which real test machines rarely have.
if [ "$accel" = kvm ]; then cpu_model=host; else cpu_model=max,la57=off; fi
log "accelerator $accel, cpu $cpu_model"

# ---------------------------------------------------------------- qemu
# random.trust_cpu=on: the CRNG ready at boot (RDRAND); without it kmem:rss_stat
# gives every mm the id 0 for seconds, and the recorder cannot tell mms apart by it
qargs=(-accel "$accel" -cpu "$cpu_model" -m "${mem_mib}M" -smp "$cpus"
       -nodefaults -nographic -no-reboot -monitor none
       -chardev "file,id=con0,path=$console" -serial chardev:con0
       -chardev "file,id=res0,path=$tmp/serial.bin" -serial chardev:res0
       -kernel "$kernel" -initrd "$tmp/initramfs.gz"
       -append "console=ttyS0 panic=-1 rdinit=/init random.trust_cpu=on$append")
case "$transport" in auto|nvme)
    truncate -s "${out_size_mib}M" "$tmp/nvme.img"
    qargs+=(-drive "file=$tmp/nvme.img,if=none,format=raw,id=resn" -device "nvme,serial=mmreplay-out,drive=resn") ;;
esac
case "$transport" in auto|virtio)
    truncate -s "${out_size_mib}M" "$tmp/virtio.img"
    qargs+=(-drive "file=$tmp/virtio.img,if=virtio,format=raw") ;;
esac
if [ "$numa" -gt 1 ]; then
    # one socket per node (or per CPU) so that no LLC/core siblings straddle two nodes
    if [ "$cpus" -ge "$numa" ] && [ $(( cpus % numa )) -eq 0 ]; then
        qargs+=(-smp "$cpus,sockets=$numa,cores=$(( cpus / numa )),threads=1")
    else
        qargs+=(-smp "$cpus,sockets=$cpus,cores=1,threads=1")
    fi
    per=$(( mem_mib / numa ))
    [ "$per" -ge 64 ] || die "--numa $numa: too little memory per node"
    for ((i = 0; i < numa; i++)); do
        sz=$per; [ "$i" -eq $((numa - 1)) ] && sz=$(( mem_mib - per * (numa - 1) ))
        lo=$(( i * cpus / numa )); hi=$(( (i + 1) * cpus / numa - 1 ))
        node="node,nodeid=$i,memdev=ram$i"
        [ "$hi" -ge "$lo" ] && node="$node,cpus=$lo-$hi"
        qargs+=(-object "memory-backend-ram,id=ram$i,size=${sz}M" -numa "$node")
    done
fi
qargs+=(${qemu_extra[@]+"${qemu_extra[@]}"})
log "qemu-system-x86_64 ${qargs[*]}"

: > "$console"
tailpid=
if [ "$verbose" = 1 ]; then tail -n +1 -f "$console" >&2 & tailpid=$!; fi
t_qemu=$(now)
qrc=0
timeout -k 5 "$timeout_s" qemu-system-x86_64 "${qargs[@]}" </dev/null >"$tmp/qemu.out" 2>&1 &
qpid=$!
wait "$qpid" || qrc=$?
qpid=
t_done=$(now)
if [ -n "$tailpid" ]; then sleep 0.3; kill "$tailpid" 2>/dev/null || true; wait "$tailpid" 2>/dev/null || true; fi
wall=$(elapsed "$t_qemu" "$t_done")

# ---------------------------------------------------------------- results
x=$tmp/x
got=
for src in nvme.img virtio.img serial.bin; do
    [ -s "$tmp/$src" ] || continue
    rm -rf "$x"; mkdir -p "$x"
    if tar -xf "$tmp/$src" -C "$x" 2>/dev/null && [ -e "$x/.mmreplay-done" ] && [ -f "$x/.mmreplay-meta/status" ]; then
        got=$src; break
    fi
done

tail_console() {
    [ -s "$console" ] || return 0
    echo "---- console tail${outdir:+ ($console)} ----" >&2; tail -n 25 "$console" | tr -d '\r' >&2; echo "----" >&2
}
# kernel lines only ("[ 1.23] ..." or bare); command output is echoed as "[cmd] ..."
panic_re='^(\[ *[0-9]+\.[0-9]+\] )?(Kernel panic - not syncing|Oops:|BUG: |kernel BUG at|general protection fault|Unable to handle kernel|unable to handle page fault)'
oops_excerpt() {
    local l
    l=$(grep -n -a -E -m1 "$1" "$console" | cut -d: -f1)
    echo "---- console from line $l${outdir:+ of $console} ----" >&2
    tail -n +"$l" "$console" | head -n 25 | tr -d '\r' >&2
    echo "----" >&2
}

status=
if [ -n "$got" ]; then
    status=$(cat "$x/.mmreplay-meta/status")
    if [ -n "$outdir" ]; then
        for r in console.log guest-output.log guest-status run-info.txt; do
            if [ -e "$x/out/$r" ]; then
                echo "$me: note: guest /out/$r saved as $r.guest (name is reserved)" >&2
                mv "$x/out/$r" "$x/out/$r.guest"
            fi
        done
        cp -a "$x/out/." "$outdir/"
        cp "$x/.mmreplay-meta/output" "$outdir/guest-output.log"
        echo "$status" > "$outdir/guest-status"
    fi
fi
read -r g_init g_cmd g_end < <(awk '{ v[$1] = $2 } END { print v["init"] + 0, v["cmd_start"] + 0, v["cmd_end"] + 0 }' "$x/.mmreplay-meta/timing" 2>/dev/null || echo "0 0 0")
info="accel=$accel cpus=$cpus mem=${mem_mib}M numa=$numa kernel=${krel:-?} transport=${got:-none} qemu_rc=$qrc"
info="$info boot_to_init=${g_init}s cmd=$(elapsed "$g_cmd" "$g_end")s qemu_wall=${wall}s total=$(elapsed "$t_start" "$t_done")s"
if [ -n "$outdir" ]; then echo "$info" > "$outdir/run-info.txt"; fi
log "$info"

if [ -n "$got" ]; then cat "$x/.mmreplay-meta/output"; fi

panic_line='^(\[ *[0-9]+\.[0-9]+\] )?Kernel panic - not syncing'
if grep -q -a -E "$panic_line" "$console"; then
    echo "$me: guest kernel panic after ${wall}s: $(grep -a -E -m1 "$panic_line" "$console" | sed 's/.*not syncing: *//' | tr -d '\r')" >&2
    oops_excerpt "$panic_re"; exit 125
fi
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
    if [ -z "$got" ]; then echo "$me: guest timed out after ${timeout_s}s" >&2; tail_console; exit 124; fi
    echo "$me: note: the command finished but the guest did not power off within ${timeout_s}s" >&2
fi
if [ -z "$got" ]; then
    echo "$me: guest produced no result (boot failure? qemu exit $qrc)" >&2
    if [ -s "$tmp/qemu.out" ]; then sed 's/^/qemu: /' "$tmp/qemu.out" >&2; fi
    tail_console; exit 125
fi
if grep -q -a -E "$panic_re" "$console"; then
    echo "$me: guest kernel oops/BUG during the run: $(grep -a -E -m1 "$panic_re" "$console" | sed -E 's/^\[ *[0-9.]+\] //' | tr -d '\r')" >&2
    oops_excerpt "$panic_re"
    if [ "$allow_oops" = 0 ]; then exit 125; fi
fi
if grep -q -a -E '^(\[ *[0-9]+\.[0-9]+\] )?WARNING: CPU:' "$console"; then echo "$me: note: guest kernel WARNING in console.log" >&2; fi
exit "$status"
