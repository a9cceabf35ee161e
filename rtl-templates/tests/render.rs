use askama::Template;
#[test]
fn render_lib() {
    let h = vec![
        "SPDX-License-Identifier: Apache-2.0".to_string(),
        "x".into(),
    ];
    let d = std::env::var("RTL_OUT").unwrap_or("/tmp/rtl_out".into());
    std::fs::create_dir_all(&d).unwrap();
    let s = ferrite_rtl::Skid {
        module: "p_skid".into(),
        header: h.clone(),
    }
    .render()
    .unwrap();
    std::fs::write(format!("{d}/p_skid.v"), s).unwrap();
    let s = ferrite_rtl::Fifo {
        module: "p_fifo".into(),
        header: h.clone(),
    }
    .render()
    .unwrap();
    std::fs::write(format!("{d}/p_fifo.v"), s).unwrap();
    let s = ferrite_rtl::Gearbox {
        module: "p_gearbox".into(),
        header: h.clone(),
    }
    .render()
    .unwrap();
    std::fs::write(format!("{d}/p_gearbox.v"), s).unwrap();
}
