//! The constants table ([`crate::constants`]): `Net::ZooKeeper::_constants` in the XS
//! layer reads it row by row when the module loads. The strings handed out are
//! static (package, tag and constant names) or live for the call (ACL entries).

use std::ffi::c_void;
use std::ptr;

use super::calls::NzkAclSink;
use crate::acl;
use crate::constants::{Constant, Export, Value, CONSTANTS};
use crate::ffi_boundary;

/// How a constant's package exports it.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NzkExport {
    /// In the export tag `tag` (and exportable by name).
    Tag,
    /// In the export tag `tag`, one added since the original (not in `:all`).
    Added,
    /// Exportable by name only.
    Name,
    /// Not exported.
    None,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NzkConstantKind {
    /// An integer: `value`.
    Int,
    /// A predefined ACL: its entries come from `nzk_constant_acl`; `value` is 0.
    Acl,
}

/// One row of the table. The strings are static and not NUL-terminated; `tag` is
/// empty unless `exported` is `NZK_EXPORT_TAG` or `NZK_EXPORT_ADDED`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct NzkConstant {
    pub package: *const u8,
    pub package_len: usize,
    pub exported: NzkExport,
    pub tag: *const u8,
    pub tag_len: usize,
    pub name: *const u8,
    pub name_len: usize,
    pub kind: NzkConstantKind,
    pub value: i64,
}

impl NzkConstant {
    fn of(row: &Constant) -> NzkConstant {
        let (exported, tag) = match row.export {
            Export::Tag(tag) => (NzkExport::Tag, tag),
            Export::Added(tag) => (NzkExport::Added, tag),
            Export::Name => (NzkExport::Name, ""),
            Export::No => (NzkExport::None, ""),
        };
        let (kind, value) = match row.value {
            Value::Int(value) => (NzkConstantKind::Int, value),
            Value::Acl(_) => (NzkConstantKind::Acl, 0),
        };
        NzkConstant {
            package: row.package.as_ptr(),
            package_len: row.package.len(),
            exported,
            tag: tag.as_ptr(),
            tag_len: tag.len(),
            name: row.name.as_ptr(),
            name_len: row.name.len(),
            kind,
            value,
        }
    }
}

/// Row `index` of the constants table into `*out`: 1, or 0 (and `*out` untouched)
/// past the last row.
///
/// # Safety
/// `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn nzk_constant(index: usize, out: *mut NzkConstant) -> i32 {
    ffi_boundary! {
        match CONSTANTS.get(index) {
            Some(row) => {
                ptr::write(out, NzkConstant::of(row));
                1
            }
            None => 0,
        }
    }
}

/// Hands each entry of the ACL of row `index` to `sink`, in order: 1, or 0 if that
/// row is not an ACL.
///
/// # Safety
/// `sink` may be called with `ctx`; the strings it gets live for the call only.
#[no_mangle]
pub unsafe extern "C" fn nzk_constant_acl(index: usize, sink: NzkAclSink, ctx: *mut c_void) -> i32 {
    ffi_boundary! {
        match CONSTANTS.get(index).map(|row| row.value) {
            Some(Value::Acl(list)) => {
                for entry in list().iter() {
                    let (scheme, id) = (entry.scheme(), entry.id());
                    sink(ctx, acl::bits(entry.permission()), scheme.as_ptr(), scheme.len(), id.as_ptr(), id.len());
                }
                1
            }
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::slice;

    use super::*;

    unsafe fn text<'a>(data: *const u8, len: usize) -> &'a str {
        std::str::from_utf8(slice::from_raw_parts(data, len)).expect("UTF-8")
    }

    type Entries = Vec<(i32, String, String)>;

    extern "C" fn collect(
        ctx: *mut c_void,
        perms: i32,
        scheme: *const u8,
        scheme_len: usize,
        id: *const u8,
        id_len: usize,
    ) {
        // SAFETY: ctx is the Entries of the test below; the strings live for the call.
        unsafe {
            let entries = &mut *ctx.cast::<Entries>();
            entries.push((perms, text(scheme, scheme_len).to_owned(), text(id, id_len).to_owned()));
        }
    }

    #[test]
    fn every_row_reads_back_as_the_table_has_it() {
        let mut out = std::mem::MaybeUninit::<NzkConstant>::uninit();
        for (index, row) in CONSTANTS.iter().enumerate() {
            // SAFETY: out is writable; the strings are static.
            let got = unsafe {
                assert_eq!(nzk_constant(index, out.as_mut_ptr()), 1);
                out.assume_init()
            };
            let (package, tag, name) = unsafe {
                (text(got.package, got.package_len), text(got.tag, got.tag_len), text(got.name, got.name_len))
            };
            assert_eq!((package, name), (row.package, row.name));
            match row.export {
                Export::Tag(want) => assert_eq!((got.exported, tag), (NzkExport::Tag, want)),
                Export::Added(want) => assert_eq!((got.exported, tag), (NzkExport::Added, want)),
                Export::Name => assert_eq!((got.exported, tag), (NzkExport::Name, "")),
                Export::No => assert_eq!((got.exported, tag), (NzkExport::None, "")),
            }
            let mut entries = Entries::new();
            // SAFETY: collect is given the Entries it expects.
            let is_acl = unsafe { nzk_constant_acl(index, collect, ptr::addr_of_mut!(entries).cast()) } == 1;
            match row.value {
                Value::Int(value) => {
                    assert_eq!((got.kind, got.value, is_acl), (NzkConstantKind::Int, value, false), "{name}");
                    assert!(entries.is_empty());
                }
                Value::Acl(list) => {
                    assert_eq!((got.kind, got.value, is_acl), (NzkConstantKind::Acl, 0, true), "{name}");
                    let want: Entries = list()
                        .iter()
                        .map(|e| (acl::bits(e.permission()), e.scheme().to_owned(), e.id().to_owned()))
                        .collect();
                    assert!(!want.is_empty());
                    assert_eq!(entries, want, "{name}");
                }
            }
        }
        // SAFETY: out is writable.
        assert_eq!(unsafe { nzk_constant(CONSTANTS.len(), out.as_mut_ptr()) }, 0);
        let mut entries = Entries::new();
        assert_eq!(unsafe { nzk_constant_acl(CONSTANTS.len(), collect, ptr::addr_of_mut!(entries).cast()) }, 0);
    }
}
