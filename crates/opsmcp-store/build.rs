//! `sqlx::migrate!` embeds the migration files at compile time; this makes cargo rebuild the
//! crate when one of them changes, so a stale schema is never embedded.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
