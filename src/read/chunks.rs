//! One source read in parts on several threads, the results taken in input order.
//!
//! A reader thread cuts the source's lines into parts of about [`PART_BYTES`], each ending just
//! before a line where the caller's `cut` holds (a line that starts a record whatever came
//! before it); worker threads turn parts into results; the calling thread takes them in input
//! order. At most [`IN_FLIGHT`] parts are read ahead of the one being taken, so memory stays
//! bounded whatever the source's size. Lines are read as [`super::for_each_line`] reads them
//! (same cuts of long lines, same lossy decoding, same numbers).

use super::ReadError;
use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Mutex;

/// A part is cut at the first cut point after this many bytes.
pub const PART_BYTES: usize = 256 << 10;
/// Parts read ahead of the one being taken.
pub const IN_FLIGHT: usize = 4;

/// Consecutive lines of a source.
#[derive(Debug, Default)]
pub struct Part {
    /// Number of the part in the source (0-based).
    pub seq: u64,
    /// Number of its first line (1-based, as [`super::for_each_line`] numbers them).
    pub first_line: u32,
    /// The lines, each followed by `\n`.
    pub text: String,
}

impl Part {
    /// The lines with their numbers.
    pub fn lines(&self) -> impl Iterator<Item = (u32, &str)> {
        let text = self.text.as_str();
        let first = self.first_line;
        let mut start = 0;
        memchr::memchr_iter(b'\n', text.as_bytes())
            .enumerate()
            .map(move |(i, nl)| {
                let line = text.get(start..nl).unwrap_or_default();
                start = nl + 1;
                (first.saturating_add(i as u32), line)
            })
    }
}

/// Read `reader` in parts cut before lines where `cut` holds, after about `part_bytes` bytes;
/// `work` turns each part into a result on one of `workers` threads (each with its own state
/// from `init`) and `take` receives the
/// parts and their results in input order, on the calling thread (the part, to read its lines
/// again, then its buffer goes back to the reader). Returns the number of lines
/// read, or the read error after every line before it was taken.
#[allow(clippy::too_many_arguments)]
pub fn run<R, S, T, I, W, C>(
    reader: &mut R,
    path: &str,
    part_bytes: usize,
    workers: usize,
    cut: &C,
    init: &I,
    work: &W,
    take: &mut dyn FnMut(&Part, T),
) -> Result<u64, ReadError>
where
    R: BufRead + ?Sized + Send,
    T: Send,
    I: Fn() -> S + Sync,
    W: Fn(&mut S, &Part) -> T + Sync,
    C: Fn(&str) -> bool + Sync,
{
    let workers = workers.max(1);
    let (part_tx, part_rx) = sync_channel::<Part>(IN_FLIGHT);
    let part_rx = Mutex::new(part_rx);
    let (done_tx, done_rx) = sync_channel::<(Part, T)>(IN_FLIGHT);
    // One token per part read ahead; the taker gives one back per part taken.
    let (token_tx, token_rx) = sync_channel::<()>(IN_FLIGHT);
    for _ in 0..IN_FLIGHT {
        let _ = token_tx.send(());
    }
    // Buffers of taken parts, for the reader to fill again.
    let (spare_tx, spare_rx) = sync_channel::<String>(IN_FLIGHT);
    std::thread::scope(|scope| {
        let reading = scope.spawn(move || {
            split(
                reader, path, part_bytes, cut, &token_rx, &spare_rx, &part_tx,
            )
        });
        let mut pool = Vec::with_capacity(workers);
        for _ in 0..workers {
            let done_tx = done_tx.clone();
            let part_rx = &part_rx;
            pool.push(scope.spawn(move || {
                let mut state = init();
                loop {
                    let next = match part_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok(part) = next else { return };
                    let out = work(&mut state, &part);
                    if done_tx.send((part, out)).is_err() {
                        return;
                    }
                }
            }));
        }
        drop(done_tx);
        let mut early: BTreeMap<u64, (Part, T)> = BTreeMap::new();
        let mut next = 0u64;
        for (part, out) in done_rx.iter() {
            early.insert(part.seq, (part, out));
            while let Some((part, out)) = early.remove(&next) {
                next += 1;
                take(&part, out);
                // The buffer serves a later part; the token lets the reader read one more.
                let _ = spare_tx.try_send(part.text);
                let _ = token_tx.send(());
            }
        }
        for w in pool {
            w.join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        }
        reading
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// The reader: lines into parts, each sent once a token allows.
fn split<R, C>(
    reader: &mut R,
    path: &str,
    part_bytes: usize,
    cut: &C,
    tokens: &Receiver<()>,
    spare: &Receiver<String>,
    parts: &SyncSender<Part>,
) -> Result<u64, ReadError>
where
    R: BufRead + ?Sized,
    C: Fn(&str) -> bool,
{
    let mut cutter = Cutter {
        part: Part {
            seq: 0,
            first_line: 1,
            text: fresh(spare, part_bytes),
        },
        part_bytes,
        stopped: false,
        cut,
        tokens,
        spare,
        parts,
    };
    let n = super::for_each_run(reader, path, &mut |lines| match lines {
        super::Lines::Run { text, .. } => cutter.add_run(text),
        super::Lines::One { line, .. } => cutter.add_line(line),
    });
    if !cutter.part.text.is_empty() {
        let part = std::mem::take(&mut cutter.part);
        cutter.send(part);
    }
    n
}

/// A buffer for a part: a taken part's, else a new one.
fn fresh(spare: &Receiver<String>, part_bytes: usize) -> String {
    let mut s = spare.try_recv().unwrap_or_else(|_| {
        String::with_capacity(
            part_bytes
                .saturating_add(part_bytes / 4)
                .min(4 * PART_BYTES),
        )
    });
    s.clear();
    s
}

/// The part being filled, and where full parts go.
struct Cutter<'a, C> {
    part: Part,
    part_bytes: usize,
    /// The taker stopped: nothing more is sent.
    stopped: bool,
    /// Whether a line may begin a part.
    cut: &'a C,
    /// One per part that may be read ahead.
    tokens: &'a Receiver<()>,
    /// Buffers of taken parts.
    spare: &'a Receiver<String>,
    parts: &'a SyncSender<Part>,
}

impl<C: Fn(&str) -> bool> Cutter<'_, C> {
    /// Whether a line starting at `at` in the part may begin the next one (if `cut` holds).
    fn may_cut_at(&self, at: usize) -> bool {
        at > 0 && at >= self.part_bytes
    }

    /// Add one line (without its terminator), first sending the part if it is full and the
    /// line is a cut point.
    fn add_line(&mut self, line: &str) {
        if self.may_cut_at(self.part.text.len()) && (self.cut)(line) {
            self.next_part();
        }
        self.part.text.push_str(line);
        self.part.text.push('\n');
    }

    /// Add whole lines (each followed by `\n`), sending a part before every line that starts
    /// at or after `part_bytes` into it and where `cut` holds.
    fn add_run(&mut self, text: &str) {
        let mut rest = text;
        while !rest.is_empty() {
            let len = self.part.text.len();
            // The first line start in `rest` that may begin the next part.
            let mut at = if self.may_cut_at(len) {
                0
            } else {
                let need = self.part_bytes.max(1) - len;
                match rest
                    .as_bytes()
                    .get(need - 1..)
                    .and_then(|t| memchr::memchr(b'\n', t))
                {
                    Some(i) => need + i,
                    None => rest.len(),
                }
            };
            let mut found = None;
            while at < rest.len() {
                let line_rest = rest.get(at..).unwrap_or_default();
                let end = memchr::memchr(b'\n', line_rest.as_bytes()).unwrap_or(line_rest.len());
                if (self.cut)(line_rest.get(..end).unwrap_or_default()) {
                    found = Some(at);
                    break;
                }
                at += end + 1;
            }
            let Some(at) = found else {
                self.part.text.push_str(rest);
                return;
            };
            self.part.text.push_str(rest.get(..at).unwrap_or_default());
            rest = rest.get(at..).unwrap_or_default();
            self.next_part();
        }
    }

    /// Send the part and start the next.
    fn next_part(&mut self) {
        let lines = memchr::memchr_iter(b'\n', self.part.text.as_bytes()).count();
        let next = Part {
            seq: self.part.seq + 1,
            first_line: self.part.first_line.saturating_add(lines as u32),
            text: fresh(self.spare, self.part_bytes),
        };
        let full = std::mem::replace(&mut self.part, next);
        self.send(full);
    }

    fn send(&mut self, part: Part) {
        if self.stopped || self.tokens.recv().is_err() || self.parts.send(part).is_err() {
            self.stopped = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(text: &str, part_bytes: usize, workers: usize) -> (Vec<(u32, String)>, u64) {
        let mut reader = std::io::Cursor::new(text.as_bytes().to_vec());
        let mut seen = Vec::new();
        let mut next_seq = 0;
        let n = run(
            &mut reader,
            "t",
            part_bytes,
            workers,
            &|l: &str| l.starts_with('#'),
            &|| (),
            &|_: &mut (), p: &Part| {
                p.lines()
                    .map(|(n, l)| (n, l.to_string()))
                    .collect::<Vec<_>>()
            },
            &mut |p, out| {
                assert_eq!(p.seq, next_seq);
                next_seq += 1;
                if let Some((first, _)) = out.first() {
                    assert_eq!(*first, p.first_line);
                }
                seen.extend(out);
            },
        )
        .unwrap_or(0);
        (seen, n)
    }

    #[test]
    fn parts_keep_every_line_in_order_at_cut_points() {
        let text: String = (0..5000)
            .map(|i| {
                if i % 7 == 0 {
                    format!("# head {i}\n")
                } else {
                    format!("  cont {i}\n")
                }
            })
            .collect();
        let whole: Vec<(u32, String)> = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i as u32 + 1, l.to_string()))
            .collect();
        for (bytes, workers) in [(1, 1), (64, 2), (1000, 3), (1 << 20, 2)] {
            let (seen, n) = lines_of(&text, bytes, workers);
            assert_eq!(n, 5000);
            assert_eq!(seen, whole, "part_bytes {bytes}, workers {workers}");
        }
    }

    /// Lines as `for_each_run` hands them, split back into single lines.
    fn run_lines(bytes: &[u8], cap: usize) -> (Vec<(u32, String)>, u64) {
        let mut reader =
            std::io::BufReader::with_capacity(cap, std::io::Cursor::new(bytes.to_vec()));
        let mut out = Vec::new();
        let n = crate::read::for_each_run(&mut reader, "t", &mut |lines| match lines {
            crate::read::Lines::Run { first, text, count } => {
                let body = text.strip_suffix('\n').unwrap_or(text);
                let before = out.len();
                for (i, l) in body.split('\n').enumerate() {
                    out.push((first + i as u32, l.to_string()));
                }
                assert_eq!(out.len() - before, count as usize);
                assert!(text.ends_with('\n'));
            }
            crate::read::Lines::One { no, line } => out.push((no, line.to_string())),
        })
        .unwrap_or(0);
        (out, n)
    }

    #[test]
    fn runs_give_what_line_by_line_reading_gives() {
        let max = crate::read::MAX_LINE;
        let mut odd: Vec<u8> = Vec::new();
        odd.extend_from_slice(b"plain\ncrlf\r\nlone\rcr\n\n\xff\xfe bad utf8\nn\xc3\xa9 ok\n");
        odd.extend(std::iter::repeat_n(b'a', max - 1));
        odd.extend_from_slice(b"\n");
        odd.extend(std::iter::repeat_n(b'b', max));
        odd.extend_from_slice(b"\n");
        odd.extend(std::iter::repeat_n(b'c', max + 1));
        odd.extend_from_slice(b"\r\n");
        odd.extend(std::iter::repeat_n(b'd', 2 * max + 5));
        odd.extend_from_slice(b"\nafter\n");
        odd.extend("é".repeat(max / 2 + 1).as_bytes());
        odd.extend_from_slice(b"\nlast without newline\r");
        let texts: Vec<Vec<u8>> = vec![
            odd,
            b"".to_vec(),
            b"\n\n\n".to_vec(),
            (0..3000)
                .flat_map(|i| format!("line {i}\n").into_bytes())
                .collect(),
        ];
        for text in &texts {
            let mut expected = Vec::new();
            let n = crate::read::for_each_line(
                &mut std::io::Cursor::new(text.clone()),
                "t",
                &mut |no, l| {
                    expected.push((no, l.to_string()));
                },
            )
            .unwrap_or(0);
            for cap in [7, 64, 4096, 1 << 20] {
                let (seen, m) = run_lines(text, cap);
                assert_eq!(m, n, "line count, buffer {cap}");
                assert!(seen == expected, "buffer {cap}: lines differ");
            }
        }
    }

    /// Gives `good` bytes, then fails.
    struct Failing {
        good: std::io::Cursor<Vec<u8>>,
    }

    impl std::io::Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match self.good.read(buf)? {
                0 => Err(std::io::Error::other("disk gone")),
                n => Ok(n),
            }
        }
    }

    #[test]
    fn a_read_error_ends_the_source_after_every_line_before_it() {
        let text: String = (0..2000).map(|i| format!("# line {i}\n")).collect();
        let mut reader = std::io::BufReader::with_capacity(
            512,
            Failing {
                good: std::io::Cursor::new(text.clone().into_bytes()),
            },
        );
        let mut seen = 0u32;
        let res = run(
            &mut reader,
            "t",
            300,
            2,
            &|l: &str| l.starts_with('#'),
            &|| (),
            &|_: &mut (), p: &Part| p.lines().count() as u32,
            &mut |_, n| seen += n,
        );
        assert!(res.is_err());
        assert_eq!(seen, 2000);
    }

    #[test]
    fn empty_source_has_no_part() {
        let (seen, n) = lines_of("", 16, 2);
        assert!(seen.is_empty());
        assert_eq!(n, 0);
    }

    #[test]
    fn a_part_starts_only_at_a_cut_point() {
        let text = "# a\n b\n c\n d\n# e\n f\n";
        let mut reader = std::io::Cursor::new(text.as_bytes().to_vec());
        let mut starts = Vec::new();
        run(
            &mut reader,
            "t",
            1,
            2,
            &|l: &str| l.starts_with('#'),
            &|| (),
            &|_: &mut (), p: &Part| p.first_line,
            &mut |_, first| starts.push(first),
        )
        .unwrap_or(0);
        assert_eq!(starts, vec![1, 5]);
    }
}
