//! C exports of the Rust storage engine (rust/kv-store), the twin of server/kv_store.c.
//!
//! Every operation of `server/kv_store.h` has a `kv_rs_store_*` counterpart with the same
//! arguments (the same `kv_store_config`, `kv_item_view`, `kv_item_visit_fn`,
//! `kv_store_mode`, `kv_store_result` and `kv_store_stats`, defined once in
//! server/kv_store.h), so a stateful seam can apply one operation to both engines. The
//! differences are the graft-ffi shape: each function returns a `GRAFT_*` status (a
//! NULL argument is `GRAFT_ENULL`, a panic `GRAFT_EPANIC`, never an unwind into C) and
//! writes its result through an out-parameter; and items retained from a Rust view are
//! `kv_rs_item`, released with `kv_rs_store_item_release`.

use core::ffi::{c_char, c_int, c_void};
use std::sync::Arc;

use graft_ffi::{borrow, boundary, opaque, out, Error};
use kv_store::{Config, Item, ItemView, Mode, SizeModel, Store};

/// `kv_store_config` (server/kv_store.h).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct StoreConfig {
    pub mem_limit: usize,
    pub item_size_max: u32,
    pub process_started: i64,
    pub initial_buckets: u32,
}

/// `kv_item_view` (server/kv_store.h). For a view of the Rust store, `item` is only for
/// `kv_rs_store_item_retain`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ItemViewC {
    pub key: *const c_char,
    pub nkey: u32,
    pub flags: u32,
    pub data: *const c_char,
    pub nbytes: u32,
    pub cas: u64,
    pub item: *const c_void,
}

/// `kv_store_stats` (server/kv_store.h).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct StatsC {
    pub curr_items: u64,
    pub total_items: u64,
    pub bytes: u64,
    pub accounted: u64,
    pub limit_maxbytes: u64,
    pub evictions: u64,
    pub expired: u64,
    pub reclaimed: u64,
    pub hash_buckets: u64,
    pub hash_growing: u64,
    pub hash_bytes: u64,
}

/// `kv_item_visit_fn` (server/kv_store.h).
pub type VisitFn = Option<unsafe extern "C" fn(ctx: *mut c_void, item: *const ItemViewC)>;

/// Sizes accounted as glibc's `malloc_usable_size` reports them (what kv_store.c counts
/// in a glibc build).
pub const KV_RS_SIZE_GLIBC: c_int = 0;
/// Sizes accounted as the request itself (what kv_store.c counts under ASan or TSan).
pub const KV_RS_SIZE_EXACT: c_int = 1;

/// The Rust storage engine, opaque to C.
pub struct KvRsStore {
    store: Store,
}

/// A retained item of the Rust store, opaque to C: its key and value bytes stay valid
/// and unchanged until `kv_rs_store_item_release`.
pub struct KvRsItem {
    _opaque: [u8; 0],
}

// SAFETY (helper contract): callers pass NULL or a pointer from kv_rs_store_create that
// was not destroyed.
unsafe fn store<'a>(s: *const KvRsStore) -> Result<&'a Store, Error> {
    // SAFETY: see above.
    unsafe { opaque::borrow(s) }.map(|s| &s.store)
}

// SAFETY (helper contract): key[0..nkey) readable, or key NULL with nkey 0.
unsafe fn key<'a>(key: *const c_char, nkey: u32) -> Result<&'a [u8], Error> {
    // SAFETY: see above.
    unsafe { borrow::bytes(key.cast(), nkey as usize) }
}

fn view_c(v: &ItemView<'_>) -> ItemViewC {
    let item: &Arc<Item> = v.item();
    ItemViewC {
        key: v.key().as_ptr().cast(),
        nkey: v.key().len() as u32,
        flags: v.flags,
        data: item.value_crlf().as_ptr().cast(),
        nbytes: v.value().len() as u32,
        cas: v.cas,
        item: (item as *const Arc<Item>).cast(),
    }
}

/// Creates a Rust store (as `kv_store_create`) whose item sizes follow `size_model`
/// (`KV_RS_SIZE_GLIBC` or `KV_RS_SIZE_EXACT`). Returns `GRAFT_OK` with `*out` set,
/// `GRAFT_ENULL`, or `GRAFT_EINVAL` (limit 0, buckets not a power of two, unknown model).
///
/// # Safety
/// `cfg` NULL or valid; `out` NULL or valid for writing a pointer.
#[no_mangle]
pub unsafe extern "C" fn kv_rs_store_create(
    cfg: *const StoreConfig,
    size_model: c_int,
    out: *mut *mut KvRsStore,
) -> c_int {
    boundary::status(|| {
        if cfg.is_null() {
            return Err(Error::null("cfg"));
        }
        if out.is_null() {
            return Err(Error::null("out"));
        }
        // SAFETY: cfg is non-NULL and valid (caller contract); plain data read by value.
        let c = unsafe { cfg.read() };
        let size_model = match size_model {
            KV_RS_SIZE_GLIBC => SizeModel::Glibc,
            KV_RS_SIZE_EXACT => SizeModel::Exact,
            _ => return Err(Error::invalid("unknown size model")),
        };
        let store = Store::new(&Config {
            mem_limit: c.mem_limit,
            item_size_max: c.item_size_max,
            process_started: c.process_started,
            initial_buckets: c.initial_buckets,
            size_model,
        })
        .map_err(|e| Error::invalid(format!("kv_rs_store_create: {e:?}")))?;
        let p = opaque::into_raw(Box::new(KvRsStore { store }));
        // SAFETY: out is non-NULL and valid for writing (caller contract).
        unsafe { out::write(out, p) }
    })
}

/// Destroys a store (NULL is a no-op). Items still retained stay valid until released.
///
/// # Safety
/// `s` NULL or from `kv_rs_store_create`, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn kv_rs_store_destroy(s: *mut KvRsStore) {
    boundary::unit(|| {
        // SAFETY: s is NULL or a live store that C gives up (caller contract).
        drop(unsafe { opaque::take(s) });
        Ok(())
    })
}

/// `kv_store_realtime` into `*out`.
///
/// # Safety
/// `s` a live store or NULL; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kv_rs_store_realtime(
    s: *const KvRsStore,
    exptime: i64,
    now: u32,
    out: *mut u32,
) -> c_int {
    boundary::status(|| {
        // SAFETY: s is NULL or live (caller contract).
        let st = unsafe { store(s) }?;
        // SAFETY: out is NULL (rejected) or writable (caller contract).
        unsafe { out::write(out, st.realtime(exptime, now)) }
    })
}

/// `kv_store_get`: calls `fn_` once on a hit (with the shard lock held: the callback may
/// only call `kv_rs_store_item_retain`), `*hit` = 1 on a hit, 0 on a miss.
///
/// # Safety
/// `s` live or NULL; `key[0..nkey)` readable; `fn_` valid for `ctx`; `hit` NULL or
/// writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn kv_rs_store_get(
    s: *const KvRsStore,
    key: *const c_char,
    nkey: u32,
    now: u32,
    touch: c_int,
    exptime: i64,
    fn_: VisitFn,
    ctx: *mut c_void,
    hit: *mut c_int,
) -> c_int {
    boundary::status(|| {
        // SAFETY: s is NULL or live (caller contract).
        let st = unsafe { store(s) }?;
        // SAFETY: key bytes readable (caller contract).
        let k = unsafe { self::key(key, nkey) }?;
        let f = fn_.ok_or_else(|| Error::null("fn"))?;
        if hit.is_null() {
            return Err(Error::null("hit"));
        }
        let found = st
            .get(k, now, (touch != 0).then_some(exptime), |v| {
                let c = view_c(v);
                // SAFETY: f is a valid callback for ctx (caller contract); c points to
                // bytes held by the locked shard for the duration of the call.
                unsafe { f(ctx, &c) };
            })
            .is_some();
        // SAFETY: hit is non-NULL and writable (caller contract).
        unsafe { out::write(hit, c_int::from(found)) }
    })
}

/// `kv_store_store`: `*res` = the `kv_store_result`.
///
/// # Safety
/// `s` live or NULL; `key[0..nkey)` and `data[0..ndata)` readable; `res` NULL or writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn kv_rs_store_store(
    s: *const KvRsStore,
    mode: c_int,
    key: *const c_char,
    nkey: u32,
    flags: u32,
    exptime: i64,
    data: *const c_char,
    ndata: u32,
    cas: u64,
    now: u32,
    res: *mut c_int,
) -> c_int {
    boundary::status(|| {
        // SAFETY: s is NULL or live (caller contract).
        let st = unsafe { store(s) }?;
        // SAFETY: key bytes readable (caller contract).
        let k = unsafe { self::key(key, nkey) }?;
        // SAFETY: data bytes readable (caller contract).
        let d = unsafe { borrow::bytes(data.cast(), ndata as usize) }?;
        let m = Mode::from_raw(mode).ok_or_else(|| Error::invalid("unknown kv_store_mode"))?;
        let r = st.store(m, k, flags, exptime, d, cas, now);
        // SAFETY: res is NULL (rejected) or writable (caller contract).
        unsafe { out::write(res, r as c_int) }
    })
}

/// `kv_store_delete`: `*res` = DELETED or NOT_FOUND.
///
/// # Safety
/// `s` live or NULL; `key[0..nkey)` readable; `res` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kv_rs_store_delete(
    s: *const KvRsStore,
    key: *const c_char,
    nkey: u32,
    now: u32,
    res: *mut c_int,
) -> c_int {
    boundary::status(|| {
        // SAFETY: s is NULL or live (caller contract).
        let st = unsafe { store(s) }?;
        // SAFETY: key bytes readable (caller contract).
        let k = unsafe { self::key(key, nkey) }?;
        let r = st.delete(k, now);
        // SAFETY: res is NULL (rejected) or writable (caller contract).
        unsafe { out::write(res, r as c_int) }
    })
}

/// `kv_store_touch`: `*res` = TOUCHED or NOT_FOUND.
///
/// # Safety
/// `s` live or NULL; `key[0..nkey)` readable; `res` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kv_rs_store_touch(
    s: *const KvRsStore,
    key: *const c_char,
    nkey: u32,
    exptime: i64,
    now: u32,
    res: *mut c_int,
) -> c_int {
    boundary::status(|| {
        // SAFETY: s is NULL or live (caller contract).
        let st = unsafe { store(s) }?;
        // SAFETY: key bytes readable (caller contract).
        let k = unsafe { self::key(key, nkey) }?;
        let r = st.touch(k, exptime, now);
        // SAFETY: res is NULL (rejected) or writable (caller contract).
        unsafe { out::write(res, r as c_int) }
    })
}

/// `kv_store_arith`: `*res` = OK (new value in `*value`), NOT_FOUND, NON_NUMERIC or
/// NO_MEMORY (`*value` then untouched).
///
/// # Safety
/// `s` live or NULL; `key[0..nkey)` readable; `value` and `res` NULL or writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn kv_rs_store_arith(
    s: *const KvRsStore,
    key: *const c_char,
    nkey: u32,
    incr: c_int,
    delta: u64,
    now: u32,
    value: *mut u64,
    res: *mut c_int,
) -> c_int {
    boundary::status(|| {
        // SAFETY: s is NULL or live (caller contract).
        let st = unsafe { store(s) }?;
        // SAFETY: key bytes readable (caller contract).
        let k = unsafe { self::key(key, nkey) }?;
        if value.is_null() {
            return Err(Error::null("value"));
        }
        if res.is_null() {
            return Err(Error::null("res"));
        }
        let r = match st.arith(k, incr != 0, delta, now) {
            Ok(v) => {
                // SAFETY: value is non-NULL and writable (caller contract).
                unsafe { out::write(value, v) }?;
                kv_store::Res::Ok
            }
            Err(r) => r,
        };
        // SAFETY: res is non-NULL and writable (caller contract).
        unsafe { out::write(res, r as c_int) }
    })
}

/// `kv_store_flush`.
///
/// # Safety
/// `s` live or NULL.
#[no_mangle]
pub unsafe extern "C" fn kv_rs_store_flush(s: *const KvRsStore, delay: u64, now: u32) -> c_int {
    boundary::status(|| {
        // SAFETY: s is NULL or live (caller contract).
        unsafe { store(s) }?.flush(delay, now);
        Ok(())
    })
}

/// `kv_store_maintain`.
///
/// # Safety
/// `s` live or NULL.
#[no_mangle]
pub unsafe extern "C" fn kv_rs_store_maintain(s: *const KvRsStore, now: u32) -> c_int {
    boundary::status(|| {
        // SAFETY: s is NULL or live (caller contract).
        unsafe { store(s) }?.maintain(now);
        Ok(())
    })
}

/// `kv_store_get_stats`: every field of `*out`.
///
/// # Safety
/// `s` live or NULL; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kv_rs_store_get_stats(s: *const KvRsStore, out: *mut StatsC) -> c_int {
    boundary::status(|| {
        // SAFETY: s is NULL or live (caller contract).
        let x = unsafe { store(s) }?.stats();
        let c = StatsC {
            curr_items: x.curr_items,
            total_items: x.total_items,
            bytes: x.bytes,
            accounted: x.accounted,
            limit_maxbytes: x.limit_maxbytes,
            evictions: x.evictions,
            expired: x.expired,
            reclaimed: x.reclaimed,
            hash_buckets: x.hash_buckets,
            hash_growing: x.hash_growing,
            hash_bytes: x.hash_bytes,
        };
        // SAFETY: out is NULL (rejected) or writable (caller contract).
        unsafe { out::write(out, c) }
    })
}

/// `kv_store_item_retain` for a view given by `kv_rs_store_get` (call only inside the
/// visit callback): the view's key and value bytes stay valid and unchanged until
/// `kv_rs_store_item_release`, from any thread. NULL on a NULL view.
///
/// # Safety
/// `v` NULL or the view passed to a visit callback of a Rust store, during that call.
#[no_mangle]
pub unsafe extern "C" fn kv_rs_store_item_retain(v: *const ItemViewC) -> *mut KvRsItem {
    boundary::pointer(|| {
        // SAFETY: v is NULL or a live view (caller contract).
        let v = unsafe { opaque::borrow(v) }?;
        let arc = v.item.cast::<Arc<Item>>();
        // SAFETY: a Rust view's item points to the Arc<Item> held by the locked shard
        // for the duration of the visit (view_c).
        let arc = unsafe { opaque::borrow(arc) }?;
        Ok(Arc::into_raw(Arc::clone(arc)).cast_mut().cast::<KvRsItem>())
    })
}

/// Drops a reference taken by `kv_rs_store_item_retain` (NULL is a no-op); the last one
/// gives the item's bytes back to the limit. `s` is unused (kept for kv_store.h's shape):
/// the item may outlive its store.
///
/// # Safety
/// `it` NULL or from `kv_rs_store_item_retain`, released once.
#[no_mangle]
pub unsafe extern "C" fn kv_rs_store_item_release(s: *const KvRsStore, it: *mut KvRsItem) {
    boundary::unit(|| {
        let _ = s;
        // SAFETY: it is NULL or a reference from kv_rs_store_item_retain, given back
        // once (caller contract).
        unsafe { opaque::arc_release(it.cast_const().cast::<Item>()) };
        Ok(())
    })
}

/// `kv_store_reserve`: `*ok` = 1 when the bytes are claimed, 0 when not.
///
/// # Safety
/// `s` live or NULL; `ok` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kv_rs_store_reserve(
    s: *const KvRsStore,
    n: usize,
    now: u32,
    ok: *mut c_int,
) -> c_int {
    boundary::status(|| {
        // SAFETY: s is NULL or live (caller contract).
        let st = unsafe { store(s) }?;
        if ok.is_null() {
            return Err(Error::null("ok"));
        }
        let r = st.reserve(n, now);
        // SAFETY: ok is non-NULL and writable (caller contract).
        unsafe { out::write(ok, c_int::from(r)) }
    })
}

/// `kv_store_unreserve`.
///
/// # Safety
/// `s` live or NULL.
#[no_mangle]
pub unsafe extern "C" fn kv_rs_store_unreserve(s: *const KvRsStore, n: usize) -> c_int {
    boundary::status(|| {
        // SAFETY: s is NULL or live (caller contract).
        unsafe { store(s) }?.unreserve(n);
        Ok(())
    })
}

/// Visits every live item of shard `shard` (0..KV_STORE_SHARDS), LRU head first, with
/// the shard locked (the callback may only call `kv_rs_store_item_retain`); changes
/// nothing. For dumps, digests and a backfill.
///
/// # Safety
/// `s` live or NULL; `fn_` valid for `ctx`.
#[no_mangle]
pub unsafe extern "C" fn kv_rs_store_visit_shard(
    s: *const KvRsStore,
    shard: u32,
    now: u32,
    fn_: VisitFn,
    ctx: *mut c_void,
) -> c_int {
    boundary::status(|| {
        // SAFETY: s is NULL or live (caller contract).
        let st = unsafe { store(s) }?;
        let f = fn_.ok_or_else(|| Error::null("fn"))?;
        if shard as usize >= kv_store::SHARDS {
            return Err(Error::invalid("shard out of range"));
        }
        st.for_each_in_shard(shard as usize, now, |v, live| {
            if live {
                let c = view_c(v);
                // SAFETY: f is valid for ctx (caller contract); c's bytes are held by the
                // locked shard during the call.
                unsafe { f(ctx, &c) };
            }
        });
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use graft_ffi::Status;

    const CFG: StoreConfig = StoreConfig {
        mem_limit: 1 << 20,
        item_size_max: 1 << 20,
        process_started: 1_700_000_000,
        initial_buckets: 0,
    };

    unsafe extern "C" fn keep(ctx: *mut c_void, v: *const ItemViewC) {
        boundary::unit(|| {
            // SAFETY: ctx is the test's `*mut *mut KvRsItem`, v the live view.
            unsafe { *ctx.cast::<*mut KvRsItem>() = kv_rs_store_item_retain(v) };
            Ok(())
        })
    }

    #[test]
    fn exports_check_arguments_and_keep_retained_bytes() {
        let mut s: *mut KvRsStore = core::ptr::null_mut();
        // SAFETY: valid config and out; NULL arguments are what is tested after.
        unsafe {
            assert_eq!(
                kv_rs_store_create(&CFG, 7, &mut s),
                Status::InvalidArgument.as_raw()
            );
            assert_eq!(
                kv_rs_store_create(core::ptr::null(), 0, &mut s),
                Status::NullPointer.as_raw()
            );
            assert_eq!(kv_rs_store_create(&CFG, KV_RS_SIZE_GLIBC, &mut s), 0);
            let mut res = -1;
            let rc = kv_rs_store_store(
                s,
                1,
                b"k".as_ptr().cast(),
                1,
                5,
                0,
                b"val".as_ptr().cast(),
                3,
                0,
                2,
                &mut res,
            );
            assert_eq!((rc, res), (0, 0));
            assert_eq!(
                kv_rs_store_store(
                    s,
                    9,
                    b"k".as_ptr().cast(),
                    1,
                    0,
                    0,
                    core::ptr::null(),
                    0,
                    0,
                    2,
                    &mut res
                ),
                Status::InvalidArgument.as_raw()
            );
            let mut held: *mut KvRsItem = core::ptr::null_mut();
            let mut hit = 0;
            let rc = kv_rs_store_get(
                s,
                b"k".as_ptr().cast(),
                1,
                2,
                0,
                0,
                Some(keep),
                (&mut held as *mut *mut KvRsItem).cast(),
                &mut hit,
            );
            assert_eq!((rc, hit), (0, 1));
            assert!(!held.is_null());
            assert_eq!(
                kv_rs_store_delete(s, b"k".as_ptr().cast(), 1, 2, &mut res),
                0
            );
            assert_eq!(res, 5);
            let mut st = StatsC::default();
            assert_eq!(kv_rs_store_get_stats(s, &mut st), 0);
            assert_eq!((st.curr_items, st.bytes), (0, 0));
            assert!(st.accounted > 0, "the retained item is still counted");
            kv_rs_store_destroy(s);
            // the item outlives its store
            let item = &*held.cast_const().cast::<Item>();
            assert_eq!(item.value(), b"val");
            kv_rs_store_item_release(core::ptr::null(), held);
            assert_eq!(
                kv_rs_store_maintain(core::ptr::null(), 0),
                Status::NullPointer.as_raw()
            );
        }
    }

    #[test]
    fn armed_panic_becomes_a_status() {
        let mut s: *mut KvRsStore = core::ptr::null_mut();
        // SAFETY: valid config, out and store.
        unsafe {
            assert_eq!(kv_rs_store_create(&CFG, KV_RS_SIZE_EXACT, &mut s), 0);
            let mut res = -1;
            graft_ffi::fault::arm_panic();
            let rc = kv_rs_store_delete(s, b"k".as_ptr().cast(), 1, 2, &mut res);
            assert_eq!((rc, res), (Status::Panic.as_raw(), -1));
            assert_eq!(
                kv_rs_store_delete(s, b"k".as_ptr().cast(), 1, 2, &mut res),
                0
            );
            assert_eq!(res, 3);
            kv_rs_store_destroy(s);
        }
    }
}
