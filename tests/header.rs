//! The C header the XS layer compiles against (`xs/nzk.h`) is committed, so the ABI can
//! be reviewed; this test fails when it is not what cbindgen makes of `rust/ffi/` now.
//! `NZK_BLESS=1 cargo test --test header` rewrites it.

use std::path::PathBuf;

#[test]
fn committed_header_is_current() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("read cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(&root)
        .with_config(config)
        .generate()
        .expect("generate the C header")
        .write(&mut generated);
    let path = root.join("xs").join("nzk.h");
    if std::env::var_os("NZK_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write xs/nzk.h");
    }
    let committed = std::fs::read(&path).expect("read xs/nzk.h");
    assert!(committed == generated, "xs/nzk.h is stale: run `NZK_BLESS=1 cargo test --test header` and commit it");
}
