# mmreplay build, after libbpf-bootstrap's examples/c/Makefile:
# clang -> bpftool gen object -> bpftool gen skeleton; generated files in
# $(OUTPUT); quiet unless V=1.
OUTPUT ?= .output
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= cc
ARCH := x86

CFLAGS ?= -g -O2 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
# what the code needs, whatever CFLAGS the environment or the command line gives
override CFLAGS += -D_GNU_SOURCE
# recursive (=): pkg-config runs when a compile needs it, after `deps` has
# installed libtraceevent, not when make parses this file
INCLUDES = -I. -I$(OUTPUT) $(TRACEEVENT_CFLAGS)
TRACEEVENT_CFLAGS = $(shell pkg-config --cflags libtraceevent 2>/dev/null)
# each object depends on the headers it includes (gcc writes them into .d files)
DEPFLAGS = -MMD -MP
LIBS := -lbpf -lelf -lz -ltraceevent -lm -lpthread
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Ibpf -Wall -Wno-unused-function

BPF_SRC := bpf/mmreplay.bpf.c
BPF_HDR := bpf/events.h bpf/mmhash.h bpf/core_fixes.bpf.h bpf/vmlinux.h
TRACES_SRC := $(wildcard traces/*.c)
CLI_SRC := $(wildcard cli/*.c)
CHECK_SRC := $(wildcard check/*.c)
REPLAY_SRC := $(wildcard replay/*.c)
VM_SRC := $(wildcard vm/*.c)
RECORD_SRC := $(wildcard record/*.c)
DIFF_SRC := $(wildcard diff/*.c)
APP_OBJ := $(patsubst %.c,$(OUTPUT)/%.o,$(CLI_SRC) $(TRACES_SRC) $(CHECK_SRC) $(REPLAY_SRC) $(DIFF_SRC) \
	$(VM_SRC) $(RECORD_SRC)) $(OUTPUT)/vm/guest_init.o
WORKLOADS := $(patsubst tests/workloads/%.c,$(OUTPUT)/workloads/%,$(wildcard tests/workloads/*.c))
BENCH := $(patsubst bench/%.c,$(OUTPUT)/bench/%,$(wildcard bench/*.c))
TESTS := $(patsubst tests/%.c,$(OUTPUT)/tests/%,$(wildcard tests/test_*.c))
TEST_OBJ := $(patsubst %.c,$(OUTPUT)/%.o,$(TRACES_SRC) $(CHECK_SRC) $(REPLAY_SRC) $(DIFF_SRC) \
	$(VM_SRC) cli/util.c record/cgroup.c) $(OUTPUT)/vm/guest_init.o
# the replay session (scratch, subprocesses, QEMU): not in the fuzzer's reading path
SESSION_SRC := $(wildcard replay/session*.c) replay/scratch.c replay/budget.c replay/adapt.c

ifeq ($(V),1)
	Q =
	msg =
else
	Q = @
	msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.PHONY: all clean deps test example
.DELETE_ON_ERROR:

all: mmreplay $(WORKLOADS) $(TESTS) $(BENCH)

# everything the build, the example and the tests need (scripts/deps.sh holds
# the package lists)
deps:
	sh scripts/deps.sh --test

$(OUTPUT) $(OUTPUT)/bpf $(OUTPUT)/cli $(OUTPUT)/traces $(OUTPUT)/check $(OUTPUT)/replay $(OUTPUT)/diff $(OUTPUT)/vm \
		$(OUTPUT)/record \
		$(OUTPUT)/workloads $(OUTPUT)/tests:
	$(Q)mkdir -p $@

$(OUTPUT)/bpf/mmreplay.tmp.bpf.o: $(BPF_SRC) $(BPF_HDR) | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/bpf/mmreplay.bpf.o: $(OUTPUT)/bpf/mmreplay.tmp.bpf.o
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(OUTPUT)/mmreplay.skel.h: $(OUTPUT)/bpf/mmreplay.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name mmreplay_bpf > $@

$(OUTPUT)/%.o: %.c | $(OUTPUT)/mmreplay.skel.h $(OUTPUT)/cli $(OUTPUT)/traces $(OUTPUT)/check $(OUTPUT)/replay \
		$(OUTPUT)/diff $(OUTPUT)/vm $(OUTPUT)/record
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) $(INCLUDES) -c $< -o $@

# the version --version prints: git's description of the checkout where there
# is one (a tarball, or a root without git, says "unknown")
MMR_VERSION = $(shell git describe --always --dirty 2>/dev/null || echo unknown)
$(OUTPUT)/cli/main.o: CFLAGS += -DMMR_VERSION='"$(MMR_VERSION)"'

# the guest's /init, linked in (.incbin)
$(OUTPUT)/vm/guest_init.o: vm/guest_init.S vm/guest-init.sh | $(OUTPUT)/vm
	$(call msg,AS,$@)
	$(Q)$(CC) -c $< -o $@

mmreplay: $(APP_OBJ)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

$(OUTPUT)/workloads/%: tests/workloads/%.c | $(OUTPUT)/workloads
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -pthread $< -o $@

$(OUTPUT)/bench/%: bench/%.c $(TEST_OBJ) | $(OUTPUT)/mmreplay.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) $(INCLUDES) $< $(TEST_OBJ) $(BENCH_OBJ) $(LIBS) -o $@

# snapshot_cost and test_record drive record/snapshot.c themselves
$(OUTPUT)/bench/snapshot_cost $(OUTPUT)/tests/test_record: $(OUTPUT)/record/snapshot.o \
	$(OUTPUT)/record/reclaim.o
$(OUTPUT)/bench/snapshot_cost: BENCH_OBJ = $(OUTPUT)/record/snapshot.o $(OUTPUT)/record/reclaim.o
# test_record also turns staged items back into records (record/batch.c)
$(OUTPUT)/tests/test_record: $(OUTPUT)/record/batch.o
$(OUTPUT)/tests/test_record: BENCH_OBJ = $(OUTPUT)/record/snapshot.o $(OUTPUT)/record/reclaim.o \
	$(OUTPUT)/record/batch.o

$(OUTPUT)/tests/%: tests/%.c $(TEST_OBJ) | $(OUTPUT)/mmreplay.skel.h $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) $(INCLUDES) $< $(TEST_OBJ) $(BENCH_OBJ) $(LIBS) -o $@

test: all
	$(Q)tests/run

clean:
	$(call msg,CLEAN)
	$(Q)rm -rf $(OUTPUT) mmreplay

# The bundled example: record a workload (a shared memfd mapped twice,
# mlocked, one mapping munlocked), then show its mm syscalls and a summary.
example: mmreplay $(WORKLOADS)
	./mmreplay record -o example.trace -- $(OUTPUT)/workloads/mlock_memfd
	./mmreplay show example.trace --kind memfd_create --kind mmap --kind mlock \
		--kind munlock --kind munmap --kind task_exit
	./mmreplay info example.trace

# ---- fuzzing (fuzz/README.md) ------------------------------------------------
# Not part of `all`: it needs clang with libFuzzer.  `make fuzz` builds the
# libFuzzer harness .output/fuzz/trace_fuzz and .output/fuzz/trace_fuzz_run,
# the same harness with a plain main() that runs each file given once (the
# crash regression test, tests/test_fuzz_crashes).  Both use ASan and UBSan,
# alignment included, and stop at the first error.
FUZZ_OUT := $(OUTPUT)/fuzz
# the reader's uncompress() calls go to the harness's checked __wrap_uncompress
FUZZ_LDFLAGS := -Wl,--wrap=uncompress
FUZZ_CC ?= clang
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -Wall -Wno-unused-parameter \
	-Wno-missing-field-initializers $(FUZZ_SAN)
FUZZ_LIB_SRC := $(TRACES_SRC) $(CHECK_SRC) $(filter-out $(SESSION_SRC),$(REPLAY_SRC)) $(DIFF_SRC) cli/util.c \
	record/cgroup.c \
	cli/cmd_show.c cli/cmd_check.c cli/cmd_diff.c cli/cmd_export.c fuzz/trace_fuzz.c
FUZZ_OBJ := $(patsubst %.c,$(FUZZ_OUT)/obj/%.o,$(FUZZ_LIB_SRC)) $(FUZZ_OUT)/obj/fuzz/ref_trace.o

.PHONY: fuzz fuzz-run
fuzz: $(FUZZ_OUT)/trace_fuzz $(FUZZ_OUT)/trace_fuzz_run
fuzz-run: $(FUZZ_OUT)/trace_fuzz_run

$(FUZZ_OUT)/obj/%.o: %.c $(wildcard */*.h)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(INCLUDES) -c $< -o $@

$(FUZZ_OUT)/obj/fuzz/ref_trace.o: fuzz/ref_trace.S fuzz/corpus/plain.trace
	$(call msg,FUZZ-AS,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) -c $< -o $@

$(FUZZ_OUT)/trace_fuzz: $(FUZZ_OBJ) fuzz/mutator.c
	$(call msg,FUZZ-LD,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(INCLUDES) fuzz/mutator.c $(FUZZ_OBJ) \
		$(FUZZ_LDFLAGS) $(LIBS) -o $@

# no libFuzzer needed: instrumented objects, a plain main()
$(FUZZ_OUT)/trace_fuzz_run: $(FUZZ_OBJ) fuzz/driver.c
	$(call msg,FUZZ-LD,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) fuzz/driver.c $(FUZZ_OBJ) $(FUZZ_LDFLAGS) $(LIBS) -o $@

# the headers each object, test, bench and workload included when it was last built
-include $(APP_OBJ:.o=.d) $(addsuffix .d,$(TESTS) $(BENCH) $(WORKLOADS))
