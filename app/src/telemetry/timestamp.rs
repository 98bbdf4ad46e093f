//! RFC 3339 timestamps in UTC with microseconds (`2026-11-26T09:48:59.123456Z`), the form
//! `tracing-subscriber`'s default timer writes, so access lines and other lines read alike.
//! That timer works the date out and formats it through `fmt` on every line; this one does the
//! calendar once a second and copies (docs/benchmarks/README.md has the measurement).

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

/// Bytes of `YYYY-MM-DDTHH:MM:SS`.
const SECOND_LEN: usize = 19;

thread_local! {
    /// The last second formatted on this thread: most lines share their second with the previous
    /// one, so the calendar arithmetic runs about once a second per thread.
    static LAST_SECOND: RefCell<(u64, [u8; SECOND_LEN])> = const { RefCell::new((u64::MAX, [0; SECOND_LEN])) };
}

/// Appends the current time.
pub fn write_now(out: &mut Vec<u8>) {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    write(out, since_epoch.as_secs(), since_epoch.subsec_micros());
}

/// Appends `seconds` since the Unix epoch plus `micros`.
pub fn write(out: &mut Vec<u8>, seconds: u64, micros: u32) {
    LAST_SECOND.with_borrow_mut(|(cached, text)| {
        if *cached != seconds {
            *text = format_second(seconds);
            *cached = seconds;
        }
        out.extend_from_slice(text);
    });
    let mut fraction = *b".000000Z";
    let mut rest = micros.min(999_999);
    for digit in fraction[1..7].iter_mut().rev() {
        *digit = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    out.extend_from_slice(&fraction);
}

fn format_second(seconds: u64) -> [u8; SECOND_LEN] {
    let days = seconds / 86_400;
    let in_day = seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    let mut text = *b"0000-00-00T00:00:00";
    put(&mut text[0..4], year);
    put(&mut text[5..7], month);
    put(&mut text[8..10], day);
    put(&mut text[11..13], in_day / 3600);
    put(&mut text[14..16], in_day / 60 % 60);
    put(&mut text[17..19], in_day % 60);
    text
}

/// Writes `value` as decimal digits filling `slot` (zero-padded, high digits dropped).
fn put(slot: &mut [u8], mut value: u64) {
    for digit in slot.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// Year, month, day of the proleptic Gregorian calendar for `days` since 1970-01-01
/// (Howard Hinnant's `civil_from_days`, for non-negative days).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(seconds: u64, micros: u32) -> String {
        let mut out = Vec::new();
        write(&mut out, seconds, micros);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn known_instants_format_as_rfc3339_with_microseconds() {
        assert_eq!(text(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(text(951_782_400, 7), "2000-02-29T00:00:00.000007Z");
        assert_eq!(text(1_795_686_539, 123_456), "2026-11-26T09:48:59.123456Z");
        assert_eq!(text(4_107_542_399, 999_999), "2100-02-28T23:59:59.999999Z");
        assert_eq!(text(253_402_300_799, 0), "9999-12-31T23:59:59.000000Z");
    }

    #[test]
    fn every_day_of_four_centuries_agrees_with_a_day_by_day_count() {
        let (mut year, mut month, mut day) = (1970u64, 1u64, 1u64);
        for days in 0..146_097u64 {
            assert_eq!(civil_from_days(days), (year, month, day), "day {days}");
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
            let length = match month {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            day += 1;
            if day > length {
                day = 1;
                month += 1;
                if month > 12 {
                    month = 1;
                    year += 1;
                }
            }
        }
    }

    /// The current time as `tracing-subscriber`'s default timer writes it for other lines.
    fn library_now() -> String {
        use tracing_subscriber::fmt::format::Writer;
        use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
        let mut text = String::new();
        SystemTime.format_time(&mut Writer::new(&mut text)).unwrap();
        text
    }

    #[test]
    fn now_reads_like_the_library_timer_of_other_lines() {
        // Ours taken between two library readings of the same second is in that second.
        loop {
            let before = library_now();
            let mut ours = Vec::new();
            write_now(&mut ours);
            let after = library_now();
            if before[..SECOND_LEN] != after[..SECOND_LEN] {
                continue;
            }
            let ours = String::from_utf8(ours).unwrap();
            assert_eq!(ours.len(), before.len(), "{ours} against {before}");
            assert_eq!(ours[..SECOND_LEN], before[..SECOND_LEN]);
            assert!((before.as_str()..=after.as_str()).contains(&ours.as_str()));
            break;
        }
    }

    #[test]
    fn the_cached_second_is_replaced_when_the_second_changes() {
        assert_eq!(text(59, 1), "1970-01-01T00:00:59.000001Z");
        assert_eq!(text(60, 2), "1970-01-01T00:01:00.000002Z");
        assert_eq!(text(59, 3), "1970-01-01T00:00:59.000003Z");
    }
}
