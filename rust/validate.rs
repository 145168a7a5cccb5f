//! Client-side checks of host strings and node paths, as the C client makes them.

use std::ffi::{c_char, c_int, CStr, CString};
use std::ptr;

use crate::log::ERROR;
use crate::zlog;

/// Cuts a Perl string at its first NUL, as the original passed strings to C.
pub fn c_string(bytes: &[u8]) -> &[u8] {
    match bytes.iter().position(|&b| b == 0) {
        Some(end) => &bytes[..end],
        None => bytes,
    }
}

/// Checks a host list such as `"h1:2181, h2:2181/chroot"` as the C client's
/// `resolve_hosts` does, logging what it logs, and returns the connect string for
/// the client: the hosts that resolve (leading white space removed, each with the
/// port its lookup gave), then the chroot. Used by `new()`.
///
/// # Errors
/// The errno `new()` reports with `undef`: EINVAL for an empty list, a host without
/// `:port`, or a port that is not a non-zero number (as `strtol` reads it); these
/// fail the whole list. A host that does not resolve is skipped; when none resolves,
/// the errno of the last failed lookup (ENOENT for an unknown name, as the C client
/// maps getaddrinfo's codes).
pub fn hosts(raw: &[u8]) -> Result<String, i32> {
    resolve_hosts(raw, true)
}

/// [`hosts`] without log lines, to check a list before it is used.
///
/// # Errors
/// As [`hosts`].
pub fn check_hosts(raw: &[u8]) -> Result<String, i32> {
    resolve_hosts(raw, false)
}

fn resolve_hosts(raw: &[u8], log: bool) -> Result<String, i32> {
    let text = std::str::from_utf8(c_string(raw)).map_err(|_| libc::EINVAL)?;
    let (list, chroot) = text.split_at(text.find('/').unwrap_or(text.len()));
    let mut usable = Vec::new();
    let mut errno = libc::EINVAL;
    // strtok: empty entries (",," or a trailing comma) are no entries.
    for entry in list.split(',').filter(|entry| !entry.is_empty()) {
        let Some((host, port)) = entry.rsplit_once(':') else {
            if log {
                zlog!(ERROR, "resolve_hosts", "no port in {}", entry);
            }
            return Err(libc::EINVAL);
        };
        if !c_port(port) {
            if log {
                zlog!(ERROR, "resolve_hosts", "invalid port in {}", host);
            }
            return Err(libc::EINVAL);
        }
        let host = host.trim_start_matches(|c: char| c == ' ' || ('\t'..='\r').contains(&c));
        // Also "[v6]" (the C client would look the brackets up as part of the name).
        let name = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        match numeric(name, port).map_or_else(|| lookup(name, port), Ok) {
            Ok(port) if name.contains(':') => usable.push(format!("[{name}]:{port}")),
            Ok(port) => usable.push(format!("{name}:{port}")),
            Err(code) => {
                errno = getaddrinfo_errno(code);
                if log {
                    // SAFETY: gai_strerror returns a static NUL-terminated message.
                    let message = unsafe { CStr::from_ptr(libc::gai_strerror(code)) };
                    zlog!(ERROR, "resolve_hosts", "getaddrinfo: {}", message.to_string_lossy());
                }
            }
        }
    }
    if usable.is_empty() {
        return Err(errno);
    }
    Ok(usable.join(",") + chroot)
}

/// Whether the C client takes `port`: `strtol(port, &end, 0)` reads all of it, and
/// the number, as an `int`, is not 0.
fn c_port(port: &str) -> bool {
    let Ok(text) = CString::new(port) else { return false };
    let mut end: *mut c_char = ptr::null_mut();
    // SAFETY: text is NUL-terminated; strtol sets end to a position inside it.
    let (value, rest) = unsafe { (libc::strtol(text.as_ptr(), &raw mut end, 0), *end) };
    #[allow(clippy::cast_possible_truncation, reason = "the C client keeps strtol's long in an int")]
    let value = value as c_int;
    !port.is_empty() && rest == 0 && value != 0
}

/// The port of an address written as numbers (`127.0.0.1`, `::1`) with a decimal
/// port: what getaddrinfo gives for it, without asking it. Its `AI_ADDRCONFIG` check
/// opens a netlink socket, a handful of system calls on every `new`.
fn numeric(host: &str, port: &str) -> Option<u16> {
    host.parse::<std::net::IpAddr>().ok()?;
    if !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    port.parse().ok()
}

/// getaddrinfo as the C client calls it (the port as the service name, and again
/// without `AI_ADDRCONFIG` where that flag is refused): the port of the first IPv4 or
/// IPv6 address, or getaddrinfo's error code.
fn lookup(host: &str, service: &str) -> Result<u16, c_int> {
    let (Ok(node), Ok(service)) = (CString::new(host), CString::new(service)) else {
        return Err(libc::EAI_NONAME);
    };
    // SAFETY: an all-zero addrinfo is a valid hints value.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_flags = libc::AI_ADDRCONFIG;
    hints.ai_family = libc::AF_UNSPEC;
    hints.ai_socktype = libc::SOCK_STREAM;
    hints.ai_protocol = libc::IPPROTO_TCP;
    let mut list: *mut libc::addrinfo = ptr::null_mut();
    // SAFETY: the strings are NUL-terminated and list receives the result.
    let mut rc = unsafe { libc::getaddrinfo(node.as_ptr(), service.as_ptr(), &raw const hints, &raw mut list) };
    if rc == libc::EAI_BADFLAGS || Some(rc) == EAI_ADDRFAMILY {
        hints.ai_flags = 0;
        // SAFETY: as above; nothing was allocated by the failed call.
        rc = unsafe { libc::getaddrinfo(node.as_ptr(), service.as_ptr(), &raw const hints, &raw mut list) };
    }
    if rc != 0 {
        return Err(rc);
    }
    let mut port = None;
    let mut entry = list;
    while port.is_none() && !entry.is_null() {
        #[allow(
            clippy::cast_ptr_alignment,
            reason = "such an address is a sockaddr_in or sockaddr_in6, aligned as one"
        )]
        // SAFETY: entries of the list getaddrinfo returned, freed only below; the
        // address of an AF_INET or AF_INET6 entry is a sockaddr_in or sockaddr_in6.
        unsafe {
            port = match (*entry).ai_family {
                libc::AF_INET => Some((*(*entry).ai_addr.cast::<libc::sockaddr_in>()).sin_port),
                libc::AF_INET6 => Some((*(*entry).ai_addr.cast::<libc::sockaddr_in6>()).sin6_port),
                _ => None,
            };
            entry = (*entry).ai_next;
        }
    }
    // SAFETY: list came from a successful getaddrinfo.
    unsafe { libc::freeaddrinfo(list) };
    port.map(u16::from_be).ok_or(libc::EAI_FAMILY)
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
const EAI_ADDRFAMILY: Option<c_int> = Some(-9);
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
const EAI_ADDRFAMILY: Option<c_int> = None;

/// The errno the C client sets for a getaddrinfo error.
fn getaddrinfo_errno(code: c_int) -> i32 {
    match code {
        libc::EAI_NONAME => libc::ENOENT,
        #[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
        libc::EAI_NODATA => libc::ENOENT,
        libc::EAI_MEMORY => libc::ENOMEM,
        _ => libc::EINVAL,
    }
}

/// Whether `path` is a node path the C client accepts. With `sequence` (create with
/// `ZOO_SEQUENCE`) the last component may be empty, `.` or `..`, since the server
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
    // Checked in place: a call's path is checked on every call.
    let mut components = path[1..].split(|&b| b == b'/').peekable();
    while let Some(component) = components.next() {
        let special = component.is_empty() || component == b"." || component == b"..";
        if special && !(sequence && components.peek().is_none()) {
            return false;
        }
    }
    true
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
        assert_eq!(check_hosts(b""), Err(libc::EINVAL));
        assert_eq!(check_hosts(b","), Err(libc::EINVAL));
        assert_eq!(check_hosts(b"/chroot"), Err(libc::EINVAL));
        assert_eq!(check_hosts(b"localhost"), Err(libc::EINVAL));
        assert_eq!(check_hosts(b"localhost:0"), Err(libc::EINVAL));
        assert_eq!(check_hosts(b"0.0.0.0:0"), Err(libc::EINVAL));
        assert_eq!(check_hosts(b"127.0.0.1:"), Err(libc::EINVAL));
        assert_eq!(check_hosts(b"127.0.0.1:2181 "), Err(libc::EINVAL));
        assert_eq!(check_hosts(b"127.0.0.1:2181x"), Err(libc::EINVAL));
        // ENOENT for an unknown name (EINVAL if the resolver could not be asked).
        let unknown = getaddrinfo_errno(lookup("no-such-host.invalid", "2181").unwrap_err());
        assert!(unknown == libc::ENOENT || unknown == libc::EINVAL);
        assert_eq!(check_hosts(b"no-such-host.invalid:2181"), Err(unknown));
        // A bad port fails the list even after a usable host.
        assert_eq!(check_hosts(b"127.0.0.1:2181,127.0.0.1:0"), Err(libc::EINVAL));
        assert_eq!(check_hosts(b"127.0.0.1:2181/chroot").as_deref(), Ok("127.0.0.1:2181/chroot"));
        assert_eq!(check_hosts(b"127.0.0.1:1,localhost:2").as_deref(), Ok("127.0.0.1:1,localhost:2"));
        // White space before a host is skipped, also after a comma.
        assert_eq!(check_hosts(b" 127.0.0.1:2181").as_deref(), Ok("127.0.0.1:2181"));
        assert_eq!(check_hosts(b"127.0.0.1:1, \t127.0.0.1:2/r").as_deref(), Ok("127.0.0.1:1,127.0.0.1:2/r"));
        // strtol checks the port, getaddrinfo reads it as a decimal service.
        assert_eq!(check_hosts(b"127.0.0.1: 2181").as_deref(), Ok("127.0.0.1:2181"));
        assert_eq!(check_hosts(b"127.0.0.1:02181"), Err(libc::EINVAL));
        assert_eq!(check_hosts(b"127.0.0.1:0100").as_deref(), Ok("127.0.0.1:100"));
        assert_eq!(check_hosts(b"127.0.0.1:0x885"), Err(libc::EINVAL));
        // An unresolvable host is skipped while another resolves.
        assert_eq!(check_hosts(b"no-such-host.invalid:2181,127.0.0.1:2181").as_deref(), Ok("127.0.0.1:2181"));
        assert_eq!(check_hosts(b"127.0.0.1:2181,no-such-host.invalid:2181/r").as_deref(), Ok("127.0.0.1:2181/r"));
        assert_eq!(check_hosts(b"no-such-host.invalid:1,,no-such-host.invalid:2"), Err(unknown));
        assert_eq!(check_hosts(b"[::1]:2181").as_deref(), Ok("[::1]:2181"));
        assert_eq!(check_hosts(b"::1:2181").as_deref(), Ok("[::1]:2181"));
    }

    #[test]
    fn numeric_addresses_as_getaddrinfo_reads_them() {
        for (host, port) in [("127.0.0.1", "2181"), ("127.0.0.1", "0100"), ("::1", "1"), ("10.1.2.3", "65535")] {
            assert_eq!(numeric(host, port), lookup(host, port).ok(), "{host} {port}");
        }
        // Left to getaddrinfo: names, other spellings of numbers, ports it reads alone.
        for (host, port) in [("localhost", "2181"), ("127.1", "2181"), ("127.0.0.1", " 2181"), ("127.0.0.1", "70000")] {
            assert_eq!(numeric(host, port), None, "{host} {port}");
        }
    }
}
