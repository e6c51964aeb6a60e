//! A handle map: objects owned by Rust, named in C by a 64-bit handle that carries an
//! index and a generation, so that a stale, double-freed, forged or foreign handle is
//! reported as `GRAFT_EHANDLE` instead of being undefined behaviour.
//!
//! Handle layout (opaque to C, documented for debugging): bits 63..48 the map's tag
//! (distinct per map, never 0), bits 47..24 the slot's generation (1..2^24-1), bits
//! 23..0 the slot index. 0 is never a valid handle. A slot whose generation would wrap
//! is retired, so a handle is never reissued.
//!
//! Lookups take a read lock (concurrent lookups do not block each other); insert and
//! remove take the write lock. The closure given to [`HandleMap::get`] runs under the
//! read lock: keep it short, or store `Arc<T>` and clone it out.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{PoisonError, RwLock};

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

static NEXT_TAG: AtomicU16 = AtomicU16::new(1);

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

impl<T> HandleMap<T> {
    /// An empty map with a fresh tag.
    pub fn new() -> HandleMap<T> {
        let mut tag = NEXT_TAG.fetch_add(1, Ordering::Relaxed);
        if tag == 0 {
            tag = NEXT_TAG.fetch_add(1, Ordering::Relaxed);
        }
        HandleMap {
            tag,
            inner: RwLock::new(Slots {
                slots: Vec::new(),
                free: Vec::new(),
                live: 0,
            }),
        }
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

    #[test]
    fn stale_double_free_and_foreign_handles() {
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

    #[test]
    fn exhausted_generation_retires_the_slot() {
        let m = HandleMap::new();
        let h = m.insert(1u8).unwrap();
        m.inner.write().unwrap().slots[0].generation = GEN_MASK as u32;
        let h = (h & !(GEN_MASK << INDEX_BITS)) | (GEN_MASK << INDEX_BITS);
        m.remove(h).unwrap();
        let h2 = m.insert(2u8).unwrap();
        assert_eq!(h2 & INDEX_MASK, 1, "slot 0 retired, never reissued");
    }
}
