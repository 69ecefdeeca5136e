//! Timestamps as logs write them, without a format string: ISO 8601 (`T` or space, `,` or `.`
//! fractions, `Z` or offsets), syslog (`Jun 14 15:16:01`, no year), Apache (`10/Oct/2000:13:55:36
//! -0700`), RFC 2822, compact (`081109 203615`), `yy/MM/dd`, `MM-dd` (Android), BGL's
//! `2005-06-03-15.42.50.675872`, and epoch seconds/millis/micros/nanos. A missing year or zone
//! comes from [`TimeDefaults`].

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};

/// What to assume when a timestamp leaves something out.
#[derive(Debug, Clone)]
pub struct TimeDefaults {
    /// Year for formats that have none (syslog, Android).
    pub year: i16,
    /// Zone for timestamps without an offset.
    pub zone: TimeZone,
}

impl Default for TimeDefaults {
    fn default() -> Self {
        TimeDefaults {
            year: 1970,
            zone: TimeZone::UTC,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Num {
    val: i64,
    digits: u8,
    /// The byte before the number (separator), 0 at start.
    before: u8,
}

fn month_of(w: &[u8]) -> Option<i8> {
    if w.len() < 3 {
        return None;
    }
    let p = [
        w[0].to_ascii_lowercase(),
        w[1].to_ascii_lowercase(),
        w[2].to_ascii_lowercase(),
    ];
    const M: [&[u8; 3]; 12] = [
        b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov",
        b"dec",
    ];
    M.iter().position(|m| **m == p).map(|i| i as i8 + 1)
}

/// Parses a timestamp written any of the usual ways; `None` when it is not one.
pub fn parse_timestamp(text: &str, d: &TimeDefaults) -> Option<Timestamp> {
    let b = text
        .trim()
        .trim_matches(|c| c == '[' || c == ']')
        .as_bytes();
    if b.is_empty() || b.len() > 64 {
        return None;
    }
    // Epochs.
    if b.iter().all(u8::is_ascii_digit) && b.len() >= 9 {
        let v: i64 = text.trim().parse().ok()?;
        return match b.len() {
            9 | 10 => Timestamp::from_second(v).ok(),
            13 => Timestamp::from_millisecond(v).ok(),
            16 => Timestamp::from_microsecond(v).ok(),
            19 => Timestamp::from_nanosecond(v as i128).ok(),
            _ => None,
        };
    }
    let mut nums: Vec<Num> = Vec::with_capacity(8);
    let mut month: Option<i8> = None;
    let mut offset: Option<i32> = None; // seconds east
    let mut i = 0;
    let n = b.len();
    while i < n {
        let c = b[i];
        if c.is_ascii_digit() {
            let s = i;
            let mut v: i64 = 0;
            while i < n && b[i].is_ascii_digit() {
                v = v.saturating_mul(10).saturating_add((b[i] - b'0') as i64);
                i += 1;
            }
            let before = if s > 0 { b[s - 1] } else { 0 };
            // A zone offset: `+hh:mm`, `+hhmm`, `-0700` after the time.
            if (before == b'+' || before == b'-') && nums.len() >= 5 && (i - s == 4 || i - s == 2) {
                let (hh, mm) = if i - s == 4 {
                    (v / 100, v % 100)
                } else if i < n && b[i] == b':' {
                    let s2 = i + 1;
                    let mut j = s2;
                    let mut m: i64 = 0;
                    while j < n && b[j].is_ascii_digit() {
                        m = m * 10 + (b[j] - b'0') as i64;
                        j += 1;
                    }
                    i = j;
                    (v, m)
                } else {
                    (v, 0)
                };
                let secs = (hh * 3600 + mm * 60) as i32;
                offset = Some(if before == b'-' { -secs } else { secs });
                continue;
            }
            nums.push(Num {
                val: v,
                digits: (i - s).min(255) as u8,
                before,
            });
        } else if c.is_ascii_alphabetic() {
            let s = i;
            while i < n && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            let w = &b[s..i];
            if w == b"Z" || w == b"z" || w.eq_ignore_ascii_case(b"UTC") || w == b"GMT" {
                offset = Some(0);
            } else if w == b"T" {
            } else if let Some(m) = month_of(w)
                && month.is_none()
            {
                month = Some(m);
            }
        } else {
            i += 1;
        }
    }
    let (y, mo, day, rest): (i64, i64, i64, &[Num]) = if let Some(m) = month {
        // `Jun 14 15:16:01 [2024]`, `10/Oct/2000:13:55:36`, `Tue, 15 Nov 1994 08:12:31`.
        let day = nums.first()?;
        let (year, rest) = if nums.len() >= 2 && nums[1].digits == 4 {
            (nums[1].val, &nums[2..])
        } else if let Some(y) = nums.iter().skip(1).find(|x| x.digits == 4) {
            (y.val, &nums[1..])
        } else {
            (d.year as i64, &nums[1..])
        };
        (year, m as i64, day.val, rest)
    } else if nums.len() >= 2 && nums[0].digits == 4 {
        (nums[0].val, nums.get(1)?.val, nums.get(2)?.val, &nums[3..])
    } else if nums.len() >= 2 && nums[0].digits == 6 && nums[1].digits == 6 {
        // yyMMdd HHmmss
        let a = nums[0].val;
        let t = nums[1].val;
        let date = (2000 + a / 10000, (a / 100) % 100, a % 100);
        let hms = [t / 10000, (t / 100) % 100, t % 100];
        return build(date, hms, frac_of(&nums[2..]), offset, d);
    } else if nums.len() >= 6
        && nums[0].digits == 2
        && nums[2].digits == 2
        && nums[1].before == b'/'
    {
        // yy/MM/dd or MM/dd/yy.
        let (a, bb, c) = (nums[0].val, nums[1].val, nums[2].val);
        if a > 12 {
            (2000 + a, bb, c, &nums[3..])
        } else {
            (2000 + c, a, bb, &nums[3..])
        }
    } else if nums.len() >= 5 && nums[0].digits <= 2 && nums[1].digits <= 2 {
        // MM-dd HH:mm:ss (no year)
        (d.year as i64, nums[0].val, nums[1].val, &nums[2..])
    } else {
        return None;
    };
    if rest.len() < 2 {
        return None;
    }
    let hms = [
        rest[0].val,
        rest[1].val,
        rest.get(2).map(|x| x.val).unwrap_or(0),
    ];
    let frac = if rest.len() > 3 {
        frac_of(&rest[3..])
    } else {
        0
    };
    build((y, mo, day), hms, frac, offset, d)
}

fn frac_of(rest: &[Num]) -> i64 {
    match rest.first() {
        Some(f) if matches!(f.before, b'.' | b',') && f.digits <= 9 => {
            let mut v = f.val;
            for _ in f.digits..9 {
                v *= 10;
            }
            v
        }
        _ => 0,
    }
}

fn build(
    (y, mo, day): (i64, i64, i64),
    [h, mi, s]: [i64; 3],
    nanos: i64,
    offset: Option<i32>,
    d: &TimeDefaults,
) -> Option<Timestamp> {
    let dt = DateTime::new(
        i16::try_from(y).ok()?,
        i8::try_from(mo).ok()?,
        i8::try_from(day).ok()?,
        i8::try_from(h).ok()?,
        i8::try_from(mi).ok()?,
        i8::try_from(s.min(59)).ok()?,
        i32::try_from(nanos).ok()?,
    )
    .ok()?;
    match offset {
        Some(secs) => Offset::from_seconds(secs).ok()?.to_timestamp(dt).ok(),
        None => d.zone.to_ambiguous_timestamp(dt).compatible().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> String {
        parse_timestamp(s, &TimeDefaults::default())
            .map(|t| t.to_string())
            .unwrap_or_else(|| "none".into())
    }

    #[test]
    fn many_formats_and_zones() {
        assert_eq!(ts("2015-10-18 18:01:47,978"), "2015-10-18T18:01:47.978Z");
        assert_eq!(ts("2024-03-01T12:00:00+02:00"), "2024-03-01T10:00:00Z");
        assert_eq!(ts("2024-03-01T12:00:00.5-0130"), "2024-03-01T13:30:00.5Z");
        assert_eq!(ts("2024-03-01T12:00:00Z"), "2024-03-01T12:00:00Z");
        assert_eq!(ts("Jun 14 15:16:01"), "1970-06-14T15:16:01Z");
        assert_eq!(ts("10/Oct/2000:13:55:36 -0700"), "2000-10-10T20:55:36Z");
        assert_eq!(ts("Tue, 15 Nov 1994 08:12:31 GMT"), "1994-11-15T08:12:31Z");
        assert_eq!(ts("081109 203615"), "2008-11-09T20:36:15Z");
        assert_eq!(ts("17/06/09 20:10:40"), "2017-06-09T20:10:40Z");
        assert_eq!(ts("03-17 16:13:38.811"), "1970-03-17T16:13:38.811Z");
        assert_eq!(
            ts("2005-06-03-15.42.50.675872"),
            "2005-06-03T15:42:50.675872Z"
        );
        assert_eq!(ts("1117838570"), "2005-06-03T22:42:50Z");
        assert_eq!(ts("1700000000123"), "2023-11-14T22:13:20.123Z");
        assert_eq!(ts("hello"), "none");
    }

    #[test]
    fn default_zone_applies_to_naive_times() {
        let d = TimeDefaults {
            year: 2024,
            zone: TimeZone::fixed(jiff::tz::offset(-5)),
        };
        let t = parse_timestamp("Jun 14 15:16:01", &d).expect("ts");
        assert_eq!(t.to_string(), "2024-06-14T20:16:01Z");
    }
}
