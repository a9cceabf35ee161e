//! `ferrite boards`: the bundled boards listed, one shown, an unknown name refused with the
//! list, a folder of board files added, a bad board file named.

use std::process::Command;

fn ferrite(args: &[&str]) -> (bool, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_ferrite"))
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .env_remove("FERRITE_BOARDS")
        .output()
        .expect("ferrite runs");
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

const BOARDS: [&str; 8] = [
    "pynq-z1",
    "pynq-z2",
    "ultra96-v2",
    "zcu104",
    "kv260",
    "alveo-u250",
    "ulx3s",
    "icebreaker",
];

#[test]
fn lists_and_shows_boards() {
    let (ok, out, _) = ferrite(&["boards"]);
    assert!(ok);
    for b in BOARDS {
        assert!(out.lines().any(|l| l.starts_with(b)), "{b} missing:\n{out}");
    }
    assert!(
        out.contains("xc7z020clg400-1") && out.contains("LFE5U-85F"),
        "{out}"
    );
    let (ok, out, _) = ferrite(&["boards", "ulx3s"]);
    assert!(ok);
    assert!(
        out.contains("ecp5") && out.contains("25 MHz") && !out.contains("pynq"),
        "{out}"
    );
}

#[test]
fn an_unknown_board_lists_the_boards() {
    let (ok, out, err) = ferrite(&["boards", "pynq-z7"]);
    assert!(!ok && out.is_empty());
    assert!(err.starts_with("error: unknown board (pynq-z7)"), "{err}");
    for b in BOARDS {
        assert!(err.contains(b), "{b} not listed:\n{err}");
    }
    assert!(err.contains("help:") && !err.contains("panicked"), "{err}");
}

#[test]
fn a_folder_of_board_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../boards/pynq-z1.toml"),
    )
    .unwrap()
    .replace("\"pynq-z1\"", "\"lab-z1\"");
    std::fs::write(dir.path().join("lab.toml"), &text).unwrap();
    let (ok, out, err) = ferrite(&["boards", "--boards", d, "lab-z1"]);
    assert!(ok, "{err}");
    assert!(out.contains("lab-z1"), "{out}");
    std::fs::write(
        dir.path().join("bad.toml"),
        text.replace("dsp = 220", "dsp = \"many\""),
    )
    .unwrap();
    let (ok, _, err) = ferrite(&["boards", "--boards", d]);
    assert!(!ok);
    assert!(err.contains("bad.toml") && err.contains("dsp"), "{err}");
}
