//! Every fixed primitive renders to one module named as asked, with the header lines, and
//! no template syntax left over.
use ferrite_rtl::Template;

fn check(text: &str, module: &str) {
    assert!(text.starts_with("`resetall\n`timescale 1ns / 1ps\n`default_nettype none\n"));
    assert!(text.contains(&format!("module {module} #(")), "{text}");
    assert_eq!(text.matches("endmodule").count(), 1);
    assert!(text.trim_end().ends_with("`resetall"));
    assert!(text.contains("// first header line\n// second header line\n"));
    for leftover in ["{{", "{%", "%}", "{#"] {
        assert!(
            !text.contains(leftover),
            "template syntax `{leftover}` left in {module}"
        );
    }
}

#[test]
fn primitives_render() {
    let h = vec!["first header line".to_string(), "second header line".into()];
    let s = ferrite_rtl::Skid {
        module: "p_skid".into(),
        header: h.clone(),
    };
    check(&s.render().unwrap(), "p_skid");
    let f = ferrite_rtl::Fifo {
        module: "p_fifo".into(),
        header: h.clone(),
    };
    check(&f.render().unwrap(), "p_fifo");
    let g = ferrite_rtl::Gearbox {
        module: "p_gearbox".into(),
        header: h,
    };
    check(&g.render().unwrap(), "p_gearbox");
}

#[test]
fn every_template_source_is_listed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut on_disk = Vec::new();
    for sub in ["lib", "engines"] {
        for e in std::fs::read_dir(dir.join(sub)).unwrap() {
            on_disk.push(format!(
                "{sub}/{}",
                e.unwrap().file_name().to_string_lossy()
            ));
        }
    }
    on_disk.push("top.v".into());
    for p in &on_disk {
        assert!(ferrite_rtl::source(p).is_some(), "{p} is not in SOURCES");
    }
    assert_eq!(on_disk.len(), ferrite_rtl::SOURCES.len());
}
