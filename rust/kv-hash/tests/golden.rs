//! The golden vectors written by the C implementation before it was deleted
//! (tests/golden/kv_hash.vectors; how they were made: tests/golden/README.md): the Rust
//! hash must reproduce every one, so every key keeps its shard and bucket in kvd.

const VECTORS: &str = include_str!("../../../tests/golden/kv_hash.vectors");

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex byte"))
        .collect()
}

#[test]
fn every_golden_vector_matches() {
    let mut buffer = Vec::new();
    let (mut keys, mut prefixes, mut diffs) = (0usize, 0usize, Vec::new());
    for (n, line) in VECTORS.lines().enumerate() {
        let f: Vec<&str> = line.split(' ').collect();
        match f.as_slice() {
            [] | [""] => {}
            [c, ..] if c.starts_with('#') => {}
            ["buffer", hex] => buffer = unhex(hex),
            ["prefix", want, off, len] => {
                let (off, len): (usize, usize) = (off.parse().unwrap(), len.parse().unwrap());
                let got = kv_hash::hash(&buffer[off..off + len]);
                if got != u64::from_str_radix(want, 16).unwrap() {
                    diffs.push(n + 1);
                }
                prefixes += 1;
            }
            ["key", want, hex] => {
                let key = if *hex == "-" { Vec::new() } else { unhex(hex) };
                if kv_hash::hash(&key) != u64::from_str_radix(want, 16).unwrap() {
                    diffs.push(n + 1);
                }
                keys += 1;
            }
            _ => panic!("kv_hash.vectors line {}: not a vector: {line:.60}", n + 1),
        }
    }
    assert_eq!((keys, prefixes), (2117, 1413), "the file as committed");
    assert!(diffs.is_empty(), "vectors that differ, by line: {diffs:?}");
}
