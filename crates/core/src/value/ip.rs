//! IP addresses and CIDR networks.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Parses one address. IPv6 may carry brackets (`[2001:db8::1]`), and an
/// IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) is read as the IPv4
/// address, as Defender's tables report both spellings of one peer.
pub fn parse_addr(s: &str) -> Option<IpAddr> {
    let s = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')).unwrap_or(s);
    // Zone ids (`fe80::1%eth0`) name a local interface; they are never a
    // public address and std refuses them too.
    let ip: IpAddr = s.parse().ok()?;
    Some(unmap(ip))
}

/// False when `s` cannot be an address (or a bracketed one): only hex
/// digits, dots, colons and brackets spell one. Most host names fail at
/// their first letter past `f`, which spares them the full parse.
pub fn may_be_addr(s: &str) -> bool {
    s.bytes().all(|b| {
        b.is_ascii_hexdigit() || matches!(b, b'.' | b':' | b'[' | b']')
    })
}

/// `a.to_string()`, without the formatting machinery (loaders format
/// every IPv4 indicator).
pub fn format_v4(a: std::net::Ipv4Addr) -> String {
    // On the stack first, so the string is allocated once at its size.
    let (mut buf, mut n) = ([0u8; 15], 0);
    for (i, o) in a.octets().into_iter().enumerate() {
        if i > 0 {
            buf[n] = b'.';
            n += 1;
        }
        if o >= 100 {
            buf[n] = b'0' + o / 100;
            n += 1;
        }
        if o >= 10 {
            buf[n] = b'0' + o / 10 % 10;
            n += 1;
        }
        buf[n] = b'0' + o % 10;
        n += 1;
    }
    String::from_utf8(buf[..n].to_vec()).expect("ASCII digits and dots")
}

/// Turns an IPv4-mapped IPv6 address into its IPv4 address.
pub fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// A CIDR network: an address with its host bits cleared, and a prefix
/// length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cidr {
    /// The network address (host bits zero).
    pub addr: IpAddr,
    /// The prefix length: 0–32 for IPv4, 0–128 for IPv6.
    pub prefix: u8,
}

impl Cidr {
    /// Parses `addr/len`. Host bits set in `addr` are an error, because a
    /// feed that writes `10.1.2.3/8` has likely made a mistake.
    pub fn parse(s: &str) -> Result<Cidr, &'static str> {
        let (addr, len) = s.split_once('/').ok_or("not a CIDR network")?;
        let addr: IpAddr =
            addr.parse().map_err(|_| "invalid network address")?;
        let prefix: u8 = len.parse().map_err(|_| "invalid prefix length")?;
        // An IPv4-mapped network (`::ffff:10.0.0.0/104`) is the IPv4 one.
        let mapped = match addr {
            IpAddr::V6(v6) => v6.to_ipv4_mapped(),
            IpAddr::V4(_) => None,
        };
        let (addr, prefix) = match mapped {
            Some(v4) if (96..=128).contains(&prefix) => {
                (IpAddr::V4(v4), prefix - 96)
            }
            Some(_) => return Err("prefix length out of range"),
            None => (addr, prefix),
        };
        let cidr = Cidr { addr, prefix };
        if prefix > cidr.max_prefix() {
            return Err("prefix length out of range");
        }
        if cidr.network() != addr {
            return Err("host bits are set in the network address");
        }
        Ok(cidr)
    }

    fn max_prefix(&self) -> u8 {
        if self.addr.is_ipv4() { 32 } else { 128 }
    }

    /// The address with the host bits cleared.
    fn network(&self) -> IpAddr {
        match self.addr {
            IpAddr::V4(a) => {
                IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask32(self.prefix)))
            }
            IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(
                u128::from(a) & mask128(self.prefix),
            )),
        }
    }

    /// True when `ip` is inside the network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                u32::from(a) & mask32(self.prefix) == u32::from(n)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                u128::from(a) & mask128(self.prefix) == u128::from(n)
            }
            _ => false,
        }
    }

    /// The canonical text, as [`Display`](std::fmt::Display) writes it,
    /// without the formatting machinery for IPv4 networks (the common
    /// case when loading large sets).
    pub fn to_normal_string(&self) -> String {
        match self.addr {
            IpAddr::V4(a) => {
                let mut s = format_v4(a);
                s.push('/');
                if self.prefix >= 10 {
                    s.push(char::from(b'0' + self.prefix / 10));
                }
                s.push(char::from(b'0' + self.prefix % 10));
                s
            }
            IpAddr::V6(_) => self.to_string(),
        }
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// The mask of a `prefix`-bit IPv4 network.
pub fn mask32(prefix: u8) -> u32 {
    if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix)) }
}

/// The mask of a `prefix`-bit IPv6 network.
pub fn mask128(prefix: u8) -> u128 {
    if prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(prefix)) }
}

/// Why an address is not a public one, or `None` when it is.
///
/// Defender accepts only external addresses. For IPv4 that excludes the
/// special-purpose blocks of RFC 6890 (private, shared, loopback,
/// link-local, documentation, benchmarking, multicast, reserved); for IPv6
/// only global unicast (`2000::/3`) qualifies, less documentation
/// (`2001:db8::/32`) and the IETF protocol block (`2001::/23`, Teredo
/// included).
pub fn non_public_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(a) => v4_reason(a),
        IpAddr::V6(a) => v6_reason(a),
    }
}

fn v4_reason(a: Ipv4Addr) -> Option<&'static str> {
    const BLOCKS: [(u32, u8, &str); 15] = [
        (0x0000_0000, 8, "a 'this network' address (0.0.0.0/8)"),
        (0x0A00_0000, 8, "a private address (10.0.0.0/8)"),
        (0x6440_0000, 10, "a shared address (100.64.0.0/10)"),
        (0x7F00_0000, 8, "a loopback address"),
        (0xA9FE_0000, 16, "a link-local address"),
        (0xAC10_0000, 12, "a private address (172.16.0.0/12)"),
        (0xC000_0000, 24, "a reserved address (192.0.0.0/24)"),
        (0xC000_0200, 24, "a documentation address (192.0.2.0/24)"),
        (0xC058_6300, 24, "a reserved 6to4 relay address"),
        (0xC0A8_0000, 16, "a private address (192.168.0.0/16)"),
        (0xC612_0000, 15, "a benchmarking address (198.18.0.0/15)"),
        (0xC633_6400, 24, "a documentation address (198.51.100.0/24)"),
        (0xCB00_7100, 24, "a documentation address (203.0.113.0/24)"),
        (0xE000_0000, 4, "a multicast address"),
        (0xF000_0000, 4, "a reserved address (240.0.0.0/4)"),
    ];
    let n = u32::from(a);
    BLOCKS
        .iter()
        .find(|(net, len, _)| n & mask32(*len) == *net)
        .map(|(_, _, why)| *why)
}

fn v6_reason(a: Ipv6Addr) -> Option<&'static str> {
    let n = u128::from(a);
    let in_block = |net: u128, len: u8| n & mask128(len) == net;
    if a.is_loopback() {
        Some("a loopback address")
    } else if a.is_unspecified() {
        Some("the unspecified address")
    } else if in_block(0xfe80 << 112, 10) {
        Some("a link-local address")
    } else if in_block(0xfc00 << 112, 7) {
        Some("a unique-local (private) address")
    } else if in_block(0xff00 << 112, 8) {
        Some("a multicast address")
    } else if in_block(0x2001_0db8 << 96, 32) {
        Some("a documentation address (2001:db8::/32)")
    } else if in_block(0x2001 << 112, 23) {
        Some("an IETF protocol address (2001::/23)")
    } else if !in_block(0x2000 << 112, 3) {
        Some("not a global unicast address")
    } else {
        None
    }
}

/// The text Defender's API wants for an IPv6 address: all eight groups
/// written out (`2001:4860:4860:0:0:0:0:8888`).
pub fn defender_text(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => {
            let g = a.segments();
            g.iter().map(|s| format!("{s:x}")).collect::<Vec<_>>().join(":")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_ipv4_text_equals_display() {
        for a in [
            0u32,
            1,
            9,
            10,
            99,
            100,
            255,
            256,
            0x0a00_0001,
            0xc0a8_6401,
            u32::MAX,
            0x0809_0a0b,
        ] {
            let ip = std::net::Ipv4Addr::from(a);
            assert_eq!(format_v4(ip), ip.to_string());
            for prefix in 0..=32 {
                let c = Cidr { addr: IpAddr::V4(ip), prefix };
                assert_eq!(c.to_normal_string(), c.to_string());
            }
        }
        let v6 = Cidr { addr: "2001:db8::".parse().unwrap(), prefix: 32 };
        assert_eq!(v6.to_normal_string(), "2001:db8::/32");
    }

    #[test]
    fn only_address_characters_may_be_addresses() {
        assert!(
            may_be_addr("1.2.3.4")
                && may_be_addr("[2001:db8::1]")
                && may_be_addr("dead.beef")
        );
        assert!(!may_be_addr("evil.com") && !may_be_addr("1.2.3.4%eth0"));
    }

    #[test]
    fn mapped_addresses_read_as_ipv4() {
        assert_eq!(parse_addr("::ffff:1.2.3.4"), "1.2.3.4".parse().ok());
        assert_eq!(
            parse_addr("[2001:4860::8888]"),
            "2001:4860::8888".parse().ok()
        );
        assert_eq!(parse_addr("1.2.3"), None);
    }

    #[test]
    fn public_rule() {
        let r = |s: &str| non_public_reason(s.parse().unwrap());
        assert!(r("8.8.8.8").is_none());
        assert!(r("2001:4860:4860::8888").is_none());
        for s in [
            "10.1.1.1",
            "192.168.0.1",
            "127.0.0.1",
            "169.254.1.1",
            "224.0.0.1",
            "255.255.255.255",
            "100.64.1.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "ff02::1",
            "2001:db8::1",
            "::",
        ] {
            assert!(r(s).is_some(), "{s} should be refused");
        }
    }

    #[test]
    fn cidr_parsing() {
        assert_eq!(
            Cidr::parse("10.0.0.0/8").unwrap().to_normal_string(),
            "10.0.0.0/8"
        );
        assert!(Cidr::parse("10.0.0.1/8").is_err());
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert_eq!(
            Cidr::parse("::ffff:10.0.0.0/104").unwrap().to_string(),
            "10.0.0.0/8"
        );
        let c = Cidr::parse("2001:db8::/32").unwrap();
        assert!(c.contains("2001:db8::5".parse().unwrap()));
        assert!(!c.contains("2001:db9::5".parse().unwrap()));
    }

    #[test]
    fn defender_text_writes_all_groups() {
        let ip = "2001:4860:4860::8888".parse().unwrap();
        assert_eq!(defender_text(ip), "2001:4860:4860:0:0:0:0:8888");
    }
}
