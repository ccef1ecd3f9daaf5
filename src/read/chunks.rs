//! One source read in parts on several threads, the results taken in input order.
//!
//! A reader thread cuts the source's lines into parts of about [`PART_BYTES`], each ending just
//! before a line where the caller's `cut` holds (a line that starts a record whatever came
//! before it); worker threads turn parts into results; the calling thread takes them in input
//! order. At most [`IN_FLIGHT`] parts are read ahead of the one being taken, so memory stays
//! bounded whatever the source's size. Lines are read as
//! [`super::for_each_line`] reads them (same cuts of long lines, same lossy decoding, same
//! numbers).

use super::ReadError;
use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Mutex;

/// A part is cut at the first cut point after this many bytes. On two cores, 512 KiB took 2–6%
/// off the analysis of 1 GiB of journal json or agent.log, from a file or a pipe, against
/// 256 KiB (fewer hand-overs between the threads; the same instructions); 1 MiB took no more.
pub const PART_BYTES: usize = 512 << 10;
/// Parts read ahead of the one being taken. A pipe's writer is not always running when the
/// parser threads need the next part (on two cores, a writer such as `cat` shares them with
/// the analysis): the parts read ahead bridge those gaps. Four of 512 KiB did as well as eight of
/// 256 KiB, and more held more memory for no time.
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
/// read, or the read error after every line before it was taken. At most `read_ahead` parts
/// (at least one) are read ahead of the one being taken.
#[allow(clippy::too_many_arguments)]
pub fn run<R, S, T, I, W, C>(
    reader: &mut R,
    path: &str,
    part_bytes: usize,
    read_ahead: usize,
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
    let ahead = read_ahead.max(1);
    let (part_tx, part_rx) = sync_channel::<Part>(ahead);
    let part_rx = Mutex::new(part_rx);
    let (done_tx, done_rx) = sync_channel::<(Part, T)>(ahead);
    // One token per part read ahead; the taker gives one back per part taken.
    let (token_tx, token_rx) = sync_channel::<()>(ahead);
    for _ in 0..ahead {
        let _ = token_tx.send(());
    }
    // Buffers of taken parts, for the reader to fill again.
    let (spare_tx, spare_rx) = sync_channel::<String>(ahead);
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

/// The reader: lines into parts, each sent once a token allows. Parts are read straight into
/// their buffers ([`direct`]) while the source allows; the rest of a source where that stops
/// goes line by line through [`super::for_each_run`].
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
        part: Part::default(),
        part_bytes,
        stopped: false,
        cut,
        tokens,
        spare,
        parts,
    };
    let (before, held) = match direct(reader, path, &mut cutter)? {
        Direct::Done(lines) => return Ok(lines),
        Direct::Rest(lines, held) => (lines, held),
    };
    let mut rest = std::io::Read::chain(std::io::Cursor::new(held), reader);
    let n = super::for_each_run(&mut rest, path, &mut |lines| match lines {
        super::Lines::Run { text, .. } => cutter.add_run(text),
        super::Lines::One { line, .. } => cutter.add_line(line),
    });
    if !cutter.part.text.is_empty() {
        let part = std::mem::take(&mut cutter.part);
        cutter.send(part);
    }
    n.map(|n| before + n)
}

/// Bytes read at a time past a part's size, to find the line it is cut before.
const LOOKAHEAD: usize = 16 << 10;

/// How reading parts straight into their buffers ended.
enum Direct {
    /// At the end of the source, after this many lines.
    Done(u64),
    /// At a stretch of [`super::MAX_LINE`] bytes with no cut point, after this many lines; the
    /// bytes read after them begin the rest of the source. `Cutter::part` is the next part.
    Rest(u64, Vec<u8>),
}

/// Read parts straight into their buffers: each part is read whole, then cut before the first
/// cut point at or after `part_bytes` into it, and the bytes after the cut begin the next one.
/// A part of plain lines (UTF-8, no `\r`) becomes its text as read; one with other lines is
/// read again line by line ([`super::for_each_run`] over its bytes), so each part holds the
/// lines [`super::for_each_line`] gives. A part is kept under [`super::MAX_LINE`] bytes, so
/// none of its lines is too long; where no cut point comes in time, this stops
/// ([`Direct::Rest`]). A read error ends the source after the whole lines before it.
fn direct<R, C>(reader: &mut R, path: &str, cutter: &mut Cutter<'_, C>) -> Result<Direct, ReadError>
where
    R: BufRead + ?Sized,
    C: Fn(&str) -> bool,
{
    let part_bytes = cutter.part_bytes.max(1);
    if part_bytes.saturating_add(LOOKAHEAD + super::BUF_SIZE) >= super::MAX_LINE {
        // Parts this large could hold a line too long to pass on as read.
        cutter.resume(0, 1);
        return Ok(Direct::Rest(0, Vec::new()));
    }
    let mut seq = 0u64;
    let mut first_line = 1u32;
    let mut lines = 0u64;
    // What a buffered reader holds is taken first, so that every later request can go past it.
    let mut block = match reader.fill_buf() {
        Ok(held) => Block::reuse(cutter.spare, held),
        Err(e) => return Err(ReadError::reading(path, e)),
    };
    reader.consume(block.filled);
    if block.filled + super::BUF_SIZE >= super::MAX_LINE {
        // A reader that held this much (not a buffered reader's buffer) could hold a line too
        // long to pass on as read.
        cutter.resume(0, 1);
        let filled = block.filled;
        return Ok(Direct::Rest(0, block.into_first(filled)));
    }
    // Where the search for the cut resumes: a line start past the part's size.
    let mut scan = None;
    // Every request is as large as a reader's buffer: a part's size, and what it holds
    // beyond the cut (after the first part, a little less than `LOOKAHEAD`).
    let next_want = |held: usize| (part_bytes + LOOKAHEAD).max(held + super::BUF_SIZE);
    let mut want = next_want(block.filled);
    loop {
        let eof = match block.fill(reader, want) {
            Ok(eof) => eof,
            Err(e) => {
                let read = block.read();
                let whole = memchr::memrchr(b'\n', read).map_or(0, |nl| nl + 1);
                cutter.emit(
                    block.into_first(whole),
                    &mut seq,
                    &mut first_line,
                    &mut lines,
                );
                return Err(ReadError::reading(path, e));
            }
        };
        let read = block.read();
        // The first line start at or after `part_bytes`, and no further from the end than
        // `LOOKAHEAD` (a first part read with what the reader held is longer).
        let size = part_bytes.max(read.len().saturating_sub(LOOKAHEAD));
        let from = match scan {
            Some(at) => Some(at),
            None => read
                .get(size - 1..)
                .and_then(|t| memchr::memchr(b'\n', t))
                .map(|nl| size + nl),
        };
        let found = match from {
            Some(at) => cut_point(read, at, eof, cutter.cut),
            None => Found::More(None),
        };
        match found {
            Found::At(at) => {
                let next = Block::reuse(cutter.spare, read.get(at..).unwrap_or_default());
                let full = std::mem::replace(&mut block, next);
                cutter.emit(full.into_first(at), &mut seq, &mut first_line, &mut lines);
                scan = None;
                want = next_want(block.filled);
            }
            Found::More(at) if !eof => {
                scan = at;
                if block.filled + super::BUF_SIZE >= super::MAX_LINE {
                    cutter.resume(seq, first_line);
                    let filled = block.filled;
                    return Ok(Direct::Rest(lines, block.into_first(filled)));
                }
                want = block.filled + super::BUF_SIZE;
            }
            Found::More(_) | Found::None => {
                if block.filled > 0 {
                    let filled = block.filled;
                    cutter.emit(
                        block.into_first(filled),
                        &mut seq,
                        &mut first_line,
                        &mut lines,
                    );
                }
                return Ok(Direct::Done(lines));
            }
        }
    }
}

/// Bytes read from the source into a buffer: its first `filled` bytes. The rest of the buffer
/// holds old bytes, which are overwritten instead of zeroed before a read.
struct Block {
    bytes: Vec<u8>,
    filled: usize,
}

impl Block {
    /// A taken part's buffer (else a new one) holding `start`.
    fn reuse(spare: &Receiver<String>, start: &[u8]) -> Block {
        let mut bytes = spare.try_recv().map(String::into_bytes).unwrap_or_default();
        if bytes.len() < start.len() {
            bytes.resize(start.len(), 0);
        }
        if let Some(head) = bytes.get_mut(..start.len()) {
            head.copy_from_slice(start);
        }
        Block {
            bytes,
            filled: start.len(),
        }
    }

    fn read(&self) -> &[u8] {
        self.bytes.get(..self.filled).unwrap_or_default()
    }

    /// Its first `n` read bytes, as a buffer.
    fn into_first(mut self, n: usize) -> Vec<u8> {
        self.bytes.truncate(n.min(self.filled));
        self.bytes
    }

    /// Read until at least `len` bytes are filled, and fewer than [`super::MAX_LINE`]; returns
    /// whether the source ended first. On an error, what was read before it is kept.
    ///
    /// The bytes are read straight into the buffer: a buffered reader hands over what it
    /// holds, then passes a request at least as large as its buffer to the source without
    /// copying. The first request of a part is at least [`super::BUF_SIZE`], a regular file's
    /// buffer (see [`direct`]), and a regular file gives all of it. A source that gives less
    /// (a pipe whose writer is behind) has a buffer of [`super::SHORT_READ_BUF_SIZE`], and each
    /// later request is at least that large, even when less is missing: the rest of a smaller
    /// request would go through the reader's buffer. A part's buffer thus ends at most that
    /// much past `len`.
    fn fill<R: BufRead + ?Sized>(&mut self, reader: &mut R, len: usize) -> std::io::Result<bool> {
        let cap = super::MAX_LINE - 1;
        let len = len.min(cap);
        while self.filled < len {
            let end = len.max(self.filled + super::SHORT_READ_BUF_SIZE).min(cap);
            if self.bytes.len() < end {
                // Exactly: a buffer grown by doubling would hold up to twice what it needs.
                self.bytes.reserve_exact(end - self.bytes.len());
                self.bytes.resize(end, 0);
            }
            match reader.read(self.bytes.get_mut(self.filled..end).unwrap_or_default()) {
                Ok(0) => return Ok(true),
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(false)
    }
}

/// Where a part may be cut.
enum Found {
    /// Before the line starting here.
    At(usize),
    /// Not in what was read: the search resumes at this line start (or, with none, finds the
    /// first line start after the part's size again).
    More(Option<usize>),
    /// Nowhere before the end of the source.
    None,
}

/// The first line starting at or after `at` (a line start) that is whole in `buf` and where
/// `cut` holds. A line that is not plain (see [`direct`]) is passed over.
fn cut_point<C: Fn(&str) -> bool>(buf: &[u8], mut at: usize, eof: bool, cut: &C) -> Found {
    loop {
        let rest = buf.get(at..).unwrap_or_default();
        let Some(len) = memchr::memchr(b'\n', rest) else {
            return if eof {
                Found::None
            } else {
                Found::More(Some(at))
            };
        };
        let line = rest.get(..len).unwrap_or_default();
        if memchr::memchr(b'\r', line).is_none() {
            if let Ok(text) = std::str::from_utf8(line) {
                if cut(text) {
                    return Found::At(at);
                }
            }
        }
        at += len + 1;
    }
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

    /// Go on line by line with part `seq`, starting at line `first_line`.
    fn resume(&mut self, seq: u64, first_line: u32) {
        self.part = Part {
            seq,
            first_line,
            text: fresh(self.spare, self.part_bytes),
        };
    }

    /// Send `bytes`, whole lines read from the source (the last one possibly without its
    /// newline), as part `seq` starting at line `first_line`, and count its lines.
    fn emit(&mut self, bytes: Vec<u8>, seq: &mut u64, first_line: &mut u32, lines: &mut u64) {
        let plain = memchr::memchr(b'\r', &bytes).is_none();
        let (text, n) = match String::from_utf8(bytes) {
            Ok(mut text) if plain => {
                if !text.is_empty() && !text.ends_with('\n') {
                    text.push('\n');
                }
                let n = memchr::memchr_iter(b'\n', text.as_bytes()).count() as u64;
                (text, n)
            }
            Ok(text) => self.reread(text.as_bytes()),
            Err(e) => self.reread(e.as_bytes()),
        };
        let part = Part {
            seq: *seq,
            first_line: *first_line,
            text,
        };
        *seq += 1;
        *first_line = first_line.saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
        *lines += n;
        self.send(part);
    }

    /// The lines of `bytes` as [`super::for_each_line`] gives them, each followed by `\n`,
    /// and their number.
    fn reread(&self, bytes: &[u8]) -> (String, u64) {
        let mut text = fresh(self.spare, bytes.len());
        let n = super::for_each_run(
            &mut std::io::Cursor::new(bytes),
            "",
            &mut |lines| match lines {
                super::Lines::Run { text: run, .. } => text.push_str(run),
                super::Lines::One { line, .. } => {
                    text.push_str(line);
                    text.push('\n');
                }
            },
        );
        (text, n.unwrap_or_default())
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
            IN_FLIGHT,
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

    /// Gives at most `step` bytes per read, as a pipe does.
    struct Trickle {
        inner: std::io::Cursor<Vec<u8>>,
        step: usize,
    }

    impl std::io::Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.step);
            self.inner.read(buf.get_mut(..n).unwrap_or_default())
        }
    }

    /// Plain parts, odd lines (`\r`, bad UTF-8, too long), more than `MAX_LINE` bytes with no
    /// cut point, plain parts again, and a last line without its newline.
    fn mixed_source() -> Vec<u8> {
        let max = crate::read::MAX_LINE;
        let heads = |from: usize, out: &mut Vec<u8>| {
            for i in from..from + 4000 {
                out.extend_from_slice(format!("# head {i}\n  cont {i}\n").as_bytes());
            }
        };
        let mut text = Vec::new();
        heads(0, &mut text);
        text.extend_from_slice(
            b"# crlf head\r\n  cont\r\n\xff\xfe bad\n# h\xc3\xa9 ok\n# lone\rcr\n",
        );
        text.extend(std::iter::repeat_n(b'a', max + 5));
        text.extend_from_slice(b"\n");
        heads(4000, &mut text);
        while text.len() < 3 * max {
            text.extend_from_slice(b"  no cut point here\n");
        }
        heads(8000, &mut text);
        text.extend_from_slice(b"# last without newline\r");
        text
    }

    #[test]
    fn parts_hold_the_lines_line_by_line_reading_gives() {
        let text = mixed_source();
        let (expected, n) = line_by_line(&text);
        let cases = [
            (1, 7, usize::MAX),
            (300, 512, usize::MAX),
            (4096, 4096, 1000),
            (PART_BYTES, crate::read::BUF_SIZE, usize::MAX),
            (PART_BYTES, crate::read::BUF_SIZE, 65536),
            (PART_BYTES, crate::read::SHORT_READ_BUF_SIZE, 65536),
            (PART_BYTES, crate::read::SHORT_READ_BUF_SIZE, 5000),
            (PART_BYTES, 1000, usize::MAX),
        ];
        for (part_bytes, cap, step) in cases {
            let mut reader = std::io::BufReader::with_capacity(
                cap,
                Trickle {
                    inner: std::io::Cursor::new(text.clone()),
                    step,
                },
            );
            let (seen, m) = parts_of(&mut reader, part_bytes);
            assert_eq!(
                m, n,
                "part {part_bytes}, buffer {cap}, step {step}: line count"
            );
            assert!(
                seen == expected,
                "part {part_bytes}, buffer {cap}, step {step}: lines differ"
            );
        }
        // A reader that holds the whole source at once, also one whose only odd line is too
        // long.
        let mut plain_long: Vec<u8> = b"# a\n".repeat(1000);
        plain_long.extend(std::iter::repeat_n(b'x', crate::read::MAX_LINE + 5));
        plain_long.extend_from_slice(b"\n# b\n");
        for source in [&text, &plain_long] {
            let (expected, n) = line_by_line(source);
            for part_bytes in [300, PART_BYTES] {
                let (seen, m) = parts_of(&mut std::io::Cursor::new(source.clone()), part_bytes);
                assert_eq!(m, n, "part {part_bytes}, whole source held: line count");
                assert!(
                    seen == expected,
                    "part {part_bytes}, whole source held: lines differ"
                );
            }
        }
    }

    /// From a source that gives less than asked (a pipe whose writer is behind), with the
    /// buffer such sources get, no part's buffer holds more than its size, the look-ahead and
    /// one short-read buffer.
    #[test]
    fn short_reads_do_not_grow_part_buffers() {
        let mut text = Vec::new();
        for i in 0..400_000 {
            text.extend_from_slice(format!("# head {i}\n  cont {i}\n").as_bytes());
        }
        let bound = PART_BYTES + LOOKAHEAD + crate::read::SHORT_READ_BUF_SIZE;
        for step in [4096, 65536, 200_000, 300_000] {
            let mut reader = std::io::BufReader::with_capacity(
                crate::read::SHORT_READ_BUF_SIZE,
                Trickle {
                    inner: std::io::Cursor::new(text.clone()),
                    step,
                },
            );
            let (mut parts, mut largest) = (0, 0);
            run(
                &mut reader,
                "t",
                PART_BYTES,
                IN_FLIGHT,
                2,
                &|l: &str| l.starts_with('#'),
                &|| (),
                &|_: &mut (), _: &Part| (),
                &mut |p, ()| {
                    parts += 1;
                    largest = largest.max(p.text.capacity());
                },
            )
            .unwrap_or(0);
            assert!(parts > 10, "step {step}: {parts} parts");
            assert!(
                largest <= bound,
                "step {step}: a part's buffer of {largest} bytes (at most {bound})"
            );
        }
    }

    /// The numbered lines of `bytes` as `for_each_line` reads them, and their number.
    fn line_by_line(bytes: &[u8]) -> (Vec<(u32, String)>, u64) {
        let mut lines = Vec::new();
        let n = crate::read::for_each_line(
            &mut std::io::Cursor::new(bytes.to_vec()),
            "t",
            &mut |no, l| lines.push((no, l.to_string())),
        )
        .unwrap_or(0);
        (lines, n)
    }

    /// The numbered lines of the parts `run` reads from `reader` (cut before `#` lines, two
    /// workers), and the line count it returns.
    fn parts_of<R: BufRead + Send>(reader: &mut R, part_bytes: usize) -> (Vec<(u32, String)>, u64) {
        let mut seen = Vec::new();
        let n = run(
            reader,
            "t",
            part_bytes,
            IN_FLIGHT,
            2,
            &|l: &str| l.starts_with('#'),
            &|| (),
            &|_: &mut (), p: &Part| {
                p.lines()
                    .map(|(n, l)| (n, l.to_string()))
                    .collect::<Vec<_>>()
            },
            &mut |_, out| seen.extend(out),
        )
        .unwrap_or(0);
        (seen, n)
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
            IN_FLIGHT,
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
