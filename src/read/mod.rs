//! Input sources: files, directories, stdin; `.gz` / `.zst` decompression; line splitting.
//!
//! A directory argument expands to the Hermes files it holds (and, for a `HERMES_HOME`, the
//! ones in its `logs/` subdirectory):
//! 1. `agent.log.N` … `agent.log.1`, `agent.log` (rotated files oldest first),
//! 2. then `errors.log*`, then `gateway.log*` (same order),
//! 3. then, sorted by path: `*.json` snapshots (not `request_dump_*.json`) and `stdout*.txt`
//!    console captures (hint [`SourceHint::Unknown`]: the pipeline sniffs them),
//! 4. then `auth-list*.txt` captures, sorted by path, with hint [`SourceHint::AuthList`].
//!
//! Each of these may also carry a `.gz` or `.zst` suffix. Other files come last, sorted by path
//! ([`Pick::Content`]): the caller reads them only when their content is a log.

pub mod chunks;
pub mod issue_body;
pub mod tail;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Buffer size for input readers.
pub const BUF_SIZE: usize = 256 * 1024;

/// Buffer size for a source whose reads may give less than asked: standard input, a path that
/// is no regular file (a FIFO, `/dev/fd/N`), a decompressor. A part read from it in one piece
/// ([`chunks`]) asks for at least this much after a short read, which goes past the buffer
/// (no copy through it) and grows the part's buffer by at most this much.
pub const SHORT_READ_BUF_SIZE: usize = 64 * 1024;

/// Default cap for [`read_to_string_limited`] on auth files.
pub const AUTH_FILE_LIMIT: u64 = 64 * 1024 * 1024;

/// Display name of standard input.
pub const STDIN_NAME: &str = "<stdin>";

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

/// What kind of content a source holds, as far as the path tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceHint {
    /// Unknown: sniff the content.
    Unknown,
    /// Forced auth.json (`--auth FILE`).
    AuthJson,
    /// Forced `hermes auth list` capture (`--auth-list FILE`).
    AuthList,
}

/// One input to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputSpec {
    /// Display name: the path as given, or `<stdin>`.
    pub name: String,
    /// None for stdin.
    pub path: Option<PathBuf>,
    pub hint: SourceHint,
    /// Text already read: a paste taken out of an issue body (read instead of `path`), or the
    /// first bytes of standard input read to sniff it (read before the rest of stdin).
    pub content: Option<std::sync::Arc<Content>>,
}

/// Text of an input held in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    pub bytes: Vec<u8>,
    /// Added to every line number (a paste's place in its document).
    pub line_offset: u32,
    /// The bytes are only the start of standard input: the rest follows.
    pub then_stdin: bool,
}

impl InputSpec {
    /// The standard-input spec.
    pub fn stdin() -> Self {
        InputSpec {
            name: STDIN_NAME.to_string(),
            path: None,
            hint: SourceHint::Unknown,
            content: None,
        }
    }

    /// A file spec named after its path.
    pub fn file(path: PathBuf, hint: SourceHint) -> Self {
        InputSpec {
            name: path.display().to_string(),
            path: Some(path),
            hint,
            content: None,
        }
    }

    /// Added to the line numbers of this input (0 unless it is a paste of a document).
    pub fn line_offset(&self) -> u32 {
        self.content.as_ref().map_or(0, |c| c.line_offset)
    }
}

/// Errors while opening or reading inputs. Display is `path: what is wrong`.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Any I/O failure (open, read, list a directory).
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The path given does not exist.
    #[error("{path}: no such file or directory")]
    NotFound { path: String },
    /// Compressed data that cannot be decoded.
    #[error("{path}: corrupt compressed data: {source}")]
    Corrupt {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A file bigger than the limit for its kind.
    #[error("{path}: larger than {limit} bytes")]
    TooLarge { path: String, limit: u64 },
}

impl ReadError {
    fn io(path: &str, source: io::Error) -> Self {
        ReadError::Io {
            path: path.to_string(),
            source,
        }
    }

    /// Classify an error raised while reading decoded data.
    fn reading(path: &str, source: io::Error) -> Self {
        match source.kind() {
            io::ErrorKind::InvalidData
            | io::ErrorKind::InvalidInput
            | io::ErrorKind::UnexpectedEof => ReadError::Corrupt {
                path: path.to_string(),
                source,
            },
            _ => ReadError::io(path, source),
        }
    }
}

/// Expand paths (directories → their Hermes log files and `*.json` snapshots) into inputs.
/// `-` or an empty list means stdin. Files inside a directory are opened once to check that
/// they are readable. Files of a directory whose name is not a Hermes one are left out (see
/// [`expand_paths`] for them).
pub fn expand_inputs(paths: &[PathBuf]) -> Result<Vec<InputSpec>, ReadError> {
    Ok(expand_paths(paths)?
        .into_iter()
        .filter(|e| e.pick != Pick::Content)
        .map(|e| e.spec)
        .collect())
}

/// Why an input is in the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// Named on the command line (a file, or `-`).
    Given,
    /// A file of a directory with a Hermes name (`agent.log*`, `*.json`, ...).
    Name,
    /// Another file of a directory: read only when its content is a log (the caller sniffs).
    Content,
}

/// One input of [`expand_paths`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expanded {
    pub spec: InputSpec,
    pub pick: Pick,
}

/// A directory argument that holds no file at all (nor a `logs/` with one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmptyDir(pub String);

/// Like [`expand_inputs`], but keeps every regular file of a directory: those with a Hermes
/// name first (in the order of the module documentation), then the others sorted by path,
/// marked [`Pick::Content`]. Also returns the directories that held no file.
pub fn expand_paths(paths: &[PathBuf]) -> Result<Vec<Expanded>, ReadError> {
    Ok(expand_paths_reporting(paths)?.0)
}

/// [`expand_paths`] and the directory arguments that held no file.
pub fn expand_paths_reporting(
    paths: &[PathBuf],
) -> Result<(Vec<Expanded>, Vec<EmptyDir>), ReadError> {
    let given = |spec| Expanded {
        spec,
        pick: Pick::Given,
    };
    if paths.is_empty() {
        return Ok((vec![given(InputSpec::stdin())], Vec::new()));
    }
    let mut out = Vec::new();
    let mut empty = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            out.push(given(InputSpec::stdin()));
            continue;
        }
        let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => ReadError::NotFound {
                path: path.display().to_string(),
            },
            _ => ReadError::io(&path.display().to_string(), e),
        })?;
        if !meta.is_dir() {
            out.push(given(InputSpec::file(path.clone(), SourceHint::Unknown)));
            continue;
        }
        let mut found = hermes_files(path)?;
        let logs = path.join("logs");
        if logs.is_dir() {
            found.extend(hermes_files(&logs)?);
        }
        if found.is_empty() {
            empty.push(EmptyDir(path.display().to_string()));
        }
        found.sort_by(|a, b| a.0.cmp(&b.0));
        for ((group, ..), file) in found {
            File::open(&file).map_err(|e| ReadError::io(&file.display().to_string(), e))?;
            let hint = if group == AUTH_LIST_GROUP {
                SourceHint::AuthList
            } else {
                SourceHint::Unknown
            };
            let pick = if group == CONTENT_GROUP {
                Pick::Content
            } else {
                Pick::Name
            };
            out.push(Expanded {
                spec: InputSpec::file(file, hint),
                pick,
            });
        }
    }
    Ok((out, empty))
}

/// Pick group of the files whose name says nothing: read when their content is a log.
const CONTENT_GROUP: u8 = 5;

/// Pick group of `auth-list*.txt` captures (after the other non-log files).
const AUTH_LIST_GROUP: u8 = 4;

/// Sort key of a picked file: (group, reverse rotation number, path).
type PickKey = (u8, std::cmp::Reverse<u32>, PathBuf);

/// The Hermes files directly in `dir`, with their sort keys.
fn hermes_files(dir: &Path) -> Result<Vec<(PickKey, PathBuf)>, ReadError> {
    let dir_name = dir.display().to_string();
    let entries = std::fs::read_dir(dir).map_err(|e| ReadError::io(&dir_name, e))?;
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| ReadError::io(&dir_name, e))?;
        let path = entry.path();
        if path.is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let (group, rotation) = match pick(&name) {
            Some(p) => p,
            // Sockets, FIFOs, dangling links: not files to sniff.
            None if !path.is_file() => continue,
            None => (CONTENT_GROUP, 0),
        };
        out.push(((group, std::cmp::Reverse(rotation), path.clone()), path));
    }
    Ok(out)
}

/// Whether a file name is picked from a directory: Some((group, rotation number)).
fn pick(name: &str) -> Option<(u8, u32)> {
    let base = name
        .strip_suffix(".gz")
        .or_else(|| name.strip_suffix(".zst"))
        .unwrap_or(name);
    for (group, stem) in ["agent.log", "errors.log", "gateway.log"]
        .iter()
        .enumerate()
    {
        if let Some(rest) = base.strip_prefix(stem) {
            let rotation = match rest.strip_prefix('.') {
                None if rest.is_empty() => 0,
                Some(n) => n.parse().ok()?,
                None => return None,
            };
            return Some((u8::try_from(group).unwrap_or(u8::MAX), rotation));
        }
    }
    if base.starts_with("auth-list") && base.ends_with(".txt") {
        return Some((AUTH_LIST_GROUP, 0));
    }
    let other = (base.ends_with(".json") && !base.starts_with("request_dump_"))
        || (base.starts_with("stdout") && base.ends_with(".txt"));
    other.then_some((3, 0))
}

/// Whether standard input has reached its end once.
static STDIN_EOF: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Standard input whose end stays the end: a terminal returns end of input once per Ctrl-D and
/// then waits again, while the sniffing and the buffered readers ask again after it; one Ctrl-D
/// must end the input.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stdin;

impl Read for Stdin {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use std::sync::atomic::Ordering;
        if buf.is_empty() {
            return Ok(0);
        }
        if STDIN_EOF.load(Ordering::Relaxed) {
            return Ok(0);
        }
        static WIDEN: std::sync::Once = std::sync::Once::new();
        WIDEN.call_once(widen_stdin_pipe);
        let n = io::stdin().read(buf)?;
        if n == 0 {
            STDIN_EOF.store(true, Ordering::Relaxed);
        }
        Ok(n)
    }
}

/// Bytes a pipe on standard input is asked to hold (Linux's default limit for a user).
#[cfg(target_os = "linux")]
const STDIN_PIPE_BYTES: usize = 1 << 20;

/// Widen the pipe on standard input, when it is one, from the kernel's 64 KiB (before its first
/// read). With 64 KiB, the writer (`cat`, `journalctl`) and the reader take turns on every
/// 64 KiB, each waiting to be woken, and the analysis is left with little more than one core.
/// A refusal (not a pipe, a lower limit) leaves it as it is.
fn widen_stdin_pipe() {
    #[cfg(target_os = "linux")]
    {
        let _ = rustix::pipe::fcntl_setpipe_size(io::stdin(), STDIN_PIPE_BYTES);
    }
}

/// Compression of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Codec {
    Plain,
    Gzip,
    Zstd,
}

/// Open an input for buffered reading, decompressing `.gz` / `.zst` on the fly. Compression is
/// recognised by extension and by magic bytes (so stdin and misnamed files work too); an empty
/// input is read as empty text whatever its name.
pub fn open(spec: &InputSpec) -> Result<Box<dyn BufRead + Send>, ReadError> {
    open_inner(spec, false)
}

/// [`open`], with a progress line on standard error while standard input is read (bytes read
/// and rate), when standard error is a terminal and standard input is not (a pipe, a file):
/// the counterpart of the progress bar of large files. It is cleared at the end of input.
pub fn open_showing_stdin(spec: &InputSpec) -> Result<Box<dyn BufRead + Send>, ReadError> {
    open_inner(spec, true)
}

fn open_inner(spec: &InputSpec, show_stdin: bool) -> Result<Box<dyn BufRead + Send>, ReadError> {
    let stdin = || -> Box<dyn Read + Send> {
        match show_stdin.then(stdin_progress).flatten() {
            Some(bar) => Box::new(bar.wrap_read(Stdin)),
            None => Box::new(Stdin),
        }
    };
    if let Some(c) = &spec.content {
        let held = io::Cursor::new(c.bytes.clone());
        return if c.then_stdin {
            wrap(
                BufReader::with_capacity(SHORT_READ_BUF_SIZE, held.chain(stdin())),
                None,
                &spec.name,
            )
        } else {
            Ok(Box::new(held))
        };
    }
    match &spec.path {
        None => wrap(
            BufReader::with_capacity(SHORT_READ_BUF_SIZE, stdin()),
            None,
            &spec.name,
        ),
        Some(path) => {
            let file = File::open(path).map_err(|e| ReadError::io(&spec.name, e))?;
            let capacity = if file.metadata().is_ok_and(|m| m.is_file()) {
                BUF_SIZE
            } else {
                SHORT_READ_BUF_SIZE
            };
            let source: Box<dyn Read + Send> = match progress_bar(&file, &spec.name) {
                Some(bar) => Box::new(bar.wrap_read(file)),
                None => Box::new(file),
            };
            wrap(
                BufReader::with_capacity(capacity, source),
                Some(path),
                &spec.name,
            )
        }
    }
}

/// Files at least this large show a progress bar.
const PROGRESS_MIN_BYTES: u64 = 64 * 1024 * 1024;

/// A progress bar on standard error for reading a large file, only when standard error is a
/// terminal; it is cleared when the file has been read.
fn progress_bar(file: &File, name: &str) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    let len = file.metadata().ok()?.len();
    if len < PROGRESS_MIN_BYTES || !io::stderr().is_terminal() {
        return None;
    }
    let style = indicatif::ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    )
    .ok()?
    .progress_chars("=> ");
    Some(
        indicatif::ProgressBar::with_draw_target(
            Some(len),
            indicatif::ProgressDrawTarget::stderr(),
        )
        .with_style(style)
        .with_message(name.to_string())
        .with_finish(indicatif::ProgressFinish::AndClear),
    )
}

/// A progress line for standard input (its size is unknown: bytes read and rate), only when
/// standard error is a terminal and standard input is not.
fn stdin_progress() -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !io::stderr().is_terminal() || io::stdin().is_terminal() {
        return None;
    }
    let style = indicatif::ProgressStyle::with_template(
        "{spinner} {msg}: {bytes} read, {bytes_per_sec} ({elapsed})",
    )
    .ok()?;
    Some(
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr())
            .with_style(style)
            .with_message(STDIN_NAME)
            .with_finish(indicatif::ProgressFinish::AndClear),
    )
}

fn wrap<R: BufRead + Send + 'static>(
    mut inner: R,
    path: Option<&Path>,
    name: &str,
) -> Result<Box<dyn BufRead + Send>, ReadError> {
    let head = inner.fill_buf().map_err(|e| ReadError::io(name, e))?;
    let ext = path.and_then(|p| p.extension()).and_then(|e| e.to_str());
    let codec = if head.is_empty() {
        Codec::Plain
    } else if head.starts_with(GZIP_MAGIC) || ext == Some("gz") {
        Codec::Gzip
    } else if head.starts_with(ZSTD_MAGIC) || ext == Some("zst") {
        Codec::Zstd
    } else {
        Codec::Plain
    };
    Ok(match codec {
        Codec::Plain => Box::new(inner),
        Codec::Gzip => Box::new(BufReader::with_capacity(
            SHORT_READ_BUF_SIZE,
            flate2::bufread::MultiGzDecoder::new(inner),
        )),
        Codec::Zstd => {
            let decoder = zstd::stream::read::Decoder::with_buffer(inner)
                .map_err(|e| ReadError::reading(name, e))?;
            Box::new(BufReader::with_capacity(SHORT_READ_BUF_SIZE, decoder))
        }
    })
}

/// Longest line kept whole. Hermes never writes lines this long; a longer one (a runaway dump,
/// a file without newlines) is cut here so memory stays bounded, and its end is replaced by
/// [`CUT_MARK`].
pub const MAX_LINE: usize = 1024 * 1024;

/// Appended to a line cut at [`MAX_LINE`] bytes.
pub const CUT_MARK: &str = " …[line cut at 1 MiB]";

/// Read lines from `reader`, decoding invalid UTF-8 lossily and stripping `\n` / `\r\n` (and a
/// trailing `\r` on the last line); calls `f(line_no, line)` with 1-based numbers. Reuses one
/// buffer (no per-line allocation for valid UTF-8). Lines longer than [`MAX_LINE`] are cut.
/// Returns the number of lines read. Line numbers saturate at `u32::MAX`.
pub fn for_each_line<R: BufRead + ?Sized>(
    reader: &mut R,
    path: &str,
    f: &mut dyn FnMut(u32, &str),
) -> Result<u64, ReadError> {
    let mut buf = Vec::with_capacity(4096);
    let mut count: u64 = 0;
    while next_line(reader, path, &mut buf, &mut count, f)? {}
    Ok(count)
}

/// Read one line into `buf` (at most [`MAX_LINE`] bytes kept), count it in `count` and hand it
/// to `f` without its terminator, decoded lossily, with [`CUT_MARK`] when cut. Returns false at
/// the end of input.
fn next_line<R: BufRead + ?Sized>(
    reader: &mut R,
    path: &str,
    buf: &mut Vec<u8>,
    count: &mut u64,
    f: &mut dyn FnMut(u32, &str),
) -> Result<bool, ReadError> {
    buf.clear();
    let (n, cut) = read_line_capped(reader, buf).map_err(|e| ReadError::reading(path, e))?;
    if n == 0 {
        return Ok(false);
    }
    *count += 1;
    let no = u32::try_from(*count).unwrap_or(u32::MAX);
    let bytes = strip_eol(buf);
    // `str::from_utf8` validates ASCII runs word-wise; `from_utf8_lossy` walks every byte.
    let line = match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    };
    if cut {
        f(no, &format!("{line}{CUT_MARK}"));
    } else {
        f(no, &line);
    }
    Ok(true)
}

/// What [`for_each_run`] hands on.
pub enum Lines<'a> {
    /// Whole lines as read, each followed by `\n`: `count` of them from line `first`.
    Run {
        first: u32,
        text: &'a str,
        count: u32,
    },
    /// One line as [`for_each_line`] gives it (without its terminator).
    One { no: u32, line: &'a str },
}

/// [`for_each_line`] in runs: whole lines that it would pass on unchanged (shorter than
/// [`MAX_LINE`], no `\r`, valid UTF-8) come as one [`Lines::Run`], as many at a time as the
/// reader's buffer holds; every other line comes as a [`Lines::One`] exactly as
/// [`for_each_line`] gives it. Returns the lines read.
pub fn for_each_run<R: BufRead + ?Sized>(
    reader: &mut R,
    path: &str,
    f: &mut dyn FnMut(Lines<'_>),
) -> Result<u64, ReadError> {
    let mut buf = Vec::with_capacity(4096);
    let mut count: u64 = 0;
    loop {
        let chunk = match reader.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ReadError::reading(path, e)),
        };
        if chunk.is_empty() {
            return Ok(count);
        }
        let (end, n) = clean_lines(chunk);
        let head = chunk.get(..end).unwrap_or_default();
        let (text, n) = match simdutf8::compat::from_utf8(head) {
            Ok(text) => (text, n),
            Err(e) => {
                // The run ends before the line that is not UTF-8.
                let valid = head.get(..e.valid_up_to()).unwrap_or_default();
                let end = memchr::memrchr(b'\n', valid).map_or(0, |i| i + 1);
                let whole = valid.get(..end).unwrap_or_default();
                let n = memchr::memchr_iter(b'\n', whole).count() as u32;
                (std::str::from_utf8(whole).unwrap_or_default(), n)
            }
        };
        if n > 0 {
            let end = text.len();
            f(Lines::Run {
                first: u32::try_from(count + 1).unwrap_or(u32::MAX),
                text,
                count: n,
            });
            count += u64::from(n);
            reader.consume(end);
            continue;
        }
        if !next_line(reader, path, &mut buf, &mut count, &mut |no, line| {
            f(Lines::One { no, line })
        })? {
            return Ok(count);
        }
    }
}

/// The leading whole lines of `chunk` that [`for_each_line`] passes on unchanged if they are
/// UTF-8 (the caller checks that of all of them at once): their length in bytes (newlines
/// included) and their number. Stops at the first line that is too long or holds a `\r`.
fn clean_lines(chunk: &[u8]) -> (usize, u32) {
    let cr = memchr::memchr(b'\r', chunk).unwrap_or(usize::MAX);
    if chunk.len() < MAX_LINE {
        // No line of the chunk is too long: the run is every line before the first `\r`'s, its
        // end found from the back and its newlines counted at once.
        let before_cr = chunk.get(..cr.min(chunk.len())).unwrap_or_default();
        let end = memchr::memrchr(b'\n', before_cr).map_or(0, |nl| nl + 1);
        let run = chunk.get(..end).unwrap_or_default();
        return (end, memchr::memchr_iter(b'\n', run).count() as u32);
    }
    let mut end = 0;
    let mut n: u32 = 0;
    for nl in memchr::memchr_iter(b'\n', chunk) {
        let Some(line) = chunk.get(end..nl) else {
            break;
        };
        if line.len() >= MAX_LINE || cr < nl || n == u32::MAX {
            break;
        }
        end = nl + 1;
        n += 1;
    }
    (end, n)
}

/// Like `read_until(b'\n')`, but keeps at most [`MAX_LINE`] bytes of the line (the rest up to
/// the newline is consumed and dropped). Returns the bytes consumed and whether the line was cut.
fn read_line_capped<R: BufRead + ?Sized>(
    reader: &mut R,
    buf: &mut Vec<u8>,
) -> io::Result<(usize, bool)> {
    let mut consumed = 0;
    let mut cut = false;
    loop {
        let chunk = match reader.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok((consumed, cut));
        }
        let (take, done) = match memchr::memchr(b'\n', chunk) {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        let room = MAX_LINE.saturating_sub(buf.len());
        let keep = chunk.get(..take.min(room)).unwrap_or_default();
        buf.extend_from_slice(keep);
        cut |= keep.len() < take && !(done && keep.len() + 1 == take);
        reader.consume(take);
        consumed += take;
        if done {
            return Ok((consumed, cut));
        }
    }
}

fn strip_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The first `n` lines of what the reader currently holds in its buffer, without consuming
/// them (for format sniffing). A last line cut by the buffer end is included. Fewer lines are
/// returned when the buffer holds fewer.
pub fn peek_lines<R: BufRead + ?Sized>(
    reader: &mut R,
    path: &str,
    n: usize,
) -> Result<Vec<String>, ReadError> {
    let buf = reader.fill_buf().map_err(|e| ReadError::reading(path, e))?;
    Ok(buf
        .split_inclusive(|&b| b == b'\n')
        .take(n)
        .map(|l| String::from_utf8_lossy(strip_eol(l)).into_owned())
        .collect())
}

/// Read a whole (decompressed) input into a string, lossily decoded; fails with
/// [`ReadError::TooLarge`] beyond `limit` bytes. Meant for auth files.
pub fn read_to_string_limited(spec: &InputSpec, limit: u64) -> Result<String, ReadError> {
    let mut reader = open(spec)?;
    read_rest_limited(&mut *reader, &spec.name, limit)
}

/// Read the rest of an already opened `reader` (e.g. after [`peek_lines`]) into a string,
/// failing beyond `limit` bytes. Invalid UTF-8 is decoded lossily.
pub fn read_rest_limited<R: BufRead + ?Sized>(
    reader: &mut R,
    path: &str,
    limit: u64,
) -> Result<String, ReadError> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::reading(path, e))?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            path: path.to_string(),
            limit,
        });
    }
    Ok(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}
