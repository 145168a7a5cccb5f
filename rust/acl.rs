//! ACL lists given by callers (create's `acl` option, `set_acl`), checked entry by
//! entry in the original's order.

use zookeeper_client::{Acl, Acls, AuthId, Permission};

use crate::message;

// The permission bits (ZOO_PERM_*), as ZooKeeper's protocol numbers them.
pub const PERM_READ: i32 = 1;
pub const PERM_WRITE: i32 = 2;
pub const PERM_CREATE: i32 = 4;
pub const PERM_DELETE: i32 = 8;
pub const PERM_ADMIN: i32 = 16;
/// Every permission bit (`ZOO_PERM_ALL`).
pub const PERM_ALL: i32 = PERM_READ | PERM_WRITE | PERM_CREATE | PERM_DELETE | PERM_ADMIN;

const PERM_BITS: [(i32, Permission); 5] = [
    (PERM_READ, Permission::READ),
    (PERM_WRITE, Permission::WRITE),
    (PERM_CREATE, Permission::CREATE),
    (PERM_DELETE, Permission::DELETE),
    (PERM_ADMIN, Permission::ADMIN),
];

// The C client's predefined ACLs, as the ZooKeeper client crate defines the same lists:
/// `ZOO_OPEN_ACL_UNSAFE`: every permission for anyone (`world:anyone`).
pub const OPEN_ACL_UNSAFE: fn() -> Acls<'static> = Acls::anyone_all;
/// `ZOO_READ_ACL_UNSAFE`: read permission for anyone.
pub const READ_ACL_UNSAFE: fn() -> Acls<'static> = Acls::anyone_read;
/// `ZOO_CREATOR_ALL_ACL`: every permission for the creator's authenticated ids
/// (`auth:`).
pub const CREATOR_ALL_ACL: fn() -> Acls<'static> = Acls::creator_all;

/// The client's permission value for `ZOO_PERM_*` bits.
pub fn permission(bits: i32) -> Permission {
    PERM_BITS.iter().filter(|(bit, _)| bits & bit != 0).fold(Permission::NONE, |all, (_, perm)| all | *perm)
}

/// The `ZOO_PERM_*` bits of a permission value.
pub fn bits(permission: Permission) -> i32 {
    PERM_BITS.iter().filter(|(_, perm)| permission.has(*perm)).map(|(bit, _)| bit).sum()
}

#[derive(Debug, Default)]
pub struct AclList {
    pub entries: Vec<Acl>,
}

/// One array element as the XS layer found it.
#[derive(Clone, Copy)]
pub struct Entry<'a> {
    pub is_hash: bool,
    pub perms: Option<i32>,
    pub scheme: Option<&'a [u8]>,
    pub id: Option<&'a [u8]>,
}

impl AclList {
    /// Adds an entry.
    ///
    /// # Errors
    /// The croak message for the first rule the entry breaks, in the original's
    /// order: not a hash, no `perms`, bad `perms`, no `scheme`, no `id`.
    pub fn push(&mut self, entry: Entry) -> Result<(), &'static str> {
        if !entry.is_hash {
            return Err(message::INVALID_ACL_ENTRY);
        }
        let perms = entry.perms.ok_or(message::NO_ACL_PERMS)?;
        if perms == 0 || perms & !PERM_ALL != 0 {
            return Err(message::INVALID_ACL_PERMS);
        }
        let scheme = entry.scheme.ok_or(message::NO_ACL_SCHEME)?;
        let id = entry.id.ok_or(message::NO_ACL_ID)?;
        let auth = AuthId::new(&String::from_utf8_lossy(scheme), &String::from_utf8_lossy(id));
        self.entries.push(Acl::new(permission(perms), auth));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(perms: Option<i32>) -> Entry<'static> {
        Entry { is_hash: true, perms, scheme: Some(b"world"), id: Some(b"anyone") }
    }

    #[test]
    fn entries_are_checked_in_the_original_order() {
        let mut list = AclList::default();
        assert_eq!(list.push(Entry { is_hash: false, ..entry(None) }), Err(message::INVALID_ACL_ENTRY));
        assert_eq!(list.push(entry(None)), Err(message::NO_ACL_PERMS));
        for bad in [0, -1, 32] {
            assert_eq!(list.push(entry(Some(bad))), Err(message::INVALID_ACL_PERMS));
        }
        assert_eq!(list.push(Entry { scheme: None, id: None, ..entry(Some(1)) }), Err(message::NO_ACL_SCHEME));
        assert_eq!(list.push(Entry { id: None, ..entry(Some(1)) }), Err(message::NO_ACL_ID));
        assert_eq!(list.push(entry(Some(31))), Ok(()));
        assert_eq!(list.entries.len(), 1);
        assert_eq!(bits(list.entries[0].permission()), 31);
        assert_eq!(bits(permission(5)), 5);
    }
}
