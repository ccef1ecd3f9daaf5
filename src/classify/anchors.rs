//! A literal set searched by the first four bytes of each literal (its anchor). The search
//! moves along the haystack as Wu and Manber's does, by the last pair of bytes of a four-byte
//! window: a pair that is in no anchor moves it three bytes on. A window whose pair ends an
//! anchor is hashed into a 64 Kibit table of the anchors, and only one whose bit is set is
//! compared with the literals behind it. Faster than the packed searcher on short haystacks
//! (one message) and on sets of many literals, whose buckets it would compare often.

/// Bits of the anchor table's index.
const BITS: u32 = 16;

/// Words of the anchor table.
const TABLE_WORDS: usize = (1 << BITS) / 64;

/// The longest move of the search: a window of four bytes whose last pair is in no anchor
/// moves on past that pair's first byte.
const MAX_SHIFT: u8 = 3;

/// A set of literals of four bytes or more, searched leftmost-first.
pub(crate) struct Anchored {
    /// One bit per anchor hash.
    table: Box<[u64; TABLE_WORDS]>,
    /// For each pair of bytes, how far a window of four bytes ending in it may move on before
    /// it can be an anchor: 0 when the pair ends an anchor, 1 or 2 when it sits earlier in one,
    /// else 3 (no anchor starts at any of the window's first three bytes).
    shift: Box<[u8; 1 << 16]>,
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
        let mut shift = Box::new([MAX_SHIFT; 1 << 16]);
        let mut anchors = Vec::with_capacity(words.len());
        let mut literals = Vec::with_capacity(words.len());
        for (i, w) in words.iter().enumerate() {
            let w = w.as_ref();
            let a = anchor(w, 0)?;
            let h = hash(a);
            table[h >> 6] |= 1 << (h & 63);
            // The pairs at offsets 0, 1 and 2 of the anchor end it 2, 1 and 0 bytes early.
            for (offset, more) in [(0u32, 2u8), (1, 1), (2, 0)] {
                let pair = usize::from((a >> (8 * offset)) as u16);
                if let Some(s) = shift.get_mut(pair) {
                    *s = (*s).min(more);
                }
            }
            anchors.push((a, i));
            literals.push(w.to_vec().into_boxed_slice());
        }
        anchors.sort_unstable();
        Some(Anchored {
            table,
            shift,
            anchors,
            literals,
        })
    }

    /// The leftmost literal in `hay[at..]` (the first in set order of those starting there):
    /// its index, start and end.
    ///
    /// The windows of four bytes are visited left to right, as in Wu and Manber's search: the
    /// pair of bytes that ends a window tells how many windows on the next one that can hold
    /// an anchor starts ([`Anchored::shift`]); only a window whose pair ends an anchor is
    /// hashed and looked up.
    pub(crate) fn find(&self, hay: &[u8], at: usize) -> Option<(usize, usize, usize)> {
        let mut i = at;
        while let Some(a) = anchor(hay, i) {
            let pair = usize::from((a >> 16) as u16);
            let skip = self.shift.get(pair).copied().unwrap_or(0);
            if skip != 0 {
                i += usize::from(skip);
                continue;
            }
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

    /// A search: the index, start and end of the leftmost match from an offset.
    type Find = dyn Fn(&[u8], usize) -> Option<(usize, usize, usize)>;

    /// The gate words and literals that are prefixes of others and share anchors, as a set
    /// and as a leftmost-first Aho-Corasick automaton's `find`.
    fn sets() -> (Vec<&'static str>, Anchored, Box<Find>) {
        use aho_corasick::{AhoCorasick, Input, MatchKind};
        let mut words: Vec<&str> = super::super::GATE_WORDS.to_vec();
        words.extend(["retry", "retr", "Retrying API call", "API call", "API c"]);
        let set = Anchored::new(&words).unwrap_or_else(|| unreachable!("four bytes each"));
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(&words)
            .unwrap_or_else(|e| unreachable!("{e}"));
        let reference = move |hay: &[u8], at: usize| {
            let m = ac.find(Input::new(hay).range(at.min(hay.len())..))?;
            Some((m.pattern().as_usize(), m.start(), m.end()))
        };
        (words, set, Box::new(reference))
    }

    /// On text drawn from the words' own bytes (so that every pair of an anchor, at every
    /// offset, turns up next to others), the matches are the automaton's.
    #[test]
    fn agrees_with_an_automaton_on_text_of_the_words_bytes() {
        let (words, set, reference) = sets();
        let mut bytes: Vec<u8> = words.iter().flat_map(|w| w.bytes()).collect();
        bytes.sort_unstable();
        bytes.dedup();
        let mut m = crate::parse::mutate::Mutator::new(0x5DEE_CE66_D1CE_4E5B, &['a']);
        for _ in 0..20_000 {
            let len = m.below(120);
            let hay: Vec<u8> = (0..len)
                .map(|_| bytes.get(m.below(bytes.len())).copied().unwrap_or(b' '))
                .collect();
            assert_eq!(
                all(|h, at| set.find(h, at), &hay),
                all(&reference, &hay),
                "{:?}",
                String::from_utf8_lossy(&hay)
            );
        }
    }

    /// On haystacks built from the gate words, cut and mutated, the matches are those of a
    /// leftmost-first Aho-Corasick automaton over the same words.
    #[test]
    fn agrees_with_an_automaton() {
        let (words, set, reference) = sets();
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
                all(&reference, hay),
                "{:?}",
                String::from_utf8_lossy(hay)
            );
        }
    }
}
