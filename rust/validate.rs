//! Client-side checks of host strings and node paths, as the C client makes them.

use std::net::ToSocketAddrs;

/// Cuts a Perl string at its first NUL, as the original passed strings to C.
pub fn c_string(bytes: &[u8]) -> &[u8] {
    match bytes.iter().position(|&b| b == 0) {
        Some(end) => &bytes[..end],
        None => bytes,
    }
}

/// Checks a host list such as `"h1:2181,h2:2181/chroot"`.
///
/// Returns the connect string for the client, or the errno `new()` reports with
/// `undef`: EINVAL for an empty list, a missing or zero port, ENOENT for a host name
/// that does not resolve.
pub fn hosts(raw: &[u8]) -> Result<String, i32> {
    let text = std::str::from_utf8(c_string(raw)).map_err(|_| libc::EINVAL)?;
    let list = match text.find('/') {
        Some(slash) => &text[..slash],
        None => text,
    };
    let mut seen = 0;
    for entry in list.split(',').filter(|entry| !entry.is_empty()) {
        let (host, port) = entry.rsplit_once(':').ok_or(libc::EINVAL)?;
        let port: u16 = port.parse().map_err(|_| libc::EINVAL)?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if port == 0 || host.is_empty() {
            return Err(libc::EINVAL);
        }
        let resolves = (host, port).to_socket_addrs().is_ok_and(|mut addrs| addrs.next().is_some());
        if !resolves {
            return Err(libc::ENOENT);
        }
        seen += 1;
    }
    if seen == 0 {
        return Err(libc::EINVAL);
    }
    Ok(text.to_owned())
}

/// Whether `path` is a node path the C client accepts. With `sequence` (create with
/// ZOO_SEQUENCE) the last component may be empty, `.` or `..`, since the server
/// appends the sequence number to it.
pub fn path(path: &[u8], sequence: bool) -> bool {
    if path.first() != Some(&b'/') {
        return false;
    }
    if path.len() == 1 {
        return true;
    }
    if path.iter().any(|&b| (0x01..=0x1e).contains(&b)) {
        return false;
    }
    let components: Vec<&[u8]> = path[1..].split(|&b| b == b'/').collect();
    let last = components.len() - 1;
    components.iter().enumerate().all(|(i, component)| {
        let special = component.is_empty() || *component == b"." || *component == b"..";
        !special || (sequence && i == last)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_c_client() {
        for good in ["/", "/a", "/a/b", "/.a", "/..a", "/a.", "/...", "/a\u{1f}", "/a\u{7f}"] {
            assert!(path(good.as_bytes(), false), "{good}");
        }
        for bad in ["", "a", "//", "/a/", "/a//b", "/.", "/..", "/a/./b", "/a/../b", "/a\u{1}"] {
            assert!(!path(bad.as_bytes(), false), "{bad}");
        }
        for seq in ["/p/", "/p/.", "/p/..", "/p/x"] {
            assert!(path(seq.as_bytes(), true), "{seq}");
        }
        assert!(!path(b"/p//x", true));
    }

    #[test]
    fn hosts_follow_the_c_client() {
        assert_eq!(hosts(b""), Err(libc::EINVAL));
        assert_eq!(hosts(b"localhost"), Err(libc::EINVAL));
        assert_eq!(hosts(b"localhost:0"), Err(libc::EINVAL));
        assert_eq!(hosts(b"0.0.0.0:0"), Err(libc::EINVAL));
        assert_eq!(hosts(b"no-such-host.invalid:2181"), Err(libc::ENOENT));
        assert_eq!(hosts(b"127.0.0.1:2181/chroot").as_deref(), Ok("127.0.0.1:2181/chroot"));
        assert!(hosts(b"127.0.0.1:1,localhost:2").is_ok());
    }
}
