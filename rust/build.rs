//! Generates the C header of the core's ABI (`target/include/nzk.h`) for the XS layer.
use std::env;
use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = root.join("target").join("include");
    std::fs::create_dir_all(&out).expect("create target/include");
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("read cbindgen.toml");
    cbindgen::Builder::new()
        .with_crate(&root)
        .with_config(config)
        .generate()
        .expect("generate the C header")
        .write_to_file(out.join("nzk.h"));
    println!("cargo:rerun-if-changed=rust/ffi.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");
}
