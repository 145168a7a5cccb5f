//! Lists of names (children, ephemeral paths) as calls return them.
//!
//! `get_children` keeps the server's reply as it came and hands each name to the
//! caller straight out of it: the names are copied once, into Perl strings, with no
//! `String` per name in between (bench/README.md, "Children").

use crate::error::ZMARSHALLINGERROR;

pub enum Names {
    /// A `GetChildren` reply body: a big-endian 32-bit count, then per name a 32-bit
    /// length and its bytes (checked when made).
    Wire(Vec<u8>),
    List(Vec<String>),
}

/// The 32-bit big-endian length at the start of `bytes`, and the rest.
fn split_len(bytes: &[u8]) -> Option<(i32, &[u8])> {
    let (len, rest) = bytes.split_first_chunk::<4>()?;
    Some((i32::from_be_bytes(*len), rest))
}

/// The names of a checked wire body.
pub struct WireNames<'a> {
    left: usize,
    rest: &'a [u8],
}

impl<'a> Iterator for WireNames<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let (len, rest) = split_len(self.rest)?;
        let (name, rest) = rest.split_at_checked(usize::try_from(len.max(0)).ok()?)?;
        self.rest = rest;
        Some(name)
    }
}

impl Names {
    /// Names from a reply body.
    ///
    /// # Errors
    /// ZMARSHALLINGERROR when a length runs past the end of the body.
    pub fn wire(body: Vec<u8>) -> Result<Names, i32> {
        let names = Names::Wire(body);
        let Names::Wire(bytes) = &names else { unreachable!() };
        let count = split_len(bytes).map_or(-1, |(count, _)| count);
        if count < 0 || names.iter().count() != usize::try_from(count).unwrap_or(0) {
            return Err(ZMARSHALLINGERROR);
        }
        Ok(names)
    }

    fn wire_names(bytes: &[u8]) -> WireNames<'_> {
        match split_len(bytes) {
            Some((count, rest)) => WireNames { left: usize::try_from(count).unwrap_or(0), rest },
            None => WireNames { left: 0, rest: &[] },
        }
    }

    /// Each name's bytes, in the server's order.
    pub fn iter(&self) -> Box<dyn Iterator<Item = &[u8]> + '_> {
        match self {
            Names::Wire(bytes) => Box::new(Names::wire_names(bytes)),
            Names::List(list) => Box::new(list.iter().map(String::as_bytes)),
        }
    }
}

impl Drop for Names {
    fn drop(&mut self) {
        // The next large reply read on this thread can come in this buffer, rather
        // than in a new one (bench/README.md, "Children").
        if let Names::Wire(bytes) = self {
            zookeeper_client::recycle_reply_buffer(std::mem::take(bytes));
        }
    }
}

impl<'a> IntoIterator for &'a Names {
    type Item = &'a [u8];
    type IntoIter = Box<dyn Iterator<Item = &'a [u8]> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(names: &[&str]) -> Vec<u8> {
        let mut b = i32::try_from(names.len()).unwrap().to_be_bytes().to_vec();
        for n in names {
            b.extend_from_slice(&i32::try_from(n.len()).unwrap().to_be_bytes());
            b.extend_from_slice(n.as_bytes());
        }
        b
    }

    #[test]
    fn wire_names_in_order() {
        let names = Names::wire(body(&["a", "", "c0000000001"])).unwrap();
        let got: Vec<&[u8]> = names.iter().collect();
        assert_eq!(got, [b"a".as_slice(), b"", b"c0000000001"]);
        assert_eq!(Names::wire(body(&[])).unwrap().iter().count(), 0);
    }

    #[test]
    fn short_bodies_are_refused() {
        let mut b = body(&["abc"]);
        b.pop();
        assert_eq!(Names::wire(b).err(), Some(ZMARSHALLINGERROR));
        assert_eq!(Names::wire(vec![0, 0]).err(), Some(ZMARSHALLINGERROR));
        assert_eq!(Names::wire(body(&["x"])[..4].to_vec()).err(), Some(ZMARSHALLINGERROR));
        assert_eq!(Names::wire((-1i32).to_be_bytes().to_vec()).err(), Some(ZMARSHALLINGERROR));
    }
}
