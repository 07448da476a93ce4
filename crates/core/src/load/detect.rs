//! Choosing a loader for a path.

use std::io::Read;
use std::path::Path;

use super::{Format, LoadError};

/// How much of a file the sniffer reads.
const SNIFF_BYTES: u64 = 64 * 1024;

pub(super) fn detect(path: &Path) -> Result<Format, LoadError> {
    let meta = std::fs::metadata(path).map_err(|e| LoadError::io(path, e))?;
    if meta.is_dir() {
        if path.join("manifest.json").is_file() {
            return Ok(Format::MispFeed);
        }
        return Err(LoadError::syntax(
            path,
            "a folder, but not a MISP feed (no manifest.json)",
        ));
    }
    let mut head = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(SNIFF_BYTES).read_to_end(&mut head))
        .map_err(|e| LoadError::io(path, e))?;
    Ok(sniff(&utf16_head(head)))
}

/// The first bytes as UTF-8: a UTF-16 head (BOM first) decoded, a pair
/// cut at the end of the head replaced.
fn utf16_head(head: Vec<u8>) -> Vec<u8> {
    let le = match head.as_slice() {
        [0xFF, 0xFE, ..] => true,
        [0xFE, 0xFF, ..] => false,
        _ => return head,
    };
    let units = head[2..].chunks_exact(2).map(|c| {
        if le {
            u16::from_le_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], c[1]])
        }
    });
    char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect::<String>()
        .into_bytes()
}

/// Decides from the first bytes. Content is more reliable than the
/// extension: exports are often renamed `.txt` or `.json` at random.
pub(super) fn sniff(head: &[u8]) -> Format {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim_start();
    if super::set_file::looks_like(trimmed) {
        return Format::Set;
    }
    if trimmed.starts_with('{')
        || (trimmed.starts_with('[') && !trimmed.starts_with("[["))
    {
        return sniff_json(trimmed);
    }
    let first_line = trimmed.lines().next().unwrap_or("").to_ascii_lowercase();
    if first_line.contains("indicatortype")
        && first_line.contains("indicatorvalue")
    {
        return Format::DefenderCsv;
    }
    let cells: Vec<&str> =
        first_line.split(',').map(|c| c.trim().trim_matches('"')).collect();
    if cells.contains(&"type") && cells.contains(&"value") {
        return Format::MispCsv;
    }
    // A header naming a value column, maybe under `#` comments.
    let header = trimmed
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take_while(|l| l.starts_with('#'))
        .chain(
            trimmed
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && !l.starts_with('#')),
        )
        .any(super::csv_feed::looks_like);
    if header {
        return Format::CsvFeed;
    }
    Format::Text
}

fn sniff_json(text: &str) -> Format {
    let compact: String =
        text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.contains("\"Event\":")
        || compact.starts_with("{\"response\":{\"Attribute\":")
    {
        Format::MispJson
    } else if super::legacy_ti::looks_like(&compact) {
        Format::LegacyTi
    } else if compact.contains("\"type\":\"bundle\"")
        || compact.starts_with("{\"objects\":")
    {
        Format::Stix
    } else {
        Format::DefenderJson
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content() {
        assert_eq!(
            sniff(b"\xEF\xBB\xBFIndicatorType,IndicatorValue,Action\n"),
            Format::DefenderCsv
        );
        assert_eq!(
            sniff(b"uuid,event_id,category,type,value,to_ids\n"),
            Format::MispCsv
        );
        assert_eq!(sniff(b"{\"Event\": {\"info\": \"x\"}}"), Format::MispJson);
        assert_eq!(
            sniff(b"{\n \"type\" : \"bundle\", \"id\": \"b\"}"),
            Format::Stix
        );
        assert_eq!(sniff(b"{\"value\":[]}"), Format::DefenderJson);
        assert_eq!(
            sniff(b"[{\"indicatorType\":\"Url\"}]"),
            Format::DefenderJson
        );
        assert_eq!(sniff(b"# list\nevil.com\n"), Format::Text);
        assert_eq!(sniff(b"evil.com\n"), Format::Text);
        assert_eq!(
            sniff(b"ioc_value,ioc_type\nevil.com,domain\n"),
            Format::CsvFeed
        );
        assert_eq!(
            sniff(b"# abuse.ch\n# id,url,threat\n1,http://e.com,x\n"),
            Format::CsvFeed
        );
        assert_eq!(sniff(b"# IOCs\nevil.com # c2\n"), Format::Text);
        assert_eq!(sniff(b"# set\n[[alert]]\ntitle = \"x\"\n"), Format::Set);
        assert_eq!(
            sniff(b"{\"value\":[{\"Type\":\"Sha1\",\"DetectionFunction\":\"Equals\"}]}"),
            Format::LegacyTi
        );
    }
}
