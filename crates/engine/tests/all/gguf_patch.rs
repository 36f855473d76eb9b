//! Writes a copy of a GGUF file with `tokenizer.chat_template` set, so a test can prove the
//! engine picks up a file's embedded template without shipping a second model.
//!
//! GGUF (v2/v3): magic, version, tensor count, key/value count, the key/value pairs, the
//! tensor descriptions (whose data offsets are relative to the data section), padding to
//! `general.alignment` (32 by default), then the tensor data. Adding a pair shifts everything
//! after it, so the copy re-pads the metadata to the alignment and appends the data section
//! unchanged: the tensor offsets stay valid.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

const KEY: &str = "tokenizer.chat_template";
const TYPE_UINT32: u32 = 4;
const TYPE_STRING: u32 = 8;
const TYPE_ARRAY: u32 = 9;

struct Reader<R> {
    inner: R,
    /// Every byte read, so sections can be copied verbatim.
    copy: Vec<u8>,
}

impl<R: Read> Reader<R> {
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut buf = vec![0; n];
        self.inner.read_exact(&mut buf).expect("truncated GGUF");
        self.copy.extend_from_slice(&buf);
        buf
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.bytes(4).try_into().unwrap())
    }
    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.bytes(8).try_into().unwrap())
    }
    fn string(&mut self) -> String {
        let len = self.u64() as usize;
        String::from_utf8(self.bytes(len)).expect("non-UTF-8 GGUF string")
    }
    /// Skips one value of `kind`; returns it when it is a u32 (for `general.alignment`).
    fn value(&mut self, kind: u32) -> Option<u32> {
        match kind {
            0 | 1 | 7 => drop(self.bytes(1)),
            2 | 3 => drop(self.bytes(2)),
            TYPE_UINT32 => return Some(self.u32()),
            5 | 6 => drop(self.bytes(4)),
            10..=12 => drop(self.bytes(8)),
            TYPE_STRING => drop(self.string()),
            TYPE_ARRAY => {
                let inner = self.u32();
                for _ in 0..self.u64() {
                    self.value(inner);
                }
            }
            other => panic!("unknown GGUF value type {other}"),
        }
        None
    }
}

fn put_string(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
}

/// Copies `src` to `dst` with `tokenizer.chat_template` = `template` (replacing any).
pub fn with_chat_template(src: &Path, dst: &Path, template: &str) {
    let mut r = Reader {
        inner: BufReader::new(File::open(src).unwrap()),
        copy: Vec::new(),
    };
    assert_eq!(r.bytes(4), b"GGUF", "not a GGUF file");
    let version = r.u32();
    let n_tensors = r.u64();
    let n_kv = r.u64();
    let mut kvs = Vec::new();
    let mut kept = 0u64;
    let mut alignment = 32u64;
    for _ in 0..n_kv {
        r.copy.clear();
        let key = r.string();
        let kind = r.u32();
        let as_u32 = r.value(kind);
        if key == "general.alignment" {
            alignment = u64::from(as_u32.expect("general.alignment is not a u32"));
        }
        if key != KEY {
            kvs.extend_from_slice(&r.copy);
            kept += 1;
        }
    }
    r.copy.clear();
    for _ in 0..n_tensors {
        r.string();
        let dims = r.u32();
        for _ in 0..dims {
            r.u64();
        }
        r.u32();
        r.u64();
    }
    let tensor_infos = std::mem::take(&mut r.copy);
    let meta_end = r.inner.stream_position().unwrap();
    let data_start = meta_end.div_ceil(alignment) * alignment;

    let mut out = Vec::new();
    out.extend_from_slice(b"GGUF");
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&n_tensors.to_le_bytes());
    out.extend_from_slice(&(kept + 1).to_le_bytes());
    out.extend_from_slice(&kvs);
    put_string(&mut out, KEY);
    out.extend_from_slice(&TYPE_STRING.to_le_bytes());
    put_string(&mut out, template);
    out.extend_from_slice(&tensor_infos);
    let padded = (out.len() as u64).div_ceil(alignment) * alignment;
    out.resize(padded as usize, 0);

    let mut dst_file = File::create(dst).unwrap();
    dst_file.write_all(&out).unwrap();
    let mut data = r.inner.into_inner();
    data.seek(SeekFrom::Start(data_start)).unwrap();
    std::io::copy(&mut data, &mut dst_file).unwrap();
}
