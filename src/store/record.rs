//! The inbox record format: one record a line, `id TAB checksum TAB payload LF`, where the
//! checksum is 64-bit FNV-1a over `id TAB payload`. This is the part the `records` fuzz
//! target checks; it must never panic on any bytes, never count a torn last line, and never
//! let one damaged line hide the good ones around it.
//!
//! Pure: bytes in, records out. Reading and writing files is `inbox.rs`'s.

/// One stored message, as read back from an inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub id: u64,
    /// The message as one line of JSON: `{"from": ..., "type": ..., "data": ...}`. Empty in a
    /// marker record, which only remembers the last id after a compaction emptied the inbox.
    pub payload: String,
}

/// FNV-1a, 64 bits, over `id TAB payload`: enough to tell a damaged line from a whole one.
fn checksum(id: u64, payload: &str) -> u64 {
    // The id's decimal digits, without allocating: this runs for every record read.
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = id;
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    fnv1a(
        digits[start..]
            .iter()
            .chain(b"\t")
            .chain(payload.as_bytes()),
    )
}

/// FNV-1a, 64 bits: cheap, and good enough to catch damaged lines and spread names.
pub(super) fn fnv1a<'a>(bytes: impl IntoIterator<Item = &'a u8>) -> u64 {
    bytes.into_iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One record as its line. The payload never holds a line break (the request parser and
/// the value types guarantee it).
pub(super) fn encode_record(id: u64, payload: &str) -> String {
    format!("{id}\t{:016x}\t{payload}\n", checksum(id, payload))
}

/// The most bytes a record of this payload takes on disk.
pub(super) fn record_len(payload: &str) -> u64 {
    // id (up to 20 digits), checksum, two tabs, newline.
    payload.len() as u64 + 40
}

/// Parses the complete lines of an inbox. Returns the valid records and the length of the
/// complete lines; a damaged line is skipped, a torn last line (no newline) is not counted.
pub fn parse_records(bytes: &[u8]) -> (Vec<Record>, usize) {
    let consumed = bytes
        .iter()
        .rposition(|&byte| byte == b'\n')
        .map_or(0, |position| position + 1);
    let records = bytes[..consumed]
        .split(|&byte| byte == b'\n')
        .filter_map(parse_record)
        .collect();
    (records, consumed)
}

pub(super) fn parse_record(line: &[u8]) -> Option<Record> {
    let line = std::str::from_utf8(line).ok()?;
    let mut fields = line.splitn(3, '\t');
    let id_text = fields.next()?;
    let checksum_text = fields.next()?;
    let payload = fields.next()?;
    if id_text.is_empty() || !id_text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let id: u64 = id_text.parse().ok()?;
    let expected = u64::from_str_radix(checksum_text, 16).ok()?;
    if checksum_text.len() != 16 || checksum(id, payload) != expected || id == 0 {
        return None;
    }
    Some(Record {
        id,
        payload: payload.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_parse(input: &str, expected_ids: &[u64], expected_consumed: usize) {
        let (records, consumed) = parse_records(input.as_bytes());
        let ids: Vec<u64> = records.iter().map(|record| record.id).collect();
        assert_eq!(ids, expected_ids, "{input:?}");
        assert_eq!(consumed, expected_consumed, "{input:?}");
    }

    #[test]
    fn records_round_trip() {
        let text = encode_record(1, "{\"a\":1}") + &encode_record(2, "");
        check_parse(&text, &[1, 2], text.len());
    }

    #[test]
    fn a_torn_tail_is_not_a_record() {
        let whole = encode_record(1, "{}");
        let torn = encode_record(2, "{\"x\":2}");
        let text = whole.clone() + &torn[..torn.len() - 3];
        check_parse(&text, &[1], whole.len());
    }

    #[test]
    fn a_damaged_line_is_skipped() {
        let damaged = encode_record(2, "{\"x\":2}").replace("x", "y");
        let text = encode_record(1, "{}") + &damaged + &encode_record(3, "{}");
        check_parse(&text, &[1, 3], text.len());
        let junk = "\n\n\t\t\n0\t0000000000000000\t\n";
        check_parse(junk, &[], junk.len());
        check_parse("\u{0}\u{ff}garbage", &[], 0);
    }
}
