#!/bin/sh
# guest-facts.sh - runs INSIDE a run-in-guest.sh guest (busybox sh) and prints what the
# guest kernel offers mmreplay: BTF, kprobes, zram, NUMA nodes, kallsyms/ftrace presence
# of the mm functions, lockdown. Copies /sys/kernel/btf/vmlinux to /out/vmlinux.btf.
#
# Usage (on the host):
#   tests/qemu/run-in-guest.sh --kernel "$K/vmlinuz" --numa 2 --out /tmp/facts \
#       --file tests/qemu/guest-facts.sh -- guest-facts.sh
#   Output is "key: value" lines on stdout; exit status 0 unless the script itself broke.
#   Used to write tests/qemu/NOTES.md; safe to rerun on any kernel (nothing is changed
#   except a throw-away kprobe event, a 64 MiB zram swap that is removed again).
echo "kernel: $(uname -r)"
if [ -f /sys/kernel/btf/vmlinux ]; then
    echo "btf_vmlinux: yes ($(wc -c < /sys/kernel/btf/vmlinux) bytes)"
    cp /sys/kernel/btf/vmlinux /out/vmlinux.btf
else
    echo "btf_vmlinux: no"
fi
echo "btf_modules: $(cd /sys/kernel/btf && for m in *; do [ "$m" = vmlinux ] || printf '%s ' "$m"; done)"
if [ -f /sys/bus/event_source/devices/kprobe/type ]; then
    echo "kprobe_pmu_type: $(cat /sys/bus/event_source/devices/kprobe/type)"
else
    echo "kprobe_pmu_type: missing"
fi
if echo 'p:mmr_probe handle_mm_fault' >> /sys/kernel/tracing/kprobe_events 2>/dev/null; then
    echo 'kprobe_event_handle_mm_fault: created ok'
    echo '-:mmr_probe' >> /sys/kernel/tracing/kprobe_events
else
    echo 'kprobe_event_handle_mm_fault: FAILED'
fi
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
echo "lockdown: $(cat /sys/kernel/security/lockdown 2>/dev/null || echo n/a)"
echo "unprivileged_bpf_disabled: $(cat /proc/sys/kernel/unprivileged_bpf_disabled)"
if grep -q '/zram\.ko' "/lib/modules/$(uname -r)/modules.builtin" 2>/dev/null; then zb=yes
elif [ -f "/lib/modules/$(uname -r)/modules.builtin" ]; then zb=no; else zb=unknown; fi
echo "zram_builtin: $zb"
echo "zram_loaded: $(lsmod | awk '$1 == "zram" || $1 == "zsmalloc" { printf "%s ", $1 }')"
if [ -b /dev/zram0 ] && echo 64M > /sys/block/zram0/disksize && mkswap /dev/zram0 >/dev/null 2>&1 &&
        swapon /dev/zram0; then
    echo "zram_swap: ok (algo $(cat /sys/block/zram0/comp_algorithm | tr -d '\n'); $(grep zram0 /proc/swaps | awk '{print $3 "KiB"}'))"
    swapoff /dev/zram0; echo 1 > /sys/block/zram0/reset
else
    echo "zram_swap: FAILED"
fi
echo "numa_nodes: $(ls -d /sys/devices/system/node/node* 2>/dev/null | sed 's|.*/||' | tr '\n' ' ')"
for n in /sys/devices/system/node/node*; do
    [ -d "$n" ] && echo "  $(basename "$n"): cpus=$(cat "$n/cpulist") $(awk '/MemTotal/ {print $4 "kB"}' "$n/meminfo")"
done
echo "functions (kallsyms | ftrace available_filter_functions):"
cat /proc/kallsyms > /tmp/kallsyms
cat /sys/kernel/tracing/available_filter_functions > /tmp/ftrace_funcs
for f in try_to_unmap_one folio_referenced_one try_to_migrate_one mlock_folio munlock_folio \
         mlock_new_folio munlock_page mlock_new_page mlock_page unmap_page_range \
         zap_page_range_single unmap_mapping_pages unmap_mapping_range free_swap_and_cache \
         free_swap_and_cache_nr do_swap_page handle_mm_fault lock_vma_under_rcu; do
    k=$(grep -w "$f" /tmp/kallsyms | awk '{ printf "%s%s(%s)", sep, $3, $2; sep = "," }')
    a=$(grep -w "$f" /tmp/ftrace_funcs | tr '\n' ',' | sed 's/,$//')
    echo "  $f: kallsyms=${k:-absent} ftrace=${a:-absent}"
done
echo "tracepoints:"
for e in rss_stat mm_lru_insertion set_migration_pte remove_migration_pte mmap_lock_acquire_returned \
         page_fault_user sched_process_fork sched_process_exit sys_enter sys_exit; do
    d=$(ls -d /sys/kernel/tracing/events/*/"$e" 2>/dev/null | sed 's|/sys/kernel/tracing/events/||')
    echo "  $e: ${d:-absent}"
done
