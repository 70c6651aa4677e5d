//! Fuzzes the inbox record reader, `store::parse_records` (store/record.rs). An inbox can end in a line torn by
//! a writer that was killed, or hold a line damaged on disk, so the reader must never panic,
//! never count a torn tail, never let one bad line hide the good ones around it, and give
//! back exactly the records that were written whole.
#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use webrtc_cgi::store::{parse_records, Record};

#[derive(Arbitrary, Debug)]
enum Input {
    /// Any bytes at all, as a damaged file would hold.
    Raw(Vec<u8>),
    /// Whole records, one byte possibly damaged, the last line possibly torn.
    Written {
        records: Vec<(u32, String)>,
        damage: Option<(u16, u8)>,
        torn_at: Option<u16>,
    },
}

/// The documented inbox line format, `id TAB checksum TAB payload LF`, where the checksum is
/// 64-bit FNV-1a over `id TAB payload` written as 16 lowercase hex digits. Written out here
/// independently of the store, so that a change of format on either side shows up.
fn encode(id: u64, payload: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let hashed = format!("{id}\t{payload}");
    for byte in hashed.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{id}\t{hash:016x}\t{payload}\n")
}

/// Properties that hold for any bytes.
fn check_any(bytes: &[u8]) -> Vec<Record> {
    let (records, consumed) = parse_records(bytes);
    assert!(consumed <= bytes.len());
    assert!(
        consumed == 0 || bytes[consumed - 1] == b'\n',
        "only complete lines are consumed"
    );
    assert!(
        !bytes[consumed..].contains(&b'\n'),
        "every complete line is consumed"
    );
    for record in &records {
        assert!(record.id > 0, "id 0 is never a record");
        assert!(!record.payload.contains('\n'));
    }
    // The torn tail is invisible: reading only the complete lines gives the same records.
    let (again, consumed_again) = parse_records(&bytes[..consumed]);
    assert_eq!(again, records);
    assert_eq!(consumed_again, consumed);
    // Lines are independent: a split at any line boundary reads as the two halves.
    if let Some(split) = bytes[..consumed].iter().position(|&byte| byte == b'\n') {
        let (first, first_consumed) = parse_records(&bytes[..=split]);
        let (second, _) = parse_records(&bytes[split + 1..consumed]);
        assert_eq!(first_consumed, split + 1);
        assert_eq!([first, second].concat(), records);
    }
    records
}

fuzz_target!(|input: Input| match input {
    Input::Raw(bytes) => {
        check_any(&bytes);
    }
    Input::Written {
        records,
        damage,
        torn_at,
    } => {
        // Payloads are compact JSON, as the request parser guarantees: one line, and no raw
        // tab either, since JSON escapes control characters inside strings.
        let written: Vec<Record> = records
            .iter()
            .enumerate()
            .map(|(index, (step, payload))| Record {
                id: index as u64 * 1000 + u64::from(*step % 1000) + 1,
                payload: payload.replace(['\n', '\t'], " "),
            })
            .collect();
        let lines: Vec<String> = written
            .iter()
            .map(|record| encode(record.id, &record.payload))
            .collect();
        let mut bytes: Vec<u8> = lines.concat().into_bytes();
        let (whole, consumed) = parse_records(&bytes);
        assert_eq!(whole, written, "whole records read back as written");
        assert_eq!(consumed, bytes.len());

        // A damaged byte never invents a record: whatever survives is one that was written,
        // in order. (A damaged line may still read as its own record when the change does
        // not alter what it says, such as an upper-case checksum digit.) Enough damage can
        // forge anything, so one byte is the claim.
        if let Some((position, byte)) = damage {
            if !bytes.is_empty() {
                let index = usize::from(position) % bytes.len();
                bytes[index] = byte;
            }
        }
        if let Some(torn_at) = torn_at {
            if !bytes.is_empty() {
                bytes.truncate(usize::from(torn_at) % bytes.len());
            }
        }
        let survivors = check_any(&bytes);
        let mut remaining = written.iter();
        for survivor in &survivors {
            assert!(
                remaining.any(|record| record == survivor),
                "{survivor:?} was never written, or came out of order"
            );
        }
        // Without damage, tearing loses only the torn line: every complete one reads back.
        if damage.is_none() {
            let complete = bytes.iter().filter(|&&byte| byte == b'\n').count();
            assert_eq!(survivors, written[..complete].to_vec());
        }
    }
});
