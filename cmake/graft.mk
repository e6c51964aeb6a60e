# graft.mk: a Make fragment for hosts built with Make (docs/ADOPTING.md, section 4).
# Installed as <prefix>/share/graft/graft.mk. Include it from your Makefile:
#
#   GRAFT_CRATE := wc-rs           # the cargo package of your one Rust staticlib
#   GRAFT_CARGO_DIR := rust        # your Cargo workspace (default: the current directory)
#   include /opt/graft/share/graft/graft.mk
#   myapp: $(OBJS) $(GRAFT_RUST_LIB)
#   	$(CC) -o $@ $(OBJS) $(GRAFT_LIBS)
#   %.o: %.c
#   	$(CC) $(CFLAGS) $(GRAFT_CFLAGS) -c $< -o $@
#
# Inputs (all optional but GRAFT_CRATE):
#   GRAFT_PREFIX            where graft is installed (default: found from this file)
#   GRAFT_STATIC=1          link libgraft.a (graft-static.pc) instead of libgraft.so
#   GRAFT_ADMIN=1           also link the admin endpoint (libgraft-admin.a, graft-admin.pc:
#                           libmicrohttpd, libcjson); without it the host gets the core
#                           alone, which needs libc and pthreads only
#   GRAFT_LIBGRAFT          link this libgraft instead of pkg-config's (a build tree), with
#                           GRAFT_LIBGRAFT_DEPS after it and GRAFT_INCLUDE_DIRS for -I;
#                           with GRAFT_ADMIN=1, GRAFT_LIBGRAFT_ADMIN (its libgraft-admin.a)
#                           and GRAFT_LIBGRAFT_ADMIN_DEPS go before it
#   GRAFT_CRATE, GRAFT_CARGO_DIR, GRAFT_CARGO_PROFILE (release | dev; default release)
#   GRAFT_CARGO_TARGET_DIR  (default $(GRAFT_CARGO_DIR)/target)
#   GRAFT_CARGO_FLAGS       more cargo flags (--features ...)
# Outputs:
#   GRAFT_CFLAGS            -I flags for graft's headers
#   GRAFT_LIBS              libgraft, then $(GRAFT_RUST_LIB), then the system libraries
#                           Rust's std needs (GRAFT_RUST_SYSLIBS), in link order
#   GRAFT_RUST_LIB          the staticlib, with a rule that runs cargo only when a .rs,
#                           Cargo.toml or Cargo.lock under GRAFT_CARGO_DIR changed
#   GRAFT_LINK_DEPS         prerequisites for the link rule (the staticlib, a GRAFT_LIBGRAFT)
#   GRAFT_RUST_SYSLIBS      `rustc --print native-static-libs` of this toolchain (minus
#                           -lc), asked once and cached in the cargo target directory
#   GRAFT_FFI_CRATE         the graft-ffi crate (patched in for cargo)
#   graft_cbindgen          $(call graft_cbindgen,<crate dir>,<cbindgen.toml>,<header>):
#                           cbindgen with the patch, from any directory
# Everything is computed once per make run (:=); nothing here is phony.

# The rules below must not become the including Makefile's default goal.
GRAFT_SAVED_DEFAULT_GOAL := $(.DEFAULT_GOAL)
GRAFT_MK_DIR := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
GRAFT_PREFIX ?= $(abspath $(GRAFT_MK_DIR)/../..)
PKG_CONFIG ?= pkg-config
CARGO ?= cargo
RUSTC ?= rustc
GRAFT_CARGO_DIR ?= .
GRAFT_CARGO_PROFILE ?= release
GRAFT_CARGO_TARGET_DIR ?= $(GRAFT_CARGO_DIR)/target

# ------------------------------------------------------------------ libgraft (C side)
# $(shell) does not see variables exported by the Makefile (GNU make < 4.4): inline.
GRAFT_PC_PATH := $(subst $() $(),:,$(wildcard $(GRAFT_PREFIX)/lib/pkgconfig $(GRAFT_PREFIX)/lib/*/pkgconfig))
GRAFT_PKGCONF := PKG_CONFIG_PATH=$(GRAFT_PC_PATH) $(PKG_CONFIG)
ifneq ($(GRAFT_LIBGRAFT),)
GRAFT_CFLAGS := $(addprefix -I,$(GRAFT_INCLUDE_DIRS))
GRAFT_LIBGRAFT_LIBS := $(if $(filter 1 ON yes,$(GRAFT_ADMIN)),$(GRAFT_LIBGRAFT_ADMIN) $(GRAFT_LIBGRAFT_ADMIN_DEPS)) \
  $(GRAFT_LIBGRAFT) $(GRAFT_LIBGRAFT_DEPS)
GRAFT_FFI_CRATE ?=
else
GRAFT_PC := $(if $(filter 1 ON yes,$(GRAFT_STATIC)),graft-static,graft)
GRAFT_CFLAGS := $(shell $(GRAFT_PKGCONF) --cflags $(GRAFT_PC))
GRAFT_LIBGRAFT_LIBS := $(if $(filter 1 ON yes,$(GRAFT_ADMIN)),$(shell $(GRAFT_PKGCONF) --libs graft-admin)) \
  $(shell $(GRAFT_PKGCONF) --libs $(GRAFT_PC))
ifeq ($(GRAFT_PC),graft)
GRAFT_LIBGRAFT_LIBS += -Wl,-rpath,$(shell $(GRAFT_PKGCONF) --variable=libdir graft)
endif
GRAFT_FFI_CRATE := $(shell $(GRAFT_PKGCONF) --variable=ffi_crate_dir $(GRAFT_PC))
ifeq ($(GRAFT_FFI_CRATE),)
$(error graft.mk: graft not found by pkg-config under GRAFT_PREFIX=$(GRAFT_PREFIX))
endif
endif

# ------------------------------------------------------------------ the Rust staticlib
GRAFT_PATCH = $(if $(GRAFT_FFI_CRATE),--config "patch.crates-io.graft-ffi.path='$(GRAFT_FFI_CRATE)'")
ifneq ($(GRAFT_CRATE),)
GRAFT_PROFILE_DIR := $(if $(filter dev,$(GRAFT_CARGO_PROFILE)),debug,$(GRAFT_CARGO_PROFILE))
GRAFT_RUST_LIB := $(GRAFT_CARGO_TARGET_DIR)/$(GRAFT_PROFILE_DIR)/lib$(subst -,_,$(GRAFT_CRATE)).a
# The real inputs of the archive: cargo itself decides what to recompile, but make
# only asks it when one of these is newer than the archive (no phony relink).
GRAFT_RUST_INPUTS := $(shell find $(GRAFT_CARGO_DIR) -path '$(GRAFT_CARGO_TARGET_DIR)' -prune -o \
  \( -name '*.rs' -o -name Cargo.toml -o -name Cargo.lock \) -type f -print 2> /dev/null) \
  $(if $(GRAFT_FFI_CRATE),$(shell find $(GRAFT_FFI_CRATE) \( -name '*.rs' -o -name Cargo.toml \) -type f -print 2> /dev/null))

$(GRAFT_RUST_LIB): $(GRAFT_RUST_INPUTS)
	cd $(GRAFT_CARGO_DIR) && $(CARGO) build --offline --locked --profile $(GRAFT_CARGO_PROFILE) \
	  -p $(GRAFT_CRATE) --target-dir $(abspath $(GRAFT_CARGO_TARGET_DIR)) $(GRAFT_PATCH) $(GRAFT_CARGO_FLAGS)
	@touch $@

# What std needs after the archive: the toolchain's answer, cached per target dir.
GRAFT_SYSLIBS_CACHE := $(GRAFT_CARGO_TARGET_DIR)/graft-native-static-libs.txt
GRAFT_RUST_SYSLIBS := $(shell test -s $(GRAFT_SYSLIBS_CACHE) || { mkdir -p $(GRAFT_CARGO_TARGET_DIR) && \
  $(RUSTC) --crate-type staticlib --crate-name graft_probe --print native-static-libs \
    -o $(GRAFT_CARGO_TARGET_DIR)/graft-probe.a - < /dev/null 2>&1 | \
  sed -n 's/.*native-static-libs: //p' | sed 's/ -lc$$//; s/ -lc / /' > $(GRAFT_SYSLIBS_CACHE); }; \
  cat $(GRAFT_SYSLIBS_CACHE))
ifeq ($(strip $(GRAFT_RUST_SYSLIBS)),)
$(error graft.mk: could not ask $(RUSTC) for native-static-libs)
endif
GRAFT_LIBS := $(GRAFT_LIBGRAFT_LIBS) $(GRAFT_RUST_LIB) $(GRAFT_RUST_SYSLIBS)
else
GRAFT_LIBS := $(GRAFT_LIBGRAFT_LIBS)
endif
# Prerequisites of the final link: it is redone when the twin or libgraft changed.
GRAFT_LINK_DEPS := $(GRAFT_RUST_LIB) $(filter %.a,$(GRAFT_LIBGRAFT) \
  $(if $(filter 1 ON yes,$(GRAFT_ADMIN)),$(GRAFT_LIBGRAFT_ADMIN)))

# cbindgen asks `cargo metadata` itself, without the graft-ffi patch and from the
# current directory's cargo configuration, which fails when the workspace is elsewhere
# (the project root running cbindgen on rust/ in a subdirectory). graft_cbindgen runs
# cargo metadata in the workspace, with the patch, and hands cbindgen the result:
#   $(call graft_cbindgen,<crate dir>,<cbindgen.toml>,<output header>)
graft_cbindgen = cd $(GRAFT_CARGO_DIR) && $(CARGO) metadata --offline --all-features --format-version 1 \
  $(GRAFT_PATCH) > $(abspath $(GRAFT_CARGO_TARGET_DIR))/graft-metadata.json && cd $(CURDIR) && \
  cbindgen --quiet --metadata $(abspath $(GRAFT_CARGO_TARGET_DIR))/graft-metadata.json \
  --lockfile $(abspath $(GRAFT_CARGO_DIR))/Cargo.lock --config $(2) --output $(3) $(1)

.DEFAULT_GOAL := $(GRAFT_SAVED_DEFAULT_GOAL)
