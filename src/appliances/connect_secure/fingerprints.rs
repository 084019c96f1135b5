//! A set of 64-bit fingerprints (of session ids, of user names): one flat
//! table of the fingerprints themselves, probed in line from the slot the
//! fingerprint names.
//!
//! Why not a `HashSet`: at 100,000 sessions the two sets of a listing are
//! some 2 MiB, past the processor's cache, and nearly every insert misses
//! it. hashbrown keeps its control bytes apart from its slots, so an
//! insert touches two places; here it touches one. A fingerprint is a hash
//! already, so it is its own slot number.

/// What stands in an empty slot; the one fingerprint of that value is kept
/// as [`ZERO_STAND_IN`] instead (two fingerprints among 2^64 then count as
/// one, as any two equal fingerprints do).
const EMPTY: u64 = 0;
const ZERO_STAND_IN: u64 = 0x9e37_79b9_7f4a_7c15;

/// Slots of the smallest table.
const MIN_SLOTS: usize = 16;

/// A set of fingerprints, at most three quarters full.
#[derive(Debug, Default)]
pub struct Fingerprints {
    /// The table: a power of two of slots, or none yet.
    slots: Vec<u64>,
    /// Fingerprints held.
    len: usize,
}

impl Fingerprints {
    /// Fingerprints held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Makes room for `more` fingerprints.
    pub fn reserve(&mut self, more: usize) {
        let wanted = slots_for(self.len.saturating_add(more));
        if wanted > self.slots.len() {
            self.rebuild(wanted);
        }
    }

    /// Adds `fingerprint`; false if it was there.
    pub fn insert(&mut self, fingerprint: u64) -> bool {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.rebuild(slots_for(self.len + 1).max(self.slots.len() * 2));
        }
        let fingerprint = if fingerprint == EMPTY {
            ZERO_STAND_IN
        } else {
            fingerprint
        };
        let mask = self.slots.len() - 1;
        // The high bits: foldhash mixes them best.
        let mut at = (fingerprint >> 32) as usize & mask;
        loop {
            match self.slots[at] {
                EMPTY => {
                    self.slots[at] = fingerprint;
                    self.len += 1;
                    return true;
                }
                held if held == fingerprint => return false,
                _ => at = (at + 1) & mask,
            }
        }
    }

    /// Moves every fingerprint into a table of `slots` slots.
    fn rebuild(&mut self, slots: usize) {
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; slots]);
        self.len = 0;
        for fingerprint in old.into_iter().filter(|&f| f != EMPTY) {
            self.insert(fingerprint);
        }
    }
}

/// The slots that hold `n` fingerprints at most three quarters full.
fn slots_for(n: usize) -> usize {
    n.saturating_mul(4)
        .div_ceil(3)
        .max(MIN_SLOTS)
        .checked_next_power_of_two()
        .unwrap_or(MIN_SLOTS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_fingerprint_is_held_once() {
        let mut set = Fingerprints::default();
        // Fingerprints that share their slot bits, zero (the first), and many more than
        // the first table holds.
        let sample: Vec<u64> = (0..1_000u64)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (i % 3))
            .chain([u64::MAX, 1 << 32, 2 << 32, 3 << 32])
            .collect();
        for &f in &sample {
            assert!(set.insert(f), "{f}");
        }
        for &f in &sample {
            assert!(!set.insert(f), "{f}");
        }
        assert_eq!(set.len(), sample.len());
        assert!(set.slots.len() * 3 >= set.len() * 4);
    }

    #[test]
    fn a_reserved_table_is_not_rebuilt() {
        let mut set = Fingerprints::default();
        set.reserve(100_000);
        let slots = set.slots.len();
        assert_eq!(slots, 1 << 18);
        for i in 0..100_000u64 {
            set.insert(i.wrapping_mul(0x2545_f491_4f6c_dd1d));
        }
        assert_eq!(set.slots.len(), slots);
        assert_eq!(set.len(), 100_000);
    }
}
