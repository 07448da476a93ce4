//! The columns replay reads, in one table: their names (today's and the
//! 2019 aliases), each with its [`Col`]; `Properties::text_slot` says
//! where each goes. The fast scanner
//! finds a key here with one probe of a collision-free slot table; the
//! full parsers (serde) look keys up in the same table, so the two can
//! never read different columns.

/// A column replay reads: its slot, by bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Col {
    Timestamp,
    DeviceId,
    DeviceName,
    ReportId,
    MachineGroup,
    ActionType,
    Sha1,
    Sha256,
    Md5,
    ISha1,
    ISha256,
    IMd5,
    SignerHash,
    RemoteIp,
    FileOriginIp,
    RequestSourceIp,
    RemoteSessionIp,
    PublicIp,
    RemoteUrl,
    FileOriginUrl,
    FileOriginReferrerUrl,
    Url,
    AdditionalFields,
}

/// The columns replay reads, by every name the full parser accepts
/// (2019 aliases included).
pub(crate) const COLUMNS: [(&[u8], Col); 26] = [
    (b"Timestamp", Col::Timestamp),
    (b"EventTime", Col::Timestamp),
    (b"DeviceId", Col::DeviceId),
    (b"MachineId", Col::DeviceId),
    (b"DeviceName", Col::DeviceName),
    (b"ComputerName", Col::DeviceName),
    (b"ReportId", Col::ReportId),
    (b"MachineGroup", Col::MachineGroup),
    (b"ActionType", Col::ActionType),
    (b"SHA1", Col::Sha1),
    (b"SHA256", Col::Sha256),
    (b"MD5", Col::Md5),
    (b"InitiatingProcessSHA1", Col::ISha1),
    (b"InitiatingProcessSHA256", Col::ISha256),
    (b"InitiatingProcessMD5", Col::IMd5),
    (b"SignerHash", Col::SignerHash),
    (b"RemoteIP", Col::RemoteIp),
    (b"FileOriginIP", Col::FileOriginIp),
    (b"RequestSourceIP", Col::RequestSourceIp),
    (b"InitiatingProcessRemoteSessionIP", Col::RemoteSessionIp),
    (b"PublicIP", Col::PublicIp),
    (b"RemoteUrl", Col::RemoteUrl),
    (b"FileOriginUrl", Col::FileOriginUrl),
    (b"FileOriginReferrerUrl", Col::FileOriginReferrerUrl),
    (b"Url", Col::Url),
    (b"AdditionalFields", Col::AdditionalFields),
];

/// A hash of a key that no two of [`COLUMNS`] share (the build fails
/// otherwise), so a key is looked up with one probe and one comparison:
/// records have ~45 keys and replay reads about half of them. It mixes
/// the key's first eight bytes and its length, so the bytes can be
/// loaded before the key's end is known.
#[inline]
const fn slot_of(first8: u64, len: usize) -> usize {
    // Found by search: no two column names collide.
    const K: u64 = 0x78e5_1061_7311_d8a3;
    (first8.wrapping_add(len as u64).wrapping_mul(K) >> 58) as usize
}

/// The first eight bytes of `key` (zero-padded), little-endian.
#[inline]
const fn first8(key: &[u8]) -> u64 {
    let mut w = 0u64;
    let mut i = 0;
    while i < 8 && i < key.len() {
        w |= (key[i] as u64) << (8 * i);
        i += 1;
    }
    w
}

/// Bit `n` is set when some column name is `n` bytes long.
const NAME_LENGTHS: u64 = {
    let mut bits = 0u64;
    let mut i = 0;
    while i < COLUMNS.len() {
        bits |= 1 << COLUMNS[i].0.len();
        i += 1;
    }
    bits
};

const SLOTS: [u8; 64] = {
    let mut slots = [u8::MAX; 64];
    let mut i = 0;
    while i < COLUMNS.len() {
        let name = COLUMNS[i].0;
        let s = slot_of(first8(name), name.len());
        assert!(slots[s] == u8::MAX, "two column names share a slot");
        slots[s] = i as u8;
        i += 1;
    }
    slots
};

/// The column named by the key `line[start..end]`, if replay reads it.
/// Inlined into the scanner's key loop: as a call it cost ~1 % more
/// instructions per record (callgrind).
#[inline(always)]
pub(crate) fn column(line: &[u8], start: usize, end: usize) -> Option<Col> {
    let key = &line[start..end];
    let len = key.len();
    // Most unread keys have a length no column name has (78% of them in
    // generated records): one bit test spares them the hash.
    if len >= 64 || NAME_LENGTHS & (1 << len) == 0 {
        return None;
    }
    // Eight bytes from the key's start (past its end, the line goes on:
    // at least the closing quote and a colon), masked to the key.
    let word = match line.get(start..start + 8) {
        Some(w) => u64::from_le_bytes(w.try_into().expect("8 bytes")),
        None => first8(key),
    };
    let word = if len >= 8 { word } else { word & ((1u64 << (8 * len)) - 1) };
    let (name, col) = COLUMNS.get(usize::from(SLOTS[slot_of(word, len)]))?;
    same_key(name, key).then_some(*col)
}

/// `a == b` for short keys without a call to `memcmp`: two overlapping
/// loads from each end cover every byte.
#[inline]
fn same_key(a: &[u8], b: &[u8]) -> bool {
    fn word<const N: usize>(s: &[u8], at: usize) -> [u8; N] {
        s[at..at + N].try_into().expect("in bounds")
    }
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        0..8 => a.iter().zip(b).all(|(x, y)| x == y),
        8..=16 => {
            word::<8>(a, 0) == word::<8>(b, 0)
                && word::<8>(a, n - 8) == word::<8>(b, n - 8)
        }
        17..=32 => {
            word::<16>(a, 0) == word::<16>(b, 0)
                && word::<16>(a, n - 16) == word::<16>(b, n - 16)
        }
        _ => a == b,
    }
}

impl Col {
    /// The column's name (today's).
    pub(crate) fn name(self) -> &'static str {
        let (name, _) = COLUMNS
            .iter()
            .find(|(_, c)| *c == self)
            .expect("every column is in the table");
        std::str::from_utf8(name).expect("column names are ASCII")
    }

    /// The column's bit in a set of columns.
    pub(crate) fn bit(self) -> u32 {
        1 << self as u32
    }
}

/// The column named `key` exactly, if replay reads it.
pub(crate) fn column_named(key: &[u8]) -> Option<Col> {
    column(key, 0, key.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_name_is_found_and_nothing_else() {
        for (name, col) in COLUMNS {
            // Alone, and followed by the rest of a line.
            let key = |k: &[u8]| column(k, 0, k.len());
            let in_line = |k: &[u8]| {
                let line = [k, b"\":\"v\"}"].concat();
                column(&line, 0, k.len())
            };
            assert_eq!(key(name), Some(col));
            assert_eq!(in_line(name), Some(col));
            let mut longer = name.to_vec();
            longer.push(b'x');
            assert_eq!(key(&longer), None);
            assert_eq!(in_line(&longer), None);
            assert_eq!(key(&name[..name.len() - 1]), None);
            assert_eq!(in_line(&name[..name.len() - 1]), None);
        }
        for key in [&b""[..], b"FileName", b"sha1", b"InitiatingProcessSHA1 "]
        {
            assert_eq!(column(key, 0, key.len()), None);
        }
    }
}
