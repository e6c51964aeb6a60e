//! A handle map: objects owned by Rust, named in C by a 64-bit handle that carries an
//! index and a generation, so that a stale, double-freed, forged or foreign handle is
//! reported as `GRAFT_EHANDLE` instead of being undefined behaviour.
//!
//! Handle layout (opaque to C, documented for debugging): bits 63..48 the map's tag
//! (distinct among the maps alive at once, never 0: at most 65,535 maps can be alive, and
//! a dropped map's tag is reused only once every other tag has been issued), bits 47..24 the slot's generation (1..2^24-1), bits
//! 23..0 the slot index. 0 is never a valid handle. A slot whose generation would wrap
//! is retired, so a handle is never reissued.
//!
//! Lookups take a read lock (concurrent lookups do not block each other); insert and
//! remove take the write lock. The closure given to [`HandleMap::get`] runs under the
//! read lock: keep it short, or store `Arc<T>` and clone it out.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError, RwLock};

use crate::error::Error;
use crate::status::Status;

/// A handle as C sees it (`graft_ffi_handle`, a `uint64_t`); 0 is never valid.
pub type Handle = u64;

const INDEX_BITS: u32 = 24;
const GEN_BITS: u32 = 24;
const INDEX_MASK: u64 = (1 << INDEX_BITS) - 1;
const GEN_MASK: u64 = (1 << GEN_BITS) - 1;
/// Most slots a map can have.
pub const MAX_SLOTS: usize = 1 << INDEX_BITS;

/// Most maps alive at once (tags are 16 bits, 0 is never used).
pub const MAX_MAPS: usize = u16::MAX as usize;

/// Tags never issued are handed out first; then tags of dropped maps, oldest first, so
/// a handle of a dropped map meets its tag again as late as possible.
struct Tags {
    next: u32,
    free: VecDeque<u16>,
}

static TAGS: Mutex<Tags> = Mutex::new(Tags {
    next: 1,
    free: VecDeque::new(),
});

fn take_tag() -> Option<u16> {
    let mut t = TAGS.lock().unwrap_or_else(PoisonError::into_inner);
    if t.next <= u32::from(u16::MAX) {
        let tag = t.next as u16;
        t.next += 1;
        return Some(tag);
    }
    t.free.pop_front()
}

struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

struct Slots<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    live: usize,
}

/// Objects of type `T` addressed by [`Handle`]s. `Sync` when `T: Send + Sync`.
pub struct HandleMap<T> {
    tag: u16,
    inner: RwLock<Slots<T>>,
}

impl<T> Default for HandleMap<T> {
    fn default() -> Self {
        HandleMap::new()
    }
}

impl<T> Drop for HandleMap<T> {
    fn drop(&mut self) {
        let mut t = TAGS.lock().unwrap_or_else(PoisonError::into_inner);
        t.free.push_back(self.tag);
    }
}

impl<T> HandleMap<T> {
    /// An empty map with a tag no other live map has.
    ///
    /// # Panics
    /// When [`MAX_MAPS`] maps are alive (use [`HandleMap::try_new`] to get an error).
    pub fn new() -> HandleMap<T> {
        match HandleMap::try_new() {
            Ok(m) => m,
            Err(e) => panic!("{e}"),
        }
    }

    /// An empty map with a tag no other live map has; `GRAFT_ENOMEM` when [`MAX_MAPS`]
    /// maps are alive.
    pub fn try_new() -> Result<HandleMap<T>, Error> {
        let tag = take_tag().ok_or_else(|| {
            Error::new(
                Status::NoMemory,
                format!("{MAX_MAPS} handle maps are alive: no tag left for another"),
            )
        })?;
        Ok(HandleMap {
            tag,
            inner: RwLock::new(Slots {
                slots: Vec::new(),
                free: Vec::new(),
                live: 0,
            }),
        })
    }

    fn encode(&self, index: u32, generation: u32) -> Handle {
        (u64::from(self.tag) << (INDEX_BITS + GEN_BITS))
            | (u64::from(generation) << INDEX_BITS)
            | u64::from(index)
    }

    /// Splits a handle into (index, generation) after checking the tag.
    fn decode(&self, handle: Handle) -> Result<(usize, u32), Error> {
        let tag = (handle >> (INDEX_BITS + GEN_BITS)) as u16;
        let generation = ((handle >> INDEX_BITS) & GEN_MASK) as u32;
        if handle == 0 || tag != self.tag || generation == 0 {
            return Err(Error::new(
                Status::InvalidHandle,
                format!("handle {handle:#x} was never issued by this map"),
            ));
        }
        Ok(((handle & INDEX_MASK) as usize, generation))
    }

    /// Stores `value`; returns its handle. `GRAFT_ENOMEM` when all slots are used.
    pub fn insert(&self, value: T) -> Result<Handle, Error> {
        let mut s = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let index = match s.free.pop() {
            Some(i) => i as usize,
            None => {
                if s.slots.len() >= MAX_SLOTS {
                    return Err(Error::new(
                        Status::NoMemory,
                        format!("handle map is full ({MAX_SLOTS} slots)"),
                    ));
                }
                s.slots.push(Slot {
                    generation: 1,
                    value: None,
                });
                s.slots.len() - 1
            }
        };
        let slot = &mut s.slots[index];
        slot.value = Some(value);
        let generation = slot.generation;
        s.live += 1;
        Ok(self.encode(index as u32, generation))
    }

    fn check(&self, s: &Slots<T>, handle: Handle) -> Result<usize, Error> {
        let checked = self.check_generation(s, handle);
        // Validation build (docs/FFI.md): a stale, foreign or forged handle is a bug of
        // its holder. The status stays GRAFT_EHANDLE (callers may rely on it), and the
        // use is reported where it is made: an error line and a count.
        #[cfg(feature = "validate")]
        if let Err(e) = &checked {
            validate::violation(handle, e.message());
        }
        checked
    }

    fn check_generation(&self, s: &Slots<T>, handle: Handle) -> Result<usize, Error> {
        let (index, generation) = self.decode(handle)?;
        match s.slots.get(index) {
            None => Err(Error::new(
                Status::InvalidHandle,
                format!("handle {handle:#x} was never issued by this map"),
            )),
            Some(slot) if slot.generation != generation || slot.value.is_none() => Err(Error::new(
                Status::InvalidHandle,
                format!("handle {handle:#x} is stale: its object was freed"),
            )),
            Some(_) => Ok(index),
        }
    }

    /// Runs `f` on the object of `handle` (under the read lock).
    pub fn get<R>(&self, handle: Handle, f: impl FnOnce(&T) -> R) -> Result<R, Error> {
        let s = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        let index = self.check(&s, handle)?;
        let value = s.slots[index]
            .value
            .as_ref()
            .ok_or_else(|| Error::internal("checked slot is empty"))?;
        Ok(f(value))
    }

    /// Runs `f` on the object of `handle` mutably (under the write lock).
    pub fn get_mut<R>(&self, handle: Handle, f: impl FnOnce(&mut T) -> R) -> Result<R, Error> {
        let mut s = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let index = self.check(&s, handle)?;
        let value = s.slots[index]
            .value
            .as_mut()
            .ok_or_else(|| Error::internal("checked slot is empty"))?;
        Ok(f(value))
    }

    /// Removes and returns the object; the handle (and every copy of it) becomes stale.
    pub fn remove(&self, handle: Handle) -> Result<T, Error> {
        let mut s = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let index = self.check(&s, handle)?;
        let slot = &mut s.slots[index];
        let value = slot
            .value
            .take()
            .ok_or_else(|| Error::internal("checked slot is empty"))?;
        slot.generation += 1;
        let reusable = u64::from(slot.generation) <= GEN_MASK;
        s.live -= 1;
        if reusable {
            s.free.push(index as u32);
        }
        Ok(value)
    }

    /// Number of live objects.
    pub fn len(&self) -> usize {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .live
    }

    /// True when no object is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tag space is process-wide: the test that exhausts it must not run beside the
    /// others.
    static SERIAL: Mutex<()> = Mutex::new(());

    fn serial() -> std::sync::MutexGuard<'static, ()> {
        SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[test]
    fn stale_double_free_and_foreign_handles() {
        let _serial = serial();
        let m = HandleMap::new();
        let other = HandleMap::<i32>::new();
        let a = m.insert(10).unwrap();
        assert_eq!(m.get(a, |v| *v).unwrap(), 10);
        assert_eq!(m.remove(a).unwrap(), 10);
        assert_eq!(m.remove(a).unwrap_err().status(), Status::InvalidHandle);
        assert_eq!(
            m.get(a, |v| *v).unwrap_err().status(),
            Status::InvalidHandle
        );
        let b = m.insert(20).unwrap();
        assert_ne!(a, b, "a reused slot gets a new generation");
        assert_eq!(
            m.get(a, |v| *v).unwrap_err().status(),
            Status::InvalidHandle
        );
        assert_eq!(
            other.get(b, |v| *v).unwrap_err().status(),
            Status::InvalidHandle
        );
        assert_eq!(
            m.get(0, |v| *v).unwrap_err().status(),
            Status::InvalidHandle
        );
        assert_eq!(
            m.get(b + 1, |v| *v).unwrap_err().status(),
            Status::InvalidHandle
        );
        m.get_mut(b, |v| *v += 1).unwrap();
        assert_eq!(m.get(b, |v| *v).unwrap(), 21);
        assert_eq!(m.len(), 1);
    }

    // One test walks the whole tag space (tests run in parallel, and the tags are
    // process-wide): a map created after 65,535 others must not share a live map's tag,
    // and the 65,536th live map is an error, not a silent duplicate.
    #[test]
    fn tags_stay_distinct_among_live_maps() {
        let _serial = serial();
        let a = HandleMap::new();
        let ha = a.insert(1u8).unwrap();
        for _ in 0..MAX_MAPS {
            drop(HandleMap::<u8>::new());
        }
        let b = HandleMap::<u8>::new();
        assert_ne!(a.tag, b.tag, "a live map's tag was issued again");
        let hb = b.insert(2u8).unwrap();
        assert_eq!(
            b.get(ha, |v| *v).unwrap_err().status(),
            Status::InvalidHandle
        );
        assert_eq!(
            a.get(hb, |v| *v).unwrap_err().status(),
            Status::InvalidHandle
        );

        let mut live = Vec::new();
        let err = loop {
            match HandleMap::<u8>::try_new() {
                Ok(m) => live.push(m),
                Err(e) => break e,
            }
        };
        assert_eq!(err.status(), Status::NoMemory);
        assert!(live.len() + 2 <= MAX_MAPS);
        let mut tags: Vec<u16> = live.iter().map(|m| m.tag).chain([a.tag, b.tag]).collect();
        tags.sort_unstable();
        tags.dedup();
        assert_eq!(tags.len(), live.len() + 2, "tags of live maps are distinct");
        live.pop();
        assert!(
            HandleMap::<u8>::try_new().is_ok(),
            "a dropped map's tag is free again"
        );
    }

    #[test]
    fn exhausted_generation_retires_the_slot() {
        let _serial = serial();
        let m = HandleMap::new();
        let h = m.insert(1u8).unwrap();
        m.inner.write().unwrap().slots[0].generation = GEN_MASK as u32;
        let h = (h & !(GEN_MASK << INDEX_BITS)) | (GEN_MASK << INDEX_BITS);
        m.remove(h).unwrap();
        let h2 = m.insert(2u8).unwrap();
        assert_eq!(h2 & INDEX_MASK, 1, "slot 0 retired, never reissued");
    }
}

/// Handle mistakes seen by a validation build (feature `validate`).
#[cfg(feature = "validate")]
pub mod validate {
    use core::sync::atomic::{AtomicU64, Ordering};

    use crate::log::{self, Level, RateLimit};

    static VIOLATIONS: AtomicU64 = AtomicU64::new(0);
    static REPORTS: RateLimit = RateLimit::new(10);

    /// Stale, foreign or forged handles used since the process started.
    pub fn violations() -> u64 {
        VIOLATIONS.load(Ordering::Relaxed)
    }

    pub(super) fn violation(handle: super::Handle, what: &str) {
        VIOLATIONS.fetch_add(1, Ordering::Relaxed);
        // At most 10 lines a second (a test of stale handles makes thousands).
        let Some(suppressed) = REPORTS.admit() else {
            return;
        };
        if log::enabled(Level::Error) {
            log::write(
                Level::Error,
                "graft_ffi.validate",
                format_args!("graft validate: handle {handle:#x}: {what} suppressed={suppressed}"),
            );
        }
        eprintln!("graft validate: handle {handle:#x}: {what} suppressed={suppressed}");
    }
}

#[cfg(all(test, feature = "validate"))]
mod validate_tests {
    use super::*;

    /// Planted mistake: a handle used after its object was removed. Both builds answer
    /// GRAFT_EHANDLE; the validation build also reports the use (counted, logged).
    #[test]
    fn validate_stale_handle_is_reported() {
        let map = HandleMap::new();
        let h = map.insert(7u32).unwrap();
        map.remove(h).unwrap();
        let before = validate::violations();
        let e = map.get(h, |v| *v).unwrap_err();
        assert_eq!(e.status(), Status::InvalidHandle);
        assert!(validate::violations() > before);
    }

    /// Planted mistake: a handle of one map given to another.
    #[test]
    fn validate_foreign_handle_is_reported() {
        let a = HandleMap::new();
        let b: HandleMap<u32> = HandleMap::new();
        let h = a.insert(1u32).unwrap();
        let before = validate::violations();
        assert!(b.get(h, |v| *v).is_err());
        assert!(validate::violations() > before);
        assert_eq!(
            a.get(h, |v| *v).unwrap(),
            1,
            "a live handle of its own map is fine"
        );
    }
}

#[cfg(all(test, not(feature = "validate")))]
mod normal_build_tests {
    use super::*;

    /// The same mistake in the normal build: a status, no panic, no cost of a check
    /// beyond the generation compare the map always does.
    #[test]
    fn validate_stale_handle_is_a_status_in_the_normal_build() {
        let map = HandleMap::new();
        let h = map.insert(7u32).unwrap();
        map.remove(h).unwrap();
        let e = map.get(h, |v| *v).unwrap_err();
        assert_eq!(e.status(), Status::InvalidHandle);
    }
}
