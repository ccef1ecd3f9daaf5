//! Random edits of seed texts for the parsers' mutation tests: a xorshift generator (the same
//! sequence for a seed on every run) and single-character deletions, replacements and insertions
//! from a test's alphabet.

/// A seeded xorshift generator and the alphabet its edits draw from.
pub struct Mutator {
    state: u64,
    alphabet: &'static [char],
}

impl Mutator {
    pub fn new(seed: u64, alphabet: &'static [char]) -> Self {
        Mutator {
            state: seed,
            alphabet,
        }
    }

    /// The generator's next number.
    pub fn next_u64(&mut self) -> u64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state
    }

    /// A number below `n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next_u64() % n as u64).unwrap_or(0)
    }

    /// Apply `edits` random edits to `chars`: delete, replace or insert one character.
    pub fn edit(&mut self, chars: &mut Vec<char>, edits: usize) {
        for _ in 0..edits {
            let at = self.below(chars.len() + 1);
            match self.below(3) {
                0 if at < chars.len() => {
                    chars.remove(at);
                }
                1 if at < chars.len() => chars[at] = self.alphabet[self.below(self.alphabet.len())],
                _ => {
                    let c = self.alphabet[self.below(self.alphabet.len())];
                    chars.insert(at, c);
                }
            }
        }
    }

    /// The seeds, then `n` copies of random seeds with fewer than `edits_below` edits each.
    pub fn mutants(&mut self, seeds: &[&str], n: usize, edits_below: usize) -> Vec<String> {
        let mut out: Vec<String> = seeds.iter().map(|s| s.to_string()).collect();
        for _ in 0..n {
            let mut chars: Vec<char> = seeds[self.below(seeds.len())].chars().collect();
            let edits = self.below(edits_below);
            self.edit(&mut chars, edits);
            out.push(chars.into_iter().collect());
        }
        out
    }
}
