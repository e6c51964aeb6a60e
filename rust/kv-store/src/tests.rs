use super::*;

const START: i64 = 1_700_000_000;

fn cfg(limit: usize) -> Config {
    Config {
        mem_limit: limit,
        item_size_max: 1024 * 1024,
        process_started: START,
        initial_buckets: 0,
        size_model: SizeModel::Glibc,
    }
}

fn store(limit: usize) -> Store {
    Store::new(&cfg(limit)).expect("valid config")
}

fn get(s: &Store, key: &str, now: u32) -> Option<(Vec<u8>, u32, u64)> {
    s.get(key.as_bytes(), now, None, |v| {
        (v.value().to_vec(), v.flags, v.cas)
    })
}

fn set(s: &Store, key: &str, val: &str, now: u32) -> Res {
    s.store(Mode::Set, key.as_bytes(), 0, 0, val.as_bytes(), 0, now)
}

#[test]
fn config_is_checked() {
    let mut c = cfg(0);
    assert_eq!(Store::new(&c).err(), Some(ConfigError::ZeroLimit));
    c.mem_limit = 1 << 20;
    c.initial_buckets = 48;
    assert_eq!(Store::new(&c).err(), Some(ConfigError::Buckets));
    c.initial_buckets = 64;
    let s = Store::new(&c).expect("valid");
    assert_eq!(s.stats().hash_buckets, 64 * SHARDS as u64);
    assert_eq!(s.stats().hash_bytes, 64 * 8 * SHARDS as u64);
}

#[test]
fn glibc_size_model() {
    assert_eq!(SizeModel::Glibc.usable(1), 24);
    assert_eq!(SizeModel::Glibc.usable(24), 24);
    assert_eq!(SizeModel::Glibc.usable(25), 40);
    assert_eq!(SizeModel::Glibc.usable(75), 88);
    assert_eq!(SizeModel::Exact.usable(75), 75);
}

#[test]
fn realtime_relative_absolute_negative() {
    let s = store(1 << 20);
    assert_eq!(s.realtime(0, 100), 0);
    assert_eq!(s.realtime(10, 100), 110);
    assert_eq!(
        s.realtime(REALTIME_MAXDELTA, 100),
        REALTIME_MAXDELTA as u32 + 100
    );
    assert_eq!(s.realtime(START + 500, 100), 500);
    assert_eq!(s.realtime(START - 5, 100), 1);
    assert_eq!(s.realtime(REALTIME_MAXDELTA + 1, 100), 1);
    assert_eq!(s.realtime(-1, 100), 1);
    assert_eq!(s.realtime(i64::MAX, 100), u32::MAX);
}

#[test]
fn modes_follow_memcached() {
    let s = store(1 << 20);
    assert_eq!(s.store(Mode::Add, b"k", 3, 0, b"a", 0, 1), Res::Stored);
    assert_eq!(s.store(Mode::Add, b"k", 3, 0, b"b", 0, 1), Res::NotStored);
    assert_eq!(
        s.store(Mode::Replace, b"x", 0, 0, b"b", 0, 1),
        Res::NotStored
    );
    assert_eq!(s.store(Mode::Replace, b"k", 4, 0, b"b", 0, 1), Res::Stored);
    let (v, fl, cas) = get(&s, "k", 1).expect("hit");
    assert_eq!((v.as_slice(), fl), (&b"b"[..], 4));
    assert_eq!(
        s.store(Mode::Cas, b"k", 0, 0, b"c", cas + 1, 1),
        Res::Exists
    );
    assert_eq!(
        s.store(Mode::Cas, b"nope", 0, 0, b"c", cas, 1),
        Res::NotFound
    );
    assert_eq!(s.store(Mode::Cas, b"k", 0, 0, b"c", cas, 1), Res::Stored);
    let (_, _, cas2) = get(&s, "k", 1).expect("hit");
    assert_eq!(cas2, cas + 1, "one CAS unique per store");
    assert_eq!(s.store(Mode::Append, b"k", 9, 0, b"de", 0, 1), Res::Stored);
    assert_eq!(s.store(Mode::Prepend, b"k", 9, 0, b"ab", 0, 1), Res::Stored);
    assert_eq!(
        s.store(Mode::Append, b"zz", 0, 0, b"de", 0, 1),
        Res::NotStored
    );
    let (v, fl, _) = get(&s, "k", 1).expect("hit");
    assert_eq!((v.as_slice(), fl), (&b"abcde"[..], 0), "concat keeps flags");
    assert_eq!(s.delete(b"k", 1), Res::Deleted);
    assert_eq!(s.delete(b"k", 1), Res::NotFound);
}

#[test]
fn append_past_item_size_max_is_not_stored() {
    let mut c = cfg(1 << 20);
    c.item_size_max = 100;
    let s = Store::new(&c).expect("valid");
    assert_eq!(
        s.store(Mode::Set, b"k", 0, 0, &[b'a'; 30], 0, 1),
        Res::Stored
    );
    // 59 + 1 + 30 + 10 = 100: fits; one more byte does not
    assert_eq!(
        s.store(Mode::Append, b"k", 0, 0, &[b'b'; 10], 0, 1),
        Res::Stored
    );
    assert_eq!(
        s.store(Mode::Append, b"k", 0, 0, b"c", 0, 1),
        Res::NotStored
    );
    assert_eq!(
        s.store(Mode::Set, b"f", 1, 0, &[b'a'; 36], 0, 1),
        Res::Stored
    );
    // with flags, 4 more bytes count
    assert_eq!(
        s.store(Mode::Append, b"f", 0, 0, b"c", 0, 1),
        Res::NotStored
    );
}

#[test]
fn arith_overflow_nonnumeric_and_length() {
    let s = store(1 << 20);
    assert_eq!(s.arith(b"n", true, 1, 1), Err(Res::NotFound));
    set(&s, "n", "abc", 1);
    assert_eq!(s.arith(b"n", true, 1, 1), Err(Res::NonNumeric));
    set(&s, "n", "", 1);
    assert_eq!(s.arith(b"n", true, 1, 1), Err(Res::NonNumeric));
    set(&s, "n", "-5", 1);
    assert_eq!(s.arith(b"n", true, 1, 1), Err(Res::NonNumeric));
    set(&s, "n", "18446744073709551615", 1);
    assert_eq!(s.arith(b"n", true, 2, 1), Ok(1), "incr wraps at 2^64");
    assert_eq!(get(&s, "n", 1).expect("hit").0, b"1                   ");
    set(&s, "n", "10", 1);
    assert_eq!(s.arith(b"n", false, 3, 1), Ok(7));
    assert_eq!(
        get(&s, "n", 1).expect("hit").0,
        b"7 ",
        "shorter: padded in place"
    );
    assert_eq!(s.arith(b"n", false, 30, 1), Ok(0), "decr stops at 0");
    set(&s, "n", "99", 1);
    assert_eq!(s.arith(b"n", true, 1, 1), Ok(100));
    assert_eq!(
        get(&s, "n", 1).expect("hit").0,
        b"100",
        "longer: a new item"
    );
    set(&s, "n", " 12 ", 1);
    assert_eq!(s.arith(b"n", true, 1, 1), Ok(13));
    set(&s, "n", "12x", 1);
    assert_eq!(s.arith(b"n", true, 1, 1), Err(Res::NonNumeric));
    set(&s, "n", "99999999999999999999", 1);
    assert_eq!(
        s.arith(b"n", true, 1, 1),
        Err(Res::NonNumeric),
        "overflowing value"
    );
}

#[test]
fn arith_on_a_retained_item_replaces_it() {
    let s = store(1 << 20);
    set(&s, "n", "10", 1);
    let held = s.get(b"n", 1, None, |v| v.retain()).expect("hit");
    assert_eq!(s.arith(b"n", true, 5, 1), Ok(15));
    assert_eq!(held.value(), b"10", "the reader's bytes did not change");
    assert_eq!(get(&s, "n", 1).expect("hit").0, b"15");
}

#[test]
fn retained_items_stay_counted_until_dropped() {
    let s = store(1 << 20);
    set(&s, "k", "value", 1);
    let one = s.stats().accounted;
    assert_eq!(
        one,
        SizeModel::Glibc.usable(C_ITEM_HEADER + 1 + 5 + 2) as u64
    );
    let held = s.get(b"k", 1, None, |v| v.retain()).expect("hit");
    assert_eq!(s.delete(b"k", 1), Res::Deleted);
    let st = s.stats();
    assert_eq!((st.bytes, st.accounted, st.curr_items), (0, one, 0));
    assert_eq!(held.value_crlf(), b"value\r\n");
    assert_eq!(held.key(), b"k");
    drop(held);
    assert_eq!(s.stats().accounted, 0);
    // an item may outlive its store
    set(&s, "k", "value", 1);
    let held = s.get(b"k", 1, None, |v| v.retain()).expect("hit");
    drop(s);
    assert_eq!(held.value(), b"value");
}

#[test]
fn lazy_expiry_and_touch() {
    let s = store(1 << 20);
    assert_eq!(s.store(Mode::Set, b"k", 0, 10, b"v", 0, 100), Res::Stored);
    assert!(get(&s, "k", 109).is_some());
    assert!(get(&s, "k", 110).is_none());
    let st = s.stats();
    assert_eq!((st.expired, st.reclaimed, st.curr_items), (1, 1, 0));
    assert_eq!(s.store(Mode::Set, b"k", 0, 10, b"v", 0, 100), Res::Stored);
    assert_eq!(s.touch(b"k", 100, 105), Res::Touched);
    assert!(get(&s, "k", 204).is_some());
    // gat sets the exptime before reading
    assert!(s.get(b"k", 204, Some(-1), |_| ()).is_some());
    assert!(get(&s, "k", 204).is_none());
    assert_eq!(s.touch(b"k", 0, 204), Res::NotFound);
}

#[test]
fn maintain_sweeps_expired_items() {
    let s = store(1 << 20);
    for i in 0..200 {
        s.store(Mode::Set, format!("k{i}").as_bytes(), 0, 5, b"v", 0, 1);
    }
    s.store(Mode::Set, b"forever", 0, 0, b"v", 0, 1);
    // a tick sweeps 256 of each shard's 1024 buckets: four ticks cover every bucket
    s.maintain(10);
    let first = s.stats();
    assert!(first.expired > 0 && first.expired < 200, "{first:?}");
    for _ in 0..3 {
        s.maintain(10);
    }
    let st = s.stats();
    assert_eq!((st.curr_items, st.expired, st.reclaimed), (1, 200, 200));
}

#[test]
fn flush_now_and_with_delay() {
    let s = store(1 << 20);
    set(&s, "a", "1", 10);
    s.flush(0, 10);
    assert!(get(&s, "a", 10).is_none());
    assert_eq!(s.stats().curr_items, 0);
    assert_eq!(s.stats().accounted, 0);
    set(&s, "a", "1", 10);
    s.flush(5, 10); // items stored up to 14 die at 14
    set(&s, "b", "1", 12);
    assert!(get(&s, "a", 13).is_some());
    assert!(get(&s, "a", 14).is_none());
    assert!(get(&s, "b", 14).is_none());
    set(&s, "c", "1", 15);
    assert!(get(&s, "c", 16).is_some(), "stored after the deadline");
}

/// `n` keys that all fall in one shard.
fn same_shard_keys(n: usize) -> Vec<String> {
    let shard = |k: &str| kv_hash::hash(k.as_bytes()) >> SHARD_SHIFT;
    let want = shard("k0");
    (0..)
        .map(|i| format!("k{i}"))
        .filter(|k| shard(k) == want)
        .take(n)
        .collect()
}

#[test]
fn eviction_takes_the_shard_lru_tail() {
    let one = SizeModel::Glibc.usable(C_ITEM_HEADER + 2 + 10 + 2);
    let keys = same_shard_keys(4);
    let size = |k: &str| SizeModel::Glibc.usable(C_ITEM_HEADER + k.len() + 10 + 2);
    let limit: usize = keys[..3].iter().map(|k| size(k)).sum();
    let s = store(limit.max(one));
    for k in &keys[..3] {
        assert_eq!(
            s.store(Mode::Set, k.as_bytes(), 0, 0, &[b'x'; 10], 0, 0),
            Res::Stored
        );
    }
    // a read within the bump interval does not move an item; after it, it does
    assert!(get(&s, &keys[0], 30).is_some());
    assert!(get(&s, &keys[1], 70).is_some());
    assert_eq!(
        s.store(Mode::Set, keys[3].as_bytes(), 0, 0, &[b'x'; 10], 0, 70),
        Res::Stored
    );
    let st = s.stats();
    assert_eq!(st.evictions, 1);
    assert!(
        get(&s, &keys[0], 70).is_none(),
        "the tail (bumped too early) went"
    );
    assert!(get(&s, &keys[1], 70).is_some());
    // an item larger than the limit is never stored
    assert_eq!(
        s.store(Mode::Set, b"big", 0, 0, &vec![0; limit], 0, 70),
        Res::NoMemory
    );
}

#[test]
fn eviction_crosses_shards_when_its_own_is_empty() {
    let s = store(SizeModel::Glibc.usable(C_ITEM_HEADER + 2 + 100 + 2) + 10);
    let keys = same_shard_keys(1);
    assert_eq!(
        s.store(Mode::Set, keys[0].as_bytes(), 0, 0, &[b'x'; 100], 0, 0),
        Res::Stored
    );
    let other = (0..)
        .map(|i| format!("o{i}"))
        .find(|k| kv_hash::hash(k.as_bytes()) >> SHARD_SHIFT != kv_hash::hash(b"k0") >> SHARD_SHIFT)
        .expect("a key of another shard");
    assert_eq!(
        s.store(Mode::Set, other.as_bytes(), 0, 0, &[b'x'; 100], 0, 0),
        Res::Stored
    );
    assert_eq!(s.stats().evictions, 1);
    assert!(get(&s, &keys[0], 0).is_none());
}

#[test]
fn failed_set_drops_the_old_value_others_keep_it() {
    let one = SizeModel::Glibc.usable(C_ITEM_HEADER + 1 + 10 + 2);
    let s = store(one);
    assert_eq!(
        s.store(Mode::Set, b"k", 0, 0, &[b'x'; 10], 0, 0),
        Res::Stored
    );
    assert_eq!(
        s.store(Mode::Replace, b"k", 0, 0, &[b'x'; 100], 0, 0),
        Res::NoMemory
    );
    assert!(get(&s, "k", 0).is_some());
    assert_eq!(
        s.store(Mode::Set, b"k", 0, 0, &[b'x'; 100], 0, 0),
        Res::NoMemory
    );
    assert!(get(&s, "k", 0).is_none());
}

#[test]
fn reserve_is_bounded_and_evicts() {
    let mut c = cfg(100_000);
    c.item_size_max = 1000;
    let s = Store::new(&c).expect("valid");
    for i in 0..60 {
        s.store(
            Mode::Set,
            format!("k{i}").as_bytes(),
            0,
            0,
            &[b'v'; 900],
            0,
            0,
        );
    }
    let before = s.stats();
    assert!(before.accounted > 50_000);
    assert!(
        !s.reserve(66_537, 0),
        "more than half the limit and -I + 64 KiB"
    );
    assert!(s.reserve(50_000, 0));
    let after = s.stats();
    assert!(after.evictions > 0);
    assert!(after.accounted <= 100_000);
    s.unreserve(50_000);
    assert_eq!(s.stats().accounted + 50_000, after.accounted);
}

#[test]
fn tables_grow_incrementally() {
    let mut c = cfg(64 << 20);
    c.initial_buckets = 2;
    let s = Store::new(&c).expect("valid");
    let mut growing_seen = false;
    for i in 0..5000 {
        set(&s, &format!("key:{i}"), "v", 0);
        growing_seen |= s.stats().hash_growing > 0;
    }
    assert!(growing_seen);
    s.maintain(0);
    let st = s.stats();
    assert_eq!(st.hash_growing, 0);
    assert!(st.hash_buckets > 2 * SHARDS as u64);
    for i in 0..5000 {
        assert!(get(&s, &format!("key:{i}"), 0).is_some(), "key:{i}");
    }
}

#[test]
fn concurrent_use_keeps_the_accounting() {
    let s = Arc::new(store(200_000));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let s = Arc::clone(&s);
            std::thread::spawn(move || {
                for i in 0..5000u32 {
                    let k = format!("t{t}:{}", i % 300);
                    s.store(Mode::Set, k.as_bytes(), 0, 0, &[b'v'; 200], 0, i / 100);
                    let _ = s.get(k.as_bytes(), i / 100, None, |v| v.retain());
                    let _ = s.arith(k.as_bytes(), true, 1, i / 100);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("no panic");
    }
    let st = s.stats();
    assert_eq!(
        st.accounted, st.bytes,
        "nothing retained: accounted is linked bytes"
    );
    assert!(st.accounted <= 200_000);
}
