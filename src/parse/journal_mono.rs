//! journalctl `short-monotonic` (`[12345.678901] host ident[pid]: msg`) and `short-delta`
//! (`[12345.678901 <    0.000512>] …`, `*` in place of the space when the delta is unreliable).
//! The time is seconds since boot: no wall-clock instant can be derived from it.

use super::journal::with_tail;
use super::time::RawTime;
use super::Head;
use crate::model::Shape;

/// `  12345.678901` (seconds right-aligned to 5 columns) → microseconds; the rest after it.
fn secs(i: &str) -> Option<(i64, &str)> {
    let i = i.trim_start_matches(' ');
    let int_len = i.bytes().take_while(u8::is_ascii_digit).count();
    if int_len == 0 || int_len > 12 {
        return None;
    }
    let frac = i.get(int_len..)?.strip_prefix('.')?;
    let frac_len = frac.bytes().take_while(u8::is_ascii_digit).count();
    if frac_len != 6 {
        return None;
    }
    let s: i64 = i.get(..int_len)?.parse().ok()?;
    let us: i64 = frac.get(..6)?.parse().ok()?;
    Some((s.checked_mul(1_000_000)?.checked_add(us)?, frac.get(6..)?))
}

/// Parse a `short-monotonic` or `short-delta` line.
pub(crate) fn parse(line: &str) -> Option<Head<'_>> {
    let (mono, rest) = secs(line.strip_prefix('[')?)?;
    let (shape, rest) = match rest.strip_prefix(']') {
        Some(rest) => (Shape::JournalShortMonotonic, rest),
        None => {
            let rest = rest.strip_prefix([' ', '*'])?.strip_prefix('<')?;
            let (_, rest) = secs(rest)?;
            let rest = rest.trim_start_matches(' ').strip_prefix(">]")?;
            (Shape::JournalShortDelta, rest)
        }
    };
    with_tail(
        shape,
        RawTime::SinceBoot(mono),
        line,
        rest.strip_prefix(' ')?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic_and_delta() {
        let h = parse("[   12.345678] gw-1 python[2844586]: ⚠️  API call failed").unwrap();
        assert_eq!(h.shape, Shape::JournalShortMonotonic);
        assert_eq!(h.time, RawTime::SinceBoot(12_345_678));
        assert_eq!((h.host.as_deref(), h.pid), (Some("gw-1"), Some(2_844_586)));
        assert_eq!(h.message, "⚠️  API call failed");
        let h = parse("[12345.678901 <    0.000512>] gw-1 python[7]: m").unwrap();
        assert_eq!(h.shape, Shape::JournalShortDelta);
        let h = parse("[12345.678901*<    0.000512 >] python[7]: m").unwrap();
        assert_eq!((h.host, h.ident.as_deref()), (None, Some("python")));
        assert!(parse("[hermes] m").is_none());
        assert!(parse("[12.5] gw-1 python[7]: m").is_none());
    }
}
