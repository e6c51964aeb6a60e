//! kv-store: kvd's storage engine in safe Rust, the twin of `server/kv_store.c` (contract:
//! `server/kv_store.h`). For the same operations with the same clock it gives the same
//! replies, the same CAS uniques, evicts the same items at the same moments, expires the
//! same items lazily and in `maintain`, and reports the same stats, field for field
//! (`tests/parity/parity_kv_store.c` checks it against the C engine).
//!
//! Design (the C's, in safe Rust):
//! - 32 shards picked by the top 5 bits of `kv_hash::hash(key)`, each behind its own
//!   `Mutex`, each with a chained hash table grown incrementally (4 old buckets moved per
//!   lookup, 4096 per `maintain`) and its own LRU list (head = most recent). Chains and
//!   the LRU are index links into a per-shard slab, so no `unsafe` is needed.
//! - Memory is accounted as the C accounts it: an item costs what `malloc_usable_size`
//!   reports for the C's allocation (`sizeof(kv_item)` + key + value + CRLF, see
//!   [`SizeModel`]), counted from the store that claims it until its last reference is
//!   dropped, plus the bytes claimed by [`Store::reserve`]. A store that would pass the
//!   limit evicts from its own shard's LRU tail, then from the other shards starting at a
//!   global cursor (`try_lock`, as the C's `trylock`).
//! - Items are `Arc<Item>`: a reader may keep the key and value bytes ([`ItemRef`]) after
//!   the item was evicted, deleted, replaced or flushed; the bytes stay counted against
//!   the limit until the last `Arc` is dropped ([`Item`]'s `Drop` gives them back).
//!
//! Hot paths take one shard lock and allocate only the item being stored.

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

/// Number of shards (`KV_STORE_SHARDS`).
pub const SHARDS: usize = 32;
const SHARD_SHIFT: u32 = 64 - 5;
const MIGRATE_PER_OP: usize = 4;
const MIGRATE_PER_TICK: usize = 4096;
const SWEEP_MAX: usize = 16384;
/// memcached's item size formula (header, CAS, key NUL, CRLF; +4 with flags): the limit
/// append/prepend check against `item_size_max`.
const ITEM_OVERHEAD: u64 = 59;
/// memcached's ITEM_UPDATE_INTERVAL: an item moves to the LRU head at most this often.
const BUMP_INTERVAL: u32 = 60;
const REALTIME_MAXDELTA: i64 = 60 * 60 * 24 * 30;
/// `sizeof(struct kv_item)` of server/kv_store.c on LP64 (the header the C allocates in
/// front of key, value and CRLF).
pub const C_ITEM_HEADER: usize = 72;
/// Bytes a bucket costs in the `hash_bytes` stat (a pointer in the C).
const BUCKET_BYTES: u64 = 8;
const NIL: u32 = u32::MAX;

/// How an item's accounted size follows from the C's allocation request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeModel {
    /// glibc's `malloc_usable_size` for a heap chunk: the request plus 8 bytes of header
    /// rounded up to 16 (32 at least), minus the header. Exact for glibc below its mmap
    /// threshold (128 KiB by default, dynamic), see docs/SERVER.md.
    Glibc,
    /// The request itself: what `malloc_usable_size` reports under ASan and TSan.
    Exact,
}

impl SizeModel {
    /// The accounted size of an allocation of `request` bytes.
    pub fn usable(self, request: usize) -> usize {
        match self {
            SizeModel::Glibc => {
                let chunk = (request + 8 + 15) & !15;
                chunk.max(32) - 8
            }
            SizeModel::Exact => request,
        }
    }
}

/// The store's configuration (`kv_store_config` plus the size model).
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Bytes of item memory (-m).
    pub mem_limit: usize,
    /// -I: append/prepend results larger than this are NOT_STORED; sizes `reserve`.
    pub item_size_max: u32,
    /// The unix time that relative time 0 stands for.
    pub process_started: i64,
    /// Buckets per shard, a power of two; 0 = 1024.
    pub initial_buckets: u32,
    /// How item sizes are accounted.
    pub size_model: SizeModel,
}

/// Why a configuration was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// `mem_limit` is 0.
    ZeroLimit,
    /// `initial_buckets` is not a power of two.
    Buckets,
}

/// The storage modes of `kv_store_mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Set = 1,
    Add = 2,
    Replace = 3,
    Append = 4,
    Prepend = 5,
    Cas = 6,
}

impl Mode {
    /// The mode of a `kv_store_mode` value.
    pub fn from_raw(raw: i32) -> Option<Mode> {
        Some(match raw {
            1 => Mode::Set,
            2 => Mode::Add,
            3 => Mode::Replace,
            4 => Mode::Append,
            5 => Mode::Prepend,
            6 => Mode::Cas,
            _ => return None,
        })
    }
}

/// The results of `kv_store_result` (same numbering).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Res {
    Stored = 0,
    NotStored = 1,
    Exists = 2,
    NotFound = 3,
    NoMemory = 4,
    Deleted = 5,
    Touched = 6,
    NonNumeric = 7,
    Ok = 8,
}

/// `kv_store_stats`, field for field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
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

/// The memory counted against the limit, shared by the store and its items (an item
/// gives its bytes back when its last reference goes, possibly after the store).
#[derive(Debug, Default)]
struct Acct {
    used: AtomicUsize,
}

/// An item's bytes: key, value, "\r\n". Immutable while shared (incr/decr rewrites a
/// value in place only when the store holds the one reference).
#[derive(Debug)]
pub struct Item {
    buf: Box<[u8]>,
    nkey: u32,
    size: u32,
    acct: Arc<Acct>,
}

impl Item {
    /// The key.
    pub fn key(&self) -> &[u8] {
        &self.buf[..self.nkey as usize]
    }
    /// The value, without the CRLF.
    pub fn value(&self) -> &[u8] {
        &self.buf[self.nkey as usize..self.buf.len() - 2]
    }
    /// The value followed by "\r\n" (what a reply sends).
    pub fn value_crlf(&self) -> &[u8] {
        &self.buf[self.nkey as usize..]
    }
    /// The bytes counted against the limit for this item.
    pub fn size(&self) -> u32 {
        self.size
    }
}

impl Drop for Item {
    fn drop(&mut self) {
        self.acct.used.fetch_sub(self.size as usize, Relaxed);
    }
}

/// A reference to an item's bytes that outlives the lookup (`kv_store_item_retain`):
/// valid and unchanged until dropped, and counted against the limit until then.
pub type ItemRef = Arc<Item>;

/// What a lookup sees of an item, during the visit closure (the shard lock is held).
#[derive(Debug)]
pub struct ItemView<'a> {
    pub flags: u32,
    pub cas: u64,
    item: &'a Arc<Item>,
}

impl<'a> ItemView<'a> {
    /// The key.
    pub fn key(&self) -> &'a [u8] {
        self.item.key()
    }
    /// The value without the CRLF.
    pub fn value(&self) -> &'a [u8] {
        self.item.value()
    }
    /// The item's shared bytes (for the FFI's retain).
    pub fn item(&self) -> &'a Arc<Item> {
        self.item
    }
    /// Keeps the bytes beyond the visit (`kv_store_item_retain`).
    pub fn retain(&self) -> ItemRef {
        Arc::clone(self.item)
    }
}

struct Entry {
    hash: u64,
    cas: u64,
    exptime: u32,
    time: u32,
    atime: u32,
    flags: u32,
    item: Arc<Item>,
    hnext: u32,
    prev: u32,
    next: u32,
}

/// Where a chain head lives: the current table or the one being emptied.
#[derive(Clone, Copy)]
enum Loc {
    New(usize),
    Old(usize),
}

struct Shard {
    slots: Vec<Option<Entry>>,
    free: Vec<u32>,
    tab: Vec<u32>,
    old: Option<Vec<u32>>,
    migrate_pos: usize,
    count: usize,
    bytes: usize,
    head: u32,
    tail: u32,
    sweep_pos: usize,
    evictions: u64,
    expired: u64,
    reclaimed: u64,
    total_items: u64,
}

/// The result of building an item: its bytes, before they are claimed.
struct Pending {
    buf: Box<[u8]>,
    nkey: u32,
    size: usize,
}

/// The storage engine (`kv_store`). Every method may be called from any thread.
pub struct Store {
    shards: Box<[Mutex<Shard>]>,
    limit: usize,
    item_size_max: u32,
    process_started: i64,
    model: SizeModel,
    flush_at: AtomicU32,
    acct: Arc<Acct>,
    next_cas: AtomicU64,
    evict_cursor: AtomicU32,
    reserved: AtomicUsize,
    reserve_max: usize,
}

/// The shared settings and counters a shard operation needs besides its shard.
struct Ctx<'a> {
    store: &'a Store,
    now: u32,
}

impl Shard {
    fn new(buckets: usize) -> Shard {
        Shard {
            slots: Vec::new(),
            free: Vec::new(),
            tab: vec![NIL; buckets],
            old: None,
            migrate_pos: 0,
            count: 0,
            bytes: 0,
            head: NIL,
            tail: NIL,
            sweep_pos: 0,
            evictions: 0,
            expired: 0,
            reclaimed: 0,
            total_items: 0,
        }
    }

    fn tmask(&self) -> usize {
        self.tab.len() - 1
    }

    fn e(&self, i: u32) -> &Entry {
        self.slots[i as usize].as_ref().expect("linked slot")
    }

    fn e_mut(&mut self, i: u32) -> &mut Entry {
        self.slots[i as usize].as_mut().expect("linked slot")
    }

    fn head_at(&mut self, loc: Loc) -> &mut u32 {
        match loc {
            Loc::New(b) => &mut self.tab[b],
            Loc::Old(b) => &mut self.old.as_mut().expect("old table")[b],
        }
    }

    fn bucket(&self, h: u64) -> Loc {
        if let Some(old) = &self.old {
            let oi = h as usize & (old.len() - 1);
            if oi >= self.migrate_pos {
                return Loc::Old(oi);
            }
        }
        Loc::New(h as usize & self.tmask())
    }

    fn migrate(&mut self, mut n: usize) {
        while n > 0 {
            let Some(old) = self.old.as_mut() else {
                return;
            };
            n -= 1;
            let mut i = std::mem::replace(&mut old[self.migrate_pos], NIL);
            let omask = old.len() - 1;
            while i != NIL {
                let next = self.e(i).hnext;
                let b = self.e(i).hash as usize & self.tmask();
                let head = self.tab[b];
                self.e_mut(i).hnext = head;
                self.tab[b] = i;
                i = next;
            }
            self.migrate_pos += 1;
            if self.migrate_pos > omask {
                self.old = None;
                self.migrate_pos = 0;
            }
        }
    }

    fn maybe_grow(&mut self) {
        let n = self.tab.len();
        if self.old.is_some() || self.count <= n + n / 2 {
            return;
        }
        let t = vec![NIL; n * 2];
        self.old = Some(std::mem::replace(&mut self.tab, t));
        self.migrate_pos = 0;
    }

    fn find(&self, h: u64, key: &[u8]) -> Option<u32> {
        let mut i = match self.bucket(h) {
            Loc::New(b) => self.tab[b],
            Loc::Old(b) => self.old.as_ref().expect("old table")[b],
        };
        while i != NIL {
            let e = self.e(i);
            if e.hash == h && e.item.key() == key {
                return Some(i);
            }
            i = e.hnext;
        }
        None
    }

    fn lru_unlink(&mut self, i: u32) {
        let (prev, next) = {
            let e = self.e(i);
            (e.prev, e.next)
        };
        if prev != NIL {
            self.e_mut(prev).next = next;
        } else {
            self.head = next;
        }
        if next != NIL {
            self.e_mut(next).prev = prev;
        } else {
            self.tail = prev;
        }
        let e = self.e_mut(i);
        e.prev = NIL;
        e.next = NIL;
    }

    fn lru_push(&mut self, i: u32) {
        let head = self.head;
        {
            let e = self.e_mut(i);
            e.prev = NIL;
            e.next = head;
        }
        if head != NIL {
            self.e_mut(head).prev = i;
        }
        self.head = i;
        if self.tail == NIL {
            self.tail = i;
        }
    }

    fn lru_bump(&mut self, i: u32, now: u32) {
        if self.head != i && now.wrapping_sub(self.e(i).atime) >= BUMP_INTERVAL {
            self.e_mut(i).atime = now;
            self.lru_unlink(i);
            self.lru_push(i);
        }
    }

    /// Removes entry `i` from its chain, the LRU and the shard's counts; returns it (its
    /// `Arc<Item>` is the link's reference: dropping it is the C's `kv__drop`).
    fn unlink(&mut self, i: u32) -> Entry {
        let h = self.e(i).hash;
        let loc = self.bucket(h);
        let next = self.e(i).hnext;
        let head = *self.head_at(loc);
        if head == i {
            *self.head_at(loc) = next;
        } else {
            let mut p = head;
            while self.e(p).hnext != i {
                p = self.e(p).hnext;
                assert!(p != NIL, "entry in its bucket's chain");
            }
            self.e_mut(p).hnext = next;
        }
        self.lru_unlink(i);
        self.count -= 1;
        let e = self.slots[i as usize].take().expect("linked slot");
        self.bytes -= e.item.size as usize;
        self.free.push(i);
        e
    }

    /// Links an entry whose bytes are already claimed; returns its index.
    fn link(&mut self, mut e: Entry) -> u32 {
        let loc = self.bucket(e.hash);
        e.hnext = *self.head_at(loc);
        let size = e.item.size as usize;
        let i = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = Some(e);
                i
            }
            None => {
                self.slots.push(Some(e));
                u32::try_from(self.slots.len() - 1).expect("fewer than 2^32 items per shard")
            }
        };
        *self.head_at(loc) = i;
        self.lru_push(i);
        self.count += 1;
        self.bytes += size;
        self.total_items += 1;
        self.maybe_grow();
        i
    }

    fn clear(&mut self) {
        self.slots.clear();
        self.free.clear();
        self.tab.fill(NIL);
        self.old = None;
        self.migrate_pos = 0;
        self.head = NIL;
        self.tail = NIL;
        self.bytes = 0;
        self.count = 0;
        self.sweep_pos = 0;
    }
}

impl Ctx<'_> {
    fn live(&self, e: &Entry) -> bool {
        if e.exptime != 0 && e.exptime <= self.now {
            return false;
        }
        let f = self.store.flush_at.load(Relaxed);
        !(f != 0 && f <= self.now && e.time <= f)
    }

    fn evict_tail(&self, sh: &mut Shard) {
        let t = sh.tail;
        if self.live(sh.e(t)) {
            sh.evictions += 1;
        } else {
            sh.reclaimed += 1;
        }
        drop(sh.unlink(t));
    }

    /// `kv__lookup`: migrates a little, finds the key; a dead item is unlinked.
    fn lookup(&self, sh: &mut Shard, h: u64, key: &[u8]) -> Option<u32> {
        sh.migrate(MIGRATE_PER_OP);
        let i = sh.find(h, key)?;
        if !self.live(sh.e(i)) {
            drop(sh.unlink(i));
            sh.reclaimed += 1;
            sh.expired += 1;
            return None;
        }
        Some(i)
    }

    /// `kv__make_room`: claims `need` bytes, evicting from `sh` (index `own`), then from
    /// the other shards that can be locked without waiting.
    fn make_room(&self, sh: &mut Shard, own: usize, need: usize) -> bool {
        let s = self.store;
        if need > s.limit {
            return false;
        }
        loop {
            if s.claim(need) {
                return true;
            }
            if sh.tail == NIL {
                break;
            }
            self.evict_tail(sh);
        }
        let start = s.evict_cursor.fetch_add(1, Relaxed);
        for k in 0..SHARDS as u32 {
            let o = (start.wrapping_add(k) % SHARDS as u32) as usize;
            if o == own {
                continue;
            }
            let mut other = match s.shards[o].try_lock() {
                Ok(g) => g,
                Err(TryLockError::Poisoned(p)) => p.into_inner(),
                Err(TryLockError::WouldBlock) => continue,
            };
            let mut ok;
            loop {
                ok = s.claim(need);
                if ok || other.tail == NIL {
                    break;
                }
                self.evict_tail(&mut other);
            }
            if ok {
                return true;
            }
        }
        false
    }
}

/// memcached's safe_strtoull over a stored value (followed by CRLF in the item): the
/// digits may end at the value's end or at a whitespace byte.
fn value_u64(v: &[u8]) -> Option<u64> {
    let ws = |b: u8| b == b' ' || (b'\t'..=b'\r').contains(&b);
    let n = v.len();
    let mut i = 0;
    while i < n && ws(v[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < n && (v[i] == b'+' || v[i] == b'-') {
        neg = v[i] == b'-';
        i += 1;
    }
    let digits = i;
    let mut x: u64 = 0;
    while i < n && v[i].is_ascii_digit() {
        let d = u64::from(v[i] - b'0');
        if x > (u64::MAX - d) / 10 {
            return None;
        }
        x = x * 10 + d;
        i += 1;
    }
    if i == digits || (i < n && !ws(v[i])) {
        return None;
    }
    if neg {
        x = 0u64.wrapping_sub(x);
    }
    if (x as i64) < 0 && v.contains(&b'-') {
        return None;
    }
    Some(x)
}

/// Writes `v` in decimal into `buf`, returning the digits.
fn decimal(v: u64, buf: &mut [u8; 24]) -> &[u8] {
    let mut n = 0;
    let mut t = v;
    loop {
        buf[23 - n] = b'0' + (t % 10) as u8;
        n += 1;
        t /= 10;
        if t == 0 {
            break;
        }
    }
    &buf[24 - n..]
}

impl Store {
    /// Creates a store (`kv_store_create`).
    pub fn new(cfg: &Config) -> Result<Store, ConfigError> {
        let nb = if cfg.initial_buckets == 0 {
            1024
        } else {
            cfg.initial_buckets
        };
        if !nb.is_power_of_two() {
            return Err(ConfigError::Buckets);
        }
        if cfg.mem_limit == 0 {
            return Err(ConfigError::ZeroLimit);
        }
        let shards = (0..SHARDS)
            .map(|_| Mutex::new(Shard::new(nb as usize)))
            .collect();
        // buffers may take half the limit, but at least one largest request (-I + 64 KiB)
        let reserve_max = (cfg.mem_limit / 2)
            .max(cfg.item_size_max as usize + 65536)
            .min(cfg.mem_limit);
        Ok(Store {
            shards,
            limit: cfg.mem_limit,
            item_size_max: cfg.item_size_max,
            process_started: cfg.process_started,
            model: cfg.size_model,
            flush_at: AtomicU32::new(0),
            acct: Arc::new(Acct::default()),
            next_cas: AtomicU64::new(1),
            evict_cursor: AtomicU32::new(0),
            reserved: AtomicUsize::new(0),
            reserve_max,
        })
    }

    /// Converts a client exptime to relative time, as memcached's realtime().
    pub fn realtime(&self, exptime: i64, now: u32) -> u32 {
        if exptime == 0 {
            return 0;
        }
        let exptime = if exptime < 0 {
            REALTIME_MAXDELTA + 1
        } else {
            exptime
        };
        if exptime > REALTIME_MAXDELTA {
            if exptime <= self.process_started {
                return 1;
            }
            let rel = exptime.wrapping_sub(self.process_started);
            return u32::try_from(rel).unwrap_or(u32::MAX);
        }
        (exptime as u32).wrapping_add(now)
    }

    fn shard_of(&self, key: &[u8]) -> (u64, usize, MutexGuard<'_, Shard>) {
        let h = kv_hash::hash(key);
        let idx = (h >> SHARD_SHIFT) as usize;
        let g = self.shards[idx].lock().unwrap_or_else(|p| p.into_inner());
        (h, idx, g)
    }

    fn lock(&self, idx: usize) -> MutexGuard<'_, Shard> {
        self.shards[idx].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Claims `need` bytes of the limit atomically (`kv__reserve`).
    fn claim(&self, need: usize) -> bool {
        let mut cur = self.acct.used.load(Relaxed);
        while cur + need <= self.limit {
            match self
                .acct
                .used
                .compare_exchange_weak(cur, cur + need, Relaxed, Relaxed)
            {
                Ok(_) => return true,
                Err(c) => cur = c,
            }
        }
        false
    }

    fn next_cas(&self) -> u64 {
        self.next_cas.fetch_add(1, Relaxed)
    }

    /// Builds an item's bytes from `parts` (concatenated into the value).
    fn build(&self, key: &[u8], parts: &[&[u8]]) -> Pending {
        let nbytes: usize = parts.iter().map(|p| p.len()).sum();
        let mut buf = Vec::with_capacity(key.len() + nbytes + 2);
        buf.extend_from_slice(key);
        for p in parts {
            buf.extend_from_slice(p);
        }
        buf.extend_from_slice(b"\r\n");
        Pending {
            buf: buf.into_boxed_slice(),
            nkey: key.len() as u32,
            size: self.model.usable(C_ITEM_HEADER + key.len() + nbytes + 2),
        }
    }

    /// Makes a claimed item of pending bytes (their size is already in `used`).
    fn claimed(&self, p: Pending) -> Arc<Item> {
        Arc::new(Item {
            buf: p.buf,
            nkey: p.nkey,
            size: p.size as u32,
            acct: Arc::clone(&self.acct),
        })
    }

    /// get/gets (`touch` None) and gat/gats (`touch` Some(exptime)): calls `f` on a hit
    /// under the shard lock and returns its result; bumps the item in the LRU.
    pub fn get<R>(
        &self,
        key: &[u8],
        now: u32,
        touch: Option<i64>,
        f: impl FnOnce(&ItemView<'_>) -> R,
    ) -> Option<R> {
        let (h, _, mut sh) = self.shard_of(key);
        let cx = Ctx { store: self, now };
        let i = cx.lookup(&mut sh, h, key)?;
        if let Some(exptime) = touch {
            sh.e_mut(i).exptime = self.realtime(exptime, now);
        }
        sh.lru_bump(i, now);
        let e = sh.e(i);
        let view = ItemView {
            flags: e.flags,
            cas: e.cas,
            item: &e.item,
        };
        Some(f(&view))
    }

    /// set/add/replace/append/prepend/cas with memcached's rules (`kv_store_store`).
    #[allow(clippy::too_many_arguments)]
    pub fn store(
        &self,
        mode: Mode,
        key: &[u8],
        flags: u32,
        exptime: i64,
        data: &[u8],
        cas: u64,
        now: u32,
    ) -> Res {
        let exp = self.realtime(exptime, now);
        let concat = matches!(mode, Mode::Append | Mode::Prepend);
        // built before taking the lock: the copy is the expensive part
        let mut pending = (!concat).then(|| (self.build(key, &[data]), flags, exp));
        let (h, own, mut sh) = self.shard_of(key);
        let cx = Ctx { store: self, now };
        let old = cx.lookup(&mut sh, h, key);
        let mut res = Res::Stored;
        match mode {
            Mode::Add if old.is_some() => res = Res::NotStored,
            Mode::Replace if old.is_none() => res = Res::NotStored,
            Mode::Cas => match old {
                None => res = Res::NotFound,
                Some(i) if sh.e(i).cas != cas => res = Res::Exists,
                Some(_) => {}
            },
            Mode::Append | Mode::Prepend => match old {
                None => res = Res::NotStored,
                Some(i) => {
                    let e = sh.e(i);
                    let total = e.item.value().len() as u64 + data.len() as u64;
                    let fl = if e.flags != 0 { 4 } else { 0 };
                    if ITEM_OVERHEAD + key.len() as u64 + total + fl > u64::from(self.item_size_max)
                    {
                        res = Res::NotStored;
                    } else {
                        let v = e.item.value();
                        let parts: [&[u8]; 2] = if mode == Mode::Append {
                            [v, data]
                        } else {
                            [data, v]
                        };
                        pending = Some((self.build(key, &parts), e.flags, e.exptime));
                    }
                }
            },
            _ => {}
        }
        if res != Res::Stored {
            return res;
        }
        let (p, nflags, nexp) = pending.expect("an item to store");
        let mut old_entry = old.map(|i| sh.unlink(i));
        if !cx.make_room(&mut sh, own, p.size) {
            // a failed set drops the stale value (as memcached does); others keep it
            if mode != Mode::Set {
                if let Some(e) = old_entry.take() {
                    sh.link(e);
                    sh.total_items -= 1;
                }
            }
            res = Res::NoMemory;
        } else {
            let item = self.claimed(p);
            sh.link(Entry {
                hash: h,
                cas: self.next_cas(),
                exptime: nexp,
                time: now,
                atime: now,
                flags: nflags,
                item,
                hnext: NIL,
                prev: NIL,
                next: NIL,
            });
        }
        drop(old_entry);
        res
    }

    /// `kv_store_delete`: Deleted or NotFound.
    pub fn delete(&self, key: &[u8], now: u32) -> Res {
        let (h, _, mut sh) = self.shard_of(key);
        let cx = Ctx { store: self, now };
        match cx.lookup(&mut sh, h, key) {
            Some(i) => {
                drop(sh.unlink(i));
                Res::Deleted
            }
            None => Res::NotFound,
        }
    }

    /// `kv_store_touch`: Touched or NotFound.
    pub fn touch(&self, key: &[u8], exptime: i64, now: u32) -> Res {
        let (h, _, mut sh) = self.shard_of(key);
        let cx = Ctx { store: self, now };
        match cx.lookup(&mut sh, h, key) {
            Some(i) => {
                sh.e_mut(i).exptime = self.realtime(exptime, now);
                sh.lru_bump(i, now);
                Res::Touched
            }
            None => Res::NotFound,
        }
    }

    /// incr/decr (`kv_store_arith`): `Ok(new value)` or `Err(NotFound | NonNumeric |
    /// NoMemory)`.
    pub fn arith(&self, key: &[u8], incr: bool, delta: u64, now: u32) -> Result<u64, Res> {
        let (h, own, mut sh) = self.shard_of(key);
        let cx = Ctx { store: self, now };
        let Some(i) = cx.lookup(&mut sh, h, key) else {
            return Err(Res::NotFound);
        };
        let cur = sh.e(i).item.value();
        let nbytes = cur.len();
        let Some(v) = (if nbytes == 0 { None } else { value_u64(cur) }) else {
            return Err(Res::NonNumeric);
        };
        let v = if incr {
            v.wrapping_add(delta)
        } else {
            v.saturating_sub(delta)
        };
        let mut buf = [0u8; 24];
        let digits = decimal(v, &mut buf);
        let n = digits.len();
        if n <= nbytes {
            let e = sh.e_mut(i);
            // a reply may be sending this item (shared): then, as memcached, replace it
            if let Some(item) = Arc::get_mut(&mut e.item) {
                let nkey = item.nkey as usize;
                let val = &mut item.buf[nkey..nkey + nbytes];
                val[..n].copy_from_slice(digits);
                val[n..].fill(b' ');
                e.cas = self.next_cas();
                sh.lru_bump(i, now);
                return Ok(v);
            }
        }
        let len = n.max(nbytes);
        let mut val = [b' '; 24];
        let (flags, exptime) = {
            let e = sh.e(i);
            (e.flags, e.exptime)
        };
        let p = if len <= 24 {
            val[..n].copy_from_slice(digits);
            self.build(key, &[&val[..len]])
        } else {
            let pad = vec![b' '; len - n];
            self.build(key, &[digits, &pad])
        };
        let old = sh.unlink(i);
        if !cx.make_room(&mut sh, own, p.size) {
            sh.link(old);
            sh.total_items -= 1;
            return Err(Res::NoMemory);
        }
        drop(old);
        let cas = self.next_cas();
        let item = self.claimed(p);
        sh.link(Entry {
            hash: h,
            cas,
            exptime,
            time: now,
            atime: now,
            flags,
            item,
            hnext: NIL,
            prev: NIL,
            next: NIL,
        });
        Ok(v)
    }

    /// flush_all [delay] (`kv_store_flush`).
    pub fn flush(&self, delay: u64, now: u32) {
        // memcached: oldest_live = realtime(delay) - 1; a deadline reached empties now
        let deadline = if delay > 0 {
            self.realtime(delay as i64, now)
        } else {
            now
        };
        let oldest = deadline.saturating_sub(1);
        if oldest > now {
            self.flush_at.store(oldest, Relaxed);
            return;
        }
        self.flush_at.store(0, Relaxed);
        for i in 0..SHARDS {
            let mut sh = self.lock(i);
            sh.clear();
        }
    }

    /// Periodic work (`kv_store_maintain`): advances table migrations and frees a slice
    /// of expired or flushed items in every shard.
    pub fn maintain(&self, now: u32) {
        let cx = Ctx { store: self, now };
        for s in 0..SHARDS {
            let mut sh = self.lock(s);
            sh.migrate(MIGRATE_PER_TICK);
            let nb = sh.tab.len();
            let scan = (nb / 8).clamp(256, SWEEP_MAX).min(nb);
            let mask = sh.tmask();
            for k in 0..scan {
                let b = (sh.sweep_pos + k) & mask;
                let mut i = sh.tab[b];
                while i != NIL {
                    let next = sh.e(i).hnext;
                    if !cx.live(sh.e(i)) {
                        drop(sh.unlink(i));
                        sh.reclaimed += 1;
                        sh.expired += 1;
                    }
                    i = next;
                }
            }
            sh.sweep_pos = (sh.sweep_pos + scan) & mask;
        }
    }

    /// `kv_store_get_stats`.
    pub fn stats(&self) -> Stats {
        let mut out = Stats::default();
        for s in 0..SHARDS {
            let sh = self.lock(s);
            out.curr_items += sh.count as u64;
            out.total_items += sh.total_items;
            out.evictions += sh.evictions;
            out.expired += sh.expired;
            out.reclaimed += sh.reclaimed;
            out.bytes += sh.bytes as u64;
            out.hash_buckets += sh.tab.len() as u64;
            out.hash_bytes += sh.tab.len() as u64 * BUCKET_BYTES;
            if let Some(old) = &sh.old {
                out.hash_growing += 1;
                out.hash_bytes += old.len() as u64 * BUCKET_BYTES;
            }
        }
        out.accounted = self.acct.used.load(Relaxed) as u64;
        out.limit_maxbytes = self.limit as u64;
        out
    }

    /// Claims `n` bytes for memory held outside items (`kv_store_reserve`).
    pub fn reserve(&self, n: usize, now: u32) -> bool {
        let r = self.reserved.fetch_add(n, Relaxed);
        if r + n > self.reserve_max {
            self.reserved.fetch_sub(n, Relaxed);
            return false;
        }
        if self.claim(n) {
            return true;
        }
        let cx = Ctx { store: self, now };
        let start = self.evict_cursor.fetch_add(1, Relaxed);
        for k in 0..SHARDS as u32 {
            let o = (start.wrapping_add(k) % SHARDS as u32) as usize;
            let mut sh = self.lock(o);
            let mut ok;
            loop {
                ok = self.claim(n);
                if ok || sh.tail == NIL {
                    break;
                }
                cx.evict_tail(&mut sh);
            }
            if ok {
                return true;
            }
        }
        self.reserved.fetch_sub(n, Relaxed);
        false
    }

    /// Gives back bytes claimed by [`Store::reserve`].
    pub fn unreserve(&self, n: usize) {
        self.reserved.fetch_sub(n, Relaxed);
        self.acct.used.fetch_sub(n, Relaxed);
    }

    /// Calls `f` on every linked item of shard `shard` (0..SHARDS) from the LRU head
    /// (most recent) to the tail, under the shard's lock, dead items included (`live`
    /// tells): what a dump or a backfill walks. Changes nothing.
    pub fn for_each_in_shard(
        &self,
        shard: usize,
        now: u32,
        mut f: impl FnMut(&ItemView<'_>, bool),
    ) {
        let sh = self.lock(shard);
        let cx = Ctx { store: self, now };
        let mut i = sh.head;
        while i != NIL {
            let e = sh.e(i);
            let view = ItemView {
                flags: e.flags,
                cas: e.cas,
                item: &e.item,
            };
            f(&view, cx.live(e));
            i = e.next;
        }
    }
}

#[cfg(test)]
mod tests;
