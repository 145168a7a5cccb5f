//! Stat objects: a snapshot of a node's metadata, overwritten by successful calls.

/// The eleven fields of a `Net::ZooKeeper::Stat`, in the order of its keys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stat {
    pub czxid: i64,
    pub mzxid: i64,
    pub ctime: i64,
    pub mtime: i64,
    pub version: i32,
    pub cversion: i32,
    pub aversion: i32,
    pub ephemeral_owner: i64,
    pub data_length: i32,
    pub num_children: i32,
    pub pzxid: i64,
}

impl From<&zookeeper_client::Stat> for Stat {
    fn from(s: &zookeeper_client::Stat) -> Self {
        Stat {
            czxid: s.czxid,
            mzxid: s.mzxid,
            ctime: s.ctime,
            mtime: s.mtime,
            version: s.version,
            cversion: s.cversion,
            aversion: s.aversion,
            ephemeral_owner: s.ephemeral_owner,
            data_length: s.data_length,
            num_children: s.num_children,
            pzxid: s.pzxid,
        }
    }
}

/// A field's value as Perl sees it.
pub enum Field {
    /// 32-bit fields are integers.
    Int(i32),
    /// 64-bit fields are decimal strings of the value rounded to a double, as the
    /// original printed them (values above 2^53 lose their low bits).
    Wide(String),
}

fn wide(value: i64) -> Field {
    Field::Wide(format!("{:.0}", value as f64))
}

impl Stat {
    /// The field at `index` in key order (see [`crate::attrs::STAT_KEYS`]).
    pub fn field(&self, index: usize) -> Field {
        match index {
            0 => wide(self.czxid),
            1 => wide(self.mzxid),
            2 => wide(self.ctime),
            3 => wide(self.mtime),
            4 => Field::Int(self.version),
            5 => Field::Int(self.cversion),
            6 => Field::Int(self.aversion),
            7 => wide(self.ephemeral_owner),
            8 => Field::Int(self.data_length),
            9 => Field::Int(self.num_children),
            _ => wide(self.pzxid),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_fields_round_like_the_original() {
        let stat = Stat { ephemeral_owner: 72057639123877941, ..Stat::default() };
        match stat.field(7) {
            Field::Wide(text) => assert_eq!(text, "72057639123877936"),
            Field::Int(_) => panic!("ephemeral_owner is 64-bit"),
        }
        match Stat::default().field(0) {
            Field::Wide(text) => assert_eq!(text, "0"),
            Field::Int(_) => panic!("czxid is 64-bit"),
        }
    }
}
