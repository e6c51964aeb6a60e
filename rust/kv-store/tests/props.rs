//! Properties of the Rust storage engine: against a plain model of memcached's semantics
//! (a map, no memory pressure), and the accounting invariants under memory pressure with
//! retained items (accounted = linked bytes + retained + reserved, never above the limit).

use std::collections::HashMap;

use kv_store::{Config, Mode, Res, SizeModel, Store, SHARDS};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    Store(u8, u8, Vec<u8>, i64),
    Cas(u8, Vec<u8>, bool),
    Get(u8),
    Delete(u8),
    Arith(u8, bool, u64),
    Touch(u8, i64),
    Advance(u32),
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0u8..12;
    let val = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..40),
        (0u64..100_000).prop_map(|n| n.to_string().into_bytes()),
    ];
    let exp = prop_oneof![Just(0i64), 1i64..100, Just(-1i64)];
    prop_oneof![
        (1u8..6, key.clone(), val.clone(), exp.clone())
            .prop_map(|(m, k, v, e)| Op::Store(m, k, v, e)),
        (key.clone(), val, any::<bool>()).prop_map(|(k, v, ok)| Op::Cas(k, v, ok)),
        key.clone().prop_map(Op::Get),
        key.clone().prop_map(Op::Delete),
        (key.clone(), any::<bool>(), 0u64..1000).prop_map(|(k, i, d)| Op::Arith(k, i, d)),
        (key, exp).prop_map(|(k, e)| Op::Touch(k, e)),
        (0u32..80).prop_map(Op::Advance),
    ]
}

#[derive(Clone)]
struct MItem {
    value: Vec<u8>,
    exptime: u32,
    cas: u64,
}

struct Model {
    items: HashMap<u8, MItem>,
    next_cas: u64,
}

impl Model {
    fn live(&mut self, k: u8, now: u32) -> Option<&mut MItem> {
        if let Some(it) = self.items.get(&k) {
            if it.exptime != 0 && it.exptime <= now {
                self.items.remove(&k);
            }
        }
        self.items.get_mut(&k)
    }
}

fn rel(exptime: i64, now: u32) -> u32 {
    match exptime {
        0 => 0,
        e if e < 0 => 1,
        e => e as u32 + now,
    }
}

fn parse_u64(v: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(v).ok()?.trim_end_matches(' ');
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn key(k: u8) -> Vec<u8> {
    format!("key{k}").into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn matches_a_plain_model(ops in proptest::collection::vec(op(), 1..200)) {
        let s = Store::new(&Config {
            mem_limit: 64 << 20,
            item_size_max: 1 << 20,
            process_started: 1_700_000_000,
            initial_buckets: 2,
            size_model: SizeModel::Glibc,
        }).unwrap();
        let mut m = Model { items: HashMap::new(), next_cas: 1 };
        let mut now = 5u32;
        for op in ops {
            match op {
                Op::Store(mode, k, v, e) => {
                    let mode = Mode::from_raw(i32::from(mode)).unwrap();
                    let got = s.store(mode, &key(k), 0, e, &v, 0, now);
                    let old = m.live(k, now).cloned();
                    let new = match (mode, old) {
                        (Mode::Add, Some(_)) | (Mode::Replace, None)
                        | (Mode::Append, None) | (Mode::Prepend, None) => None,
                        (Mode::Append, Some(o)) => Some(MItem { value: [o.value, v].concat(), exptime: o.exptime, cas: 0 }),
                        (Mode::Prepend, Some(o)) => Some(MItem { value: [v, o.value].concat(), exptime: o.exptime, cas: 0 }),
                        _ => Some(MItem { value: v, exptime: rel(e, now), cas: 0 }),
                    };
                    let want = match new {
                        None => Res::NotStored,
                        Some(mut it) => {
                            it.cas = m.next_cas;
                            m.next_cas += 1;
                            m.items.insert(k, it);
                            Res::Stored
                        }
                    };
                    prop_assert_eq!(got, want);
                }
                Op::Cas(k, v, ok) => {
                    let cur = m.live(k, now).map(|it| it.cas);
                    let cas = cur.map_or(7, |c| if ok { c } else { c + 1000 });
                    let got = s.store(Mode::Cas, &key(k), 0, 0, &v, cas, now);
                    let want = match cur {
                        None => Res::NotFound,
                        Some(c) if c != cas => Res::Exists,
                        Some(_) => {
                            m.items.insert(k, MItem { value: v, exptime: 0, cas: m.next_cas });
                            m.next_cas += 1;
                            Res::Stored
                        }
                    };
                    prop_assert_eq!(got, want);
                }
                Op::Get(k) => {
                    let got = s.get(&key(k), now, None, |v| (v.value().to_vec(), v.cas));
                    let want = m.live(k, now).map(|it| (it.value.clone(), it.cas));
                    prop_assert_eq!(got, want);
                }
                Op::Delete(k) => {
                    let want = if m.live(k, now).is_some() { Res::Deleted } else { Res::NotFound };
                    m.items.remove(&k);
                    prop_assert_eq!(s.delete(&key(k), now), want);
                }
                Op::Arith(k, incr, d) => {
                    let got = s.arith(&key(k), incr, d, now);
                    let next = m.next_cas;
                    let want = match m.live(k, now) {
                        None => Err(Res::NotFound),
                        Some(it) => match parse_u64(&it.value) {
                            None => Err(Res::NonNumeric),
                            Some(x) => {
                                let y = if incr { x.wrapping_add(d) } else { x.saturating_sub(d) };
                                let mut v = y.to_string().into_bytes();
                                if v.len() < it.value.len() {
                                    v.resize(it.value.len(), b' ');
                                }
                                it.value = v;
                                it.cas = next;
                                Ok(y)
                            }
                        },
                    };
                    if want.is_ok() {
                        m.next_cas += 1;
                    }
                    prop_assert_eq!(got, want);
                }
                Op::Touch(k, e) => {
                    let want = match m.live(k, now) {
                        Some(it) => { it.exptime = rel(e, now); Res::Touched }
                        None => Res::NotFound,
                    };
                    prop_assert_eq!(s.touch(&key(k), e, now), want);
                }
                Op::Advance(by) => now += by,
            }
        }
        let live = (0..12).filter(|&k| m.live(k, now).is_some()).count();
        let mut visited = 0;
        for sh in 0..SHARDS {
            s.for_each_in_shard(sh, now, |_, l| visited += usize::from(l));
        }
        prop_assert_eq!(visited, live);
    }

    #[test]
    fn accounting_holds_under_pressure(
        ops in proptest::collection::vec((0u16..300, 0usize..3000, 0u8..10), 1..400),
        limit in 2_000usize..40_000,
    ) {
        let s = Store::new(&Config {
            mem_limit: limit,
            item_size_max: 4096,
            process_started: 1_700_000_000,
            initial_buckets: 1,
            size_model: SizeModel::Glibc,
        }).unwrap();
        let mut held = Vec::new();
        let mut reserved = Vec::new();
        for (i, (k, len, what)) in ops.into_iter().enumerate() {
            let now = i as u32 / 8;
            let key = format!("k{k}");
            match what {
                0..=4 => {
                    let _ = s.store(Mode::Set, key.as_bytes(), 0, i64::from(what), &vec![b'x'; len], 0, now);
                }
                5 => {
                    if let Some(r) = s.get(key.as_bytes(), now, None, |v| v.retain()) {
                        held.push(r);
                    }
                }
                6 => drop(held.pop()),
                7 => {
                    if s.reserve(len, now) {
                        reserved.push(len);
                    }
                }
                8 => {
                    if let Some(n) = reserved.pop() {
                        s.unreserve(n);
                    }
                }
                _ => s.maintain(now),
            }
            // what is counted: linked items, plus retained ones no longer linked, plus reserves
            // (the lookups below may expire items: the stats are read after them)
            let mut unlinked_held = 0u64;
            let mut seen = std::collections::HashSet::new();
            for h in &held {
                let p = std::sync::Arc::as_ptr(h) as usize;
                if !seen.insert(p) {
                    continue;
                }
                let linked_now = s
                    .get(h.key(), now, None, |v| std::sync::Arc::ptr_eq(v.item(), h))
                    .unwrap_or(false);
                if !linked_now {
                    unlinked_held += u64::from(h.size());
                }
            }
            let st = s.stats();
            prop_assert!(st.accounted <= limit as u64, "{:?}", st);
            let mut linked = 0u64;
            let mut count = 0u64;
            for sh in 0..SHARDS {
                s.for_each_in_shard(sh, now, |v, _| {
                    linked += u64::from(v.item().size());
                    count += 1;
                });
            }
            prop_assert_eq!((linked, count), (st.bytes, st.curr_items));
            let res: usize = reserved.iter().sum();
            prop_assert_eq!(st.accounted, st.bytes + unlinked_held + res as u64);
        }
        drop(held);
        let res: usize = reserved.iter().sum();
        let st = s.stats();
        prop_assert_eq!(st.accounted, st.bytes + res as u64);
    }
}
