//! Reading a log file as it grows, like `tail -F`: lines are handed on as they are completed;
//! at the end of the file the reader waits and looks again every poll interval. A file that
//! shrinks was truncated: it is read again from its start. A file whose name now points to
//! another file was rotated (renamed, or removed, and created anew): the old file is read to its
//! end first, then the new one is opened by name and read from its start. Either way the line
//! numbers start again at 1, so evidence names the line of the file as it now is.

use super::{strip_eol, ReadError, CUT_MARK, MAX_LINE};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// What the tail reader hands on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tailed {
    /// A complete line (without its terminator) and its 1-based number in the file.
    Line(u32, String),
    /// The file was truncated or replaced: what follows is a new file, numbered from 1.
    Restart,
}

/// The identity of an open file (device and inode), to tell a replaced file from the same one.
#[cfg(unix)]
fn identity(meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn identity(_meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

struct Open {
    reader: BufReader<File>,
    id: Option<(u64, u64)>,
    /// Bytes consumed (complete lines and the partial one).
    pos: u64,
    line: u32,
    /// The last line's bytes so far, while its newline has not been written yet.
    partial: Vec<u8>,
}

impl Open {
    fn new(path: &Path, name: &str) -> Result<Open, ReadError> {
        let file = File::open(path).map_err(|e| ReadError::io(name, e))?;
        let id = file.metadata().ok().as_ref().and_then(identity);
        Ok(Open {
            reader: BufReader::with_capacity(super::BUF_SIZE, file),
            id,
            pos: 0,
            line: 0,
            partial: Vec::new(),
        })
    }

    /// Hand on every complete line available now; returns false when `emit` wants no more.
    fn drain(
        &mut self,
        name: &str,
        emit: &mut dyn FnMut(Tailed) -> bool,
    ) -> Result<bool, ReadError> {
        loop {
            let chunk = match self.reader.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ReadError::reading(name, e)),
            };
            if chunk.is_empty() {
                return Ok(true);
            }
            let (take, done) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            // A runaway line is cut at MAX_LINE (the rest up to its newline is dropped).
            let room = (MAX_LINE + 1).saturating_sub(self.partial.len());
            self.partial.extend_from_slice(&chunk[..take.min(room)]);
            self.reader.consume(take);
            self.pos += take as u64;
            if done && !self.emit_partial(emit) {
                return Ok(false);
            }
        }
    }

    /// Hand on the line collected so far (if any) as a complete line.
    fn emit_partial(&mut self, emit: &mut dyn FnMut(Tailed) -> bool) -> bool {
        if self.partial.is_empty() {
            return true;
        }
        self.line = self.line.saturating_add(1);
        let cut = self.partial.len() > MAX_LINE && !self.partial.ends_with(b"\n");
        self.partial.truncate(MAX_LINE.max(1));
        let text = String::from_utf8_lossy(strip_eol(&self.partial)).into_owned();
        self.partial.clear();
        let text = if cut {
            format!("{text}{CUT_MARK}")
        } else {
            text
        };
        emit(Tailed::Line(self.line, text))
    }
}

/// Follow the file at `path` (display name `name`) until `stop` is set or `emit` returns false,
/// looking for new lines every `poll` once the end is reached.
pub fn follow(
    path: &Path,
    name: &str,
    poll: Duration,
    stop: &AtomicBool,
    emit: &mut dyn FnMut(Tailed) -> bool,
) -> Result<(), ReadError> {
    let mut open = Open::new(path, name)?;
    loop {
        if !open.drain(name, emit)? {
            return Ok(());
        }
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        // At the end: was the file replaced, or truncated?
        let now = std::fs::metadata(path).ok();
        let replaced = match (&now, open.id) {
            (Some(meta), Some(id)) => identity(meta).is_some_and(|n| n != id),
            _ => false,
        };
        if replaced {
            // Finish the old file (lines written before the rename), then take the new one.
            if !open.drain(name, emit)? || !open.emit_partial(emit) {
                return Ok(());
            }
            // Gone again between the look and the open: look again later.
            if let Ok(next) = Open::new(path, name) {
                open = next;
                if !emit(Tailed::Restart) {
                    return Ok(());
                }
                continue;
            }
        } else if now.as_ref().is_some_and(|m| m.len() < open.pos) {
            open.reader
                .seek(SeekFrom::Start(0))
                .map_err(|e| ReadError::reading(name, e))?;
            // What was collected of an unfinished line belonged to the old content.
            open.partial.clear();
            open.pos = 0;
            open.line = 0;
            if !emit(Tailed::Restart) {
                return Ok(());
            }
            continue;
        }
        std::thread::sleep(poll);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::mpsc;

    /// Run the tail on a thread; its items come through the returned channel.
    fn start(path: &Path, stop: std::sync::Arc<AtomicBool>) -> mpsc::Receiver<Tailed> {
        let (tx, rx) = mpsc::channel();
        let path = path.to_path_buf();
        std::thread::spawn(move || {
            follow(&path, "log", Duration::from_millis(20), &stop, &mut |t| {
                tx.send(t).is_ok()
            })
        });
        rx
    }

    fn next(rx: &mpsc::Receiver<Tailed>) -> Tailed {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(t) => t,
            Err(e) => panic!("no line from the tail: {e}"),
        }
    }

    fn append(path: &Path, text: &str) {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .expect("open for append");
        f.write_all(text.as_bytes()).expect("append");
    }

    #[test]
    fn follows_growth_truncation_and_rotation() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("agent.log");
        append(&path, "one\ntw");
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let rx = start(&path, stop.clone());
        assert_eq!(next(&rx), Tailed::Line(1, "one".into()));
        // The unfinished line waits for its newline.
        append(&path, "o\r\n");
        assert_eq!(next(&rx), Tailed::Line(2, "two".into()));
        // Truncated: read again from the start.
        std::fs::write(&path, "").expect("truncate");
        assert_eq!(next(&rx), Tailed::Restart);
        append(&path, "three\n");
        assert_eq!(next(&rx), Tailed::Line(1, "three".into()));
        // Rotated: the old file's last lines first, then the new file.
        append(&path, "four\n");
        std::fs::rename(&path, dir.path().join("agent.log.1")).expect("rename");
        append(&dir.path().join("agent.log.1"), "five\n");
        assert_eq!(next(&rx), Tailed::Line(2, "four".into()));
        append(&path, "six\n");
        let rest: Vec<Tailed> = (0..3).map(|_| next(&rx)).collect();
        assert_eq!(
            rest,
            vec![
                Tailed::Line(3, "five".into()),
                Tailed::Restart,
                Tailed::Line(1, "six".into())
            ]
        );
        stop.store(true, Ordering::Relaxed);
    }
}
