//! Real journal files for tests of the `[[journald]]` source: entries written in the journal
//! export format and converted by systemd-journal-remote (the Debian package of that name;
//! `.ci/run` installs it).

use std::{
    path::{Path, PathBuf},
    process::Command,
};

/// The converter; not on PATH.
pub const JOURNAL_REMOTE: &str = "/lib/systemd/systemd-journal-remote";

/// Whether systemd-journal-remote and journalctl are here. Without them a test fails when `CI`
/// is set, saying what to install; elsewhere it is skipped, loudly.
pub fn tools_present() -> bool {
    let missing: Vec<&str> = [
        (JOURNAL_REMOTE, "systemd-journal-remote"),
        ("/usr/bin/journalctl", "systemd"),
    ]
    .into_iter()
    .filter(|(path, _)| !Path::new(path).exists())
    .map(|(_, package)| package)
    .collect();
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "the journald tests need real journal files: install the Debian package(s) {} \
         (`apt-get install -y {}`; .ci/run does)",
        missing.join(", "),
        missing.join(" ")
    );
    if std::env::var_os("CI").is_some() {
        panic!("{message}");
    }
    eprintln!("\n!!!!!!!! SKIPPED: {message} !!!!!!!!\n");
    false
}

/// One entry: its fields in order (`__REALTIME_TIMESTAMP`, `_BOOT_ID`, `MESSAGE`, …).
pub type Fields = Vec<(String, Vec<u8>)>;

/// An entry at `realtime_s` (seconds since the epoch) of boot `boot` (32 hex digits).
pub fn entry(realtime_s: i64, boot: &str, message: &[u8], more: &[(&str, &str)]) -> Fields {
    let mut fields: Fields = vec![
        (
            "__REALTIME_TIMESTAMP".into(),
            (realtime_s * 1_000_000).to_string().into_bytes(),
        ),
        (
            "__MONOTONIC_TIMESTAMP".into(),
            ((realtime_s % 100_000) * 1_000_000)
                .to_string()
                .into_bytes(),
        ),
        ("_BOOT_ID".into(), boot.as_bytes().to_vec()),
        ("MESSAGE".into(), message.to_vec()),
    ];
    fields.extend(
        more.iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec())),
    );
    fields
}

/// `entries` in the export format: `FIELD=value` lines, or for a value that is not UTF-8 (or
/// has a newline) `FIELD\n`, its length as 64-bit little endian, the bytes and `\n`; a blank
/// line after each entry.
pub fn export(entries: &[Fields]) -> Vec<u8> {
    let mut out = Vec::new();
    for fields in entries {
        for (name, value) in fields {
            if std::str::from_utf8(value).is_ok() && !value.contains(&b'\n') {
                out.extend_from_slice(format!("{name}=").as_bytes());
                out.extend_from_slice(value);
            } else {
                out.extend_from_slice(format!("{name}\n").as_bytes());
                out.extend_from_slice(&(value.len() as u64).to_le_bytes());
                out.extend_from_slice(value);
            }
            out.push(b'\n');
        }
        out.push(b'\n');
    }
    out
}

/// `entries` as a real journal file `<dir>/journal/remote.journal`; returns the directory.
pub fn write_journal(dir: &Path, entries: &[Fields]) -> PathBuf {
    let export_path = dir.join("entries.export");
    std::fs::write(&export_path, export(entries)).unwrap();
    let journal_dir = dir.join("journal");
    std::fs::create_dir_all(&journal_dir).unwrap();
    let file = journal_dir.join("remote.journal");
    let out = Command::new(JOURNAL_REMOTE)
        .arg(format!("--output={}", file.display()))
        .arg(&export_path)
        .output()
        .expect("systemd-journal-remote runs");
    assert!(
        out.status.success() && file.exists(),
        "systemd-journal-remote: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    journal_dir
}
