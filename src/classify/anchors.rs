//! A literal set searched by the first four bytes of each literal: every position of the
//! haystack is hashed into a 64 Kibit table of those anchors, and only a position whose bit is
//! set is compared with the literals behind it. Faster than the packed searcher on short
//! haystacks (one message) and on sets of many literals, whose buckets it would compare often.

/// Bits of the anchor table's index.
const BITS: u32 = 16;

/// Words of the anchor table.
const TABLE_WORDS: usize = (1 << BITS) / 64;

/// A set of literals of four bytes or more, searched leftmost-first.
pub(crate) struct Anchored {
    /// One bit per anchor hash.
    table: Box<[u64; TABLE_WORDS]>,
    /// (anchor, literal index), sorted: the literals starting with an anchor, in set order.
    anchors: Vec<(u32, usize)>,
    literals: Vec<Box<[u8]>>,
}

/// The anchor at `at`: four bytes read little-endian, if four remain.
#[inline(always)]
fn anchor(hay: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = hay.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(b))
}

#[inline(always)]
fn hash(anchor: u32) -> usize {
    (anchor.wrapping_mul(0x9E37_79B1) >> (32 - BITS)) as usize
}

impl Anchored {
    /// The set of `words`, or `None` when one is shorter than four bytes.
    pub(crate) fn new<W: AsRef<[u8]>>(words: &[W]) -> Option<Anchored> {
        let mut table = Box::new([0u64; TABLE_WORDS]);
        let mut anchors = Vec::with_capacity(words.len());
        let mut literals = Vec::with_capacity(words.len());
        for (i, w) in words.iter().enumerate() {
            let w = w.as_ref();
            let a = anchor(w, 0)?;
            let h = hash(a);
            table[h >> 6] |= 1 << (h & 63);
            anchors.push((a, i));
            literals.push(w.to_vec().into_boxed_slice());
        }
        anchors.sort_unstable();
        Some(Anchored {
            table,
            anchors,
            literals,
        })
    }

    /// The leftmost literal in `hay[at..]` (the first in set order of those starting there):
    /// its index, start and end.
    pub(crate) fn find(&self, hay: &[u8], at: usize) -> Option<(usize, usize, usize)> {
        let mut i = at;
        // Eight bytes read at once hold the anchors of five positions.
        while let Some(b) = hay.get(i..i.saturating_add(8)) {
            let mut eight = [0u8; 8];
            eight.copy_from_slice(b);
            let x = u64::from_le_bytes(eight);
            for k in 0..5 {
                let a = (x >> (8 * k)) as u32;
                if self.marked(a) {
                    if let Some(found) = self.at(a, hay, i + k) {
                        return Some(found);
                    }
                }
            }
            i += 5;
        }
        while let Some(a) = anchor(hay, i) {
            if self.marked(a) {
                if let Some(found) = self.at(a, hay, i) {
                    return Some(found);
                }
            }
            i += 1;
        }
        None
    }

    /// Whether an anchor may be one of the set's (its bit is set).
    #[inline(always)]
    fn marked(&self, a: u32) -> bool {
        let h = hash(a);
        self.table[h >> 6] & (1 << (h & 63)) != 0
    }

    /// The first literal in set order with anchor `a` that occurs at `start`.
    #[cold]
    fn at(&self, a: u32, hay: &[u8], start: usize) -> Option<(usize, usize, usize)> {
        let from = self.anchors.partition_point(|(x, _)| *x < a);
        let rest = hay.get(start..)?;
        self.anchors
            .get(from..)?
            .iter()
            .take_while(|(x, _)| *x == a)
            .map(|&(_, i)| i)
            .find(|&i| self.literals.get(i).is_some_and(|w| rest.starts_with(w)))
            .and_then(|i| Some((i, start, start + self.literals.get(i)?.len())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_literals_are_refused() {
        assert!(Anchored::new(&["abcd", "abc"]).is_none());
        assert!(Anchored::new(&["abcd"]).is_some());
    }

    #[test]
    fn leftmost_then_set_order() {
        let set = Anchored::new(&["retry", "retr", "try again", "Retrying"]).unwrap_or_else(|| {
            unreachable!("every literal has four bytes");
        });
        assert_eq!(set.find(b"we retry", 0), Some((0, 3, 8)));
        assert_eq!(set.find(b"we retr", 0), Some((1, 3, 7)));
        assert_eq!(set.find(b"try again or retry", 0), Some((2, 0, 9)));
        assert_eq!(set.find(b"try again or retry", 1), Some((0, 13, 18)));
        assert_eq!(set.find(b"Retrying", 0), Some((3, 0, 8)));
        assert_eq!(set.find(b"ret", 0), None);
        assert_eq!(set.find(b"", 0), None);
        assert_eq!(set.find(b"retry", 9), None);
    }

    /// Every match, as `find` is called by the classifier: again one byte after each start.
    fn all(
        find: impl Fn(&[u8], usize) -> Option<(usize, usize, usize)>,
        hay: &[u8],
    ) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(m) = find(hay, at) {
            out.push(m);
            at = m.1 + 1;
        }
        out
    }

    /// On haystacks built from the gate words, cut and mutated, the matches are those of a
    /// leftmost-first Aho-Corasick automaton over the same words.
    #[test]
    fn agrees_with_an_automaton() {
        use aho_corasick::{AhoCorasick, Input, MatchKind};
        let mut words: Vec<&str> = super::super::GATE_WORDS.to_vec();
        // Literals that are prefixes of others and share anchors.
        words.extend(["retry", "retr", "Retrying API call", "API call", "API c"]);
        let set = Anchored::new(&words).unwrap_or_else(|| unreachable!("four bytes each"));
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(&words)
            .unwrap_or_else(|e| unreachable!("{e}"));
        let reference = |hay: &[u8], at: usize| {
            let m = ac.find(Input::new(hay).range(at.min(hay.len())..))?;
            Some((m.pattern().as_usize(), m.start(), m.end()))
        };
        const ALPHABET: &[char] = &[
            'r', 'e', 't', 'A', 'P', 'I', ' ', 'c', 'a', 'l', '#', 'é', '\n',
        ];
        let mut m = crate::parse::mutate::Mutator::new(0x9E37_79B9_7F4A_7C15, ALPHABET);
        for round in 0..20_000 {
            let mut text = String::new();
            for _ in 0..m.below(5) {
                let w = words[m.below(words.len())];
                let cut = m.below(w.len() + 1);
                text.push_str(w.get(..cut).unwrap_or(w));
                text.push_str(&" x".repeat(m.below(3)));
            }
            let mut chars: Vec<char> = text.chars().collect();
            m.edit(&mut chars, round % 4);
            let hay: String = chars.into_iter().collect();
            let hay = hay.as_bytes();
            assert_eq!(
                all(|h, at| set.find(h, at), hay),
                all(reference, hay),
                "{:?}",
                String::from_utf8_lossy(hay)
            );
        }
    }
}
