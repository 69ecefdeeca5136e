//! Metamorphic checks on grouping: a stream mined after a change that does not change what
//! happened (hosts renamed, the clock moved by days) groups its lines exactly as before. The
//! lines are made up, written to exercise the value shapes the miner judges (quoted names,
//! `key=value` pairs, words in capitals, short step messages, object values, endpoints,
//! request targets with file names).

mod common;

use std::collections::HashMap;

use common::mine;

/// A stream of syslog-shaped lines: (day, host, message) rendered with `render`.
fn stream() -> Vec<(u32, &'static str, String)> {
    let hosts = ["alpha-1", "alpha-2", "bravo"];
    let users = ["ann", "bob", "cy", "dee", "eve"];
    let vols = ["'maps'", "'logs'", "'keys'", "'tmp'"];
    let acts = ["CREATE", "UPDATE", "DELETE", "PURGE"];
    let steps = ["build", "test", "{", "}", "lint"];
    let mut out = Vec::new();
    for i in 0..120u32 {
        let host = hosts[i as usize % hosts.len()];
        let user = users[i as usize % users.len()];
        let msg = match i % 9 {
            0 => format!("mounted volume {} for pod web-{i}", vols[i as usize % 4]),
            1 => format!(
                "session open user={user} realm={} id={i}",
                ["east", "west", "north"][i as usize % 3]
            ),
            2 => format!("store {} done for item {i}", acts[i as usize % 4]),
            3 => format!("[Step] {}", steps[i as usize % steps.len()]),
            4 => format!(
                r#"state change ev={{"Id":"f{i:x}a-9","Kind":"{}","At":{i}}}"#,
                ["Paused", "Resumed"][i as usize % 2]
            ),
            5 => format!(
                "dialing cache.{}.corp.test:63{:02} for {user}",
                ["eu", "us"][i as usize % 2],
                i % 100
            ),
            6 => format!(
                r#"10.0.0.{} - - "GET /static/{}.{:08x}.js HTTP/1.1" 200 {}"#,
                i % 250,
                ["app", "vendor", "runtime"][i as usize % 3],
                i * 7919,
                1000 + i
            ),
            7 => format!("closed link {i} for '{user}')"),
            _ => format!("closed link {i} for '{user}'):"),
        };
        out.push((i / 40, host, msg));
    }
    out
}

fn render(
    lines: &[(u32, &str, String)],
    day_shift: u32,
    rename: &dyn Fn(&str) -> String,
) -> Vec<u8> {
    let mut text = String::new();
    for (k, (day, host, msg)) in lines.iter().enumerate() {
        text.push_str(&format!(
            "Mar {:2} 10:{:02}:{:02} {} app[{}]: {msg}\n",
            3 + day + day_shift,
            (k / 60) % 60,
            k % 60,
            rename(host),
            400 + k % 7
        ));
    }
    text.into_bytes()
}

/// Each line's group as the index of its group's first line: comparable across runs whose
/// template ids differ.
fn partition(ids: &[String]) -> Vec<usize> {
    let mut first: HashMap<&str, usize> = HashMap::new();
    ids.iter()
        .enumerate()
        .map(|(i, id)| *first.entry(id).or_insert(i))
        .collect()
}

#[test]
fn renaming_hosts_and_shifting_days_keeps_the_grouping() {
    let lines = stream();
    let base = partition(&mine(&render(&lines, 0, &|h| h.to_string()), false, 1));
    assert_eq!(base.len(), lines.len());
    let renamed = partition(&mine(
        &render(&lines, 0, &|h| format!("{}-db7", h.replace('a', "o"))),
        false,
        1,
    ));
    assert_eq!(base, renamed, "hosts renamed");
    let shifted = partition(&mine(&render(&lines, 11, &|h| h.to_string()), false, 1));
    assert_eq!(base, shifted, "eleven days later");
    // The same lines in reverse order.
    let mut rev = lines.clone();
    rev.reverse();
    let ids = mine(&render(&rev, 0, &|h| h.to_string()), false, 1);
    let mut ids: Vec<String> = ids;
    ids.reverse();
    assert_eq!(base, partition(&ids), "reversed");
    // And the grouping itself is what the shapes say: five step messages are five events,
    // the four actions in capitals four, the two closings two.
    let groups = |pick: &dyn Fn(&str) -> bool| {
        let mut g: Vec<usize> = lines
            .iter()
            .zip(&base)
            .filter(|((_, _, m), _)| pick(m))
            .map(|(_, &p)| p)
            .collect();
        g.sort_unstable();
        g.dedup();
        g.len()
    };
    assert_eq!(groups(&|m| m.starts_with("[Step]")), 5);
    assert_eq!(groups(&|m| m.starts_with("store ")), 4);
    assert_eq!(groups(&|m| m.starts_with("closed link")), 2);
    assert_eq!(groups(&|m| m.starts_with("mounted volume")), 1);
    assert_eq!(groups(&|m| m.starts_with("session open")), 1);
    assert_eq!(groups(&|m| m.starts_with("state change")), 2);
    assert_eq!(groups(&|m| m.starts_with("dialing")), 1);
    assert_eq!(groups(&|m| m.contains("GET /static/")), 1);
}
