//! Snapshot of the streamlined import graph of each shared model (`Graph` display: every
//! node with its output shapes and inferred datatypes). Review changes as diffs; rewrite
//! with `UPDATE_EXPECT=1 cargo test --test import_snapshot`.

use std::path::PathBuf;

fn check(name: &str) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let model = root
        .join("../../shared/models")
        .join(name)
        .join("model.onnx");
    let (g, m) = ferrite_gen::load_onnx(&model).unwrap_or_else(|e| panic!("{e}"));
    let mut got = format!("{g}\n");
    let a = m.analyze().unwrap();
    for &id in &a.order {
        got += &format!(
            "{} {} -> {}\n",
            m.nodes[id].kind(),
            a.in_types[id][0].dtype,
            a.out_types[id][0].dtype
        );
    }
    for s in m.pre.iter().chain(&m.post) {
        got += &format!("host: {}\n", s.describe());
    }
    let file = root
        .join("tests/import_snapshots")
        .join(format!("{name}.txt"));
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&file, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{}: {e} (create it with UPDATE_EXPECT=1)", file.display()));
    assert!(
        got == want,
        "{name}: streamlined graph changed:\n--- want\n{want}\n--- got\n{got}"
    );
}

#[test]
fn tfc_1w1a_streamlined() {
    check("TFC_1W1A");
}

#[test]
fn tfc_2w2a_streamlined() {
    check("TFC_2W2A");
}
