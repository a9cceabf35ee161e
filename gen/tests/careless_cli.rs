//! Smaller careless-input cases of issue 10 through the binary: an empty model file, golden
//! `--output` equal to its `--input`, and a bad `--expected` (nothing written).

use ndarray::Array2;
use ndarray_npy::WriteNpyExt;
use std::path::PathBuf;
use std::process::{Command, Output};

fn ferrite(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ferrite"))
        .args(args)
        .output()
        .expect("ferrite runs")
}

fn err(o: &Output) -> String {
    assert!(
        !o.status.success(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn careless_files_are_clear_errors() {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("careless_cli");
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let p = |n: &str| d.join(n).to_str().unwrap().to_string();
    // an empty model file is empty, not "IR version 0"
    std::fs::write(d.join("empty.onnx"), b"").unwrap();
    let e = err(&ferrite(&["inspect", &p("empty.onnx")]));
    assert!(e.contains("empty") && !e.contains("IR version 0"), "{e}");
    let model = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/bnn_mlp_random/model.json"
    );
    let x = Array2::<i8>::from_elem((2, 784), 1);
    x.write_npy(std::fs::File::create(d.join("x.npy")).unwrap())
        .unwrap();
    let before = std::fs::read(d.join("x.npy")).unwrap();
    // --output equal to --input: refused, the input untouched
    let e = err(&ferrite(&[
        "golden",
        model,
        "--input",
        &p("x.npy"),
        "--output",
        &p("x.npy"),
    ]));
    assert!(e.contains("--input") && e.contains("overwritten"), "{e}");
    assert_eq!(std::fs::read(d.join("x.npy")).unwrap(), before);
    // a bad --expected fails before anything is written
    std::fs::write(d.join("bad.npy"), b"not npy").unwrap();
    let e = err(&ferrite(&[
        "golden",
        model,
        "--input",
        &p("x.npy"),
        "--output",
        &p("y.npy"),
        "--expected",
        &p("bad.npy"),
    ]));
    assert!(e.contains("bad.npy"), "{e}");
    assert!(
        !d.join("y.npy").exists(),
        "golden wrote its output before failing"
    );
}

#[test]
fn misspelled_fields_repeated_keys_and_partial_folding_files() {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("careless_cli_json");
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let p = |n: &str| d.join(n).to_str().unwrap().to_string();
    let model = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/bnn_mlp_random/model.json"
    ))
    .unwrap();
    // a misspelled field of a layer's thresholds is refused, naming it
    assert!(model.contains("\"out_bias\""), "the fixture has the field");
    std::fs::write(
        d.join("typo.json"),
        model.replacen("\"out_bias\"", "\"out_bais\"", 1),
    )
    .unwrap();
    let e = err(&ferrite(&["inspect", &p("typo.json")]));
    assert!(e.contains("out_bais"), "{e}");
    // a key written twice in the IR is refused, not last-wins
    let twice = model.replacen("\"name\":", "\"name\": \"first\", \"name\":", 1);
    std::fs::write(d.join("twice.json"), twice).unwrap();
    let e = err(&ferrite(&["inspect", &p("twice.json")]));
    assert!(e.contains("`name` appears twice"), "{e}");
    std::fs::write(d.join("model.json"), &model).unwrap();
    // a folding file with a node written twice is refused
    let m = ferrite_gen::load_model(&d.join("model.json")).unwrap();
    let n0 = m.nodes[0].name.clone();
    std::fs::write(
        d.join("fold2.json"),
        format!(
            r#"{{"nodes": {{"{n0}": {{"pe": 1, "simd": 1}}, "{n0}": {{"pe": 2, "simd": 1}}}}}}"#
        ),
    )
    .unwrap();
    let e = err(&ferrite(&[
        "build",
        &p("model.json"),
        "-o",
        &p("out2"),
        "--folding",
        &p("fold2.json"),
    ]));
    assert!(e.contains("appears twice"), "{e}");
    // a folding file naming only some nodes: no hint to pass a folding file
    std::fs::write(
        d.join("fold1.json"),
        format!(r#"{{"nodes": {{"{n0}": {{"pe": 1, "simd": 1}}}}}}"#),
    )
    .unwrap();
    let o = ferrite(&[
        "build",
        &p("model.json"),
        "-o",
        &p("out1"),
        "--folding",
        &p("fold1.json"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let all = format!(
        "{}{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
        std::fs::read_to_string(d.join("out1/report.json")).unwrap()
    );
    assert!(all.contains("fold1.json"), "{all}");
    assert!(!all.contains("pass --folding"), "{all}");
}
