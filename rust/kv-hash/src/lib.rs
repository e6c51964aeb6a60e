//! kv-hash: kvd's key hash, the migration pilot (small, pure, isolated, easy to prove
//! equal). It was the twin of a C `kv_hash` (server/kv_hash.c); that C was retired and
//! deleted, and this is now kvd's only hash, called directly by the storage engine
//! through `kv_rs_hash_key` (kvd-rs). `tests/golden.rs` checks it against every vector the
//! C wrote before it went (tests/golden/kv_hash.vectors), so keys keep their shards.
//!
//! Definition (it used to live in `server/kv_hash.h`):
//!
//! 1. 64-bit FNV-1a over the key bytes: `h = 0xcbf29ce484222325`, then for each byte `b`
//!    `h = (h ^ b) * 0x100000001b3`;
//! 2. the fmix64 finalizer published with MurmurHash3, to spread FNV's weak high-to-low
//!    mixing over every bit (the table uses the low bits, the shards the high ones):
//!    `h ^= h >> 33; h *= 0xff51afd7ed558ccd; h ^= h >> 33; h *= 0xc4ceb9fe1a85ec53;
//!    h ^= h >> 33`.
//!
//! All arithmetic wraps modulo 2^64; bytes are unsigned. Non-cryptographic: it does not
//! resist chosen-key flooding. Pure and thread-safe.

#![forbid(unsafe_code)]

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Hashes `key` (as the retired C `kv_hash(key, len)` did, bit for bit).
#[inline]
pub fn hash(key: &[u8]) -> u64 {
    let mut h = FNV_OFFSET;
    for &b in key {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    fmix64(h)
}

/// MurmurHash3's 64-bit finalizer: spreads every input bit over every output bit.
#[inline]
fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The reference values of the definition.
    #[test]
    fn reference_values() {
        assert_eq!(hash(b""), 0xefd0_1f60_ba99_2926);
        assert_eq!(hash(b"a"), 0x82a2_a958_a9be_ce5b);
        assert_eq!(hash(b"foo"), 0xaf85_ea55_6958_1d4c);
    }

    /// A straight transcription of the definition, byte by byte, as a second opinion.
    fn reference(key: &[u8]) -> u64 {
        let mut h: u128 = 0xcbf2_9ce4_8422_2325;
        for &b in key {
            h = ((h ^ u128::from(b)) * 0x100_0000_01b3) % (1u128 << 64);
        }
        let mut h = h as u64;
        h ^= h >> 33;
        h = ((u128::from(h) * 0xff51_afd7_ed55_8ccd) % (1u128 << 64)) as u64;
        h ^= h >> 33;
        h = ((u128::from(h) * 0xc4ce_b9fe_1a85_ec53) % (1u128 << 64)) as u64;
        h ^ (h >> 33)
    }

    proptest! {
        #[test]
        fn matches_the_definition(key in proptest::collection::vec(any::<u8>(), 0..300)) {
            prop_assert_eq!(hash(&key), reference(&key));
        }
    }
}
