//! Embeds each mode's default weights from `assets/` when the file exists.

fn main() {
    let assets = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets");
    println!("cargo:rerun-if-changed={}", assets.display());
    for mode in ["separate", "enhance", "extract"] {
        let file = assets.join(format!("{mode}.safetensors"));
        println!("cargo:rerun-if-changed={}", file.display());
        println!("cargo::rustc-check-cfg=cfg(kb_default_{mode})");
        if file.is_file() {
            println!("cargo:rustc-cfg=kb_default_{mode}");
        }
    }
}
