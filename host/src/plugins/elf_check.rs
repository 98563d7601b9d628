//! Checks a plugin file before the dynamic loader maps it.
//!
//! The dynamic loader maps a library's segments straight from the file; a segment that reaches
//! past the end of a cut-short file is mapped anyway, and the first touch of it kills the process
//! with SIGBUS. So an ELF file is parsed first (`object`): its header, its program headers and
//! every segment's bytes must lie within the file, and so must the section headers and sections
//! (they end the file, so a cut anywhere is named, even one that would still load). Files that are not ELF at all are left to the
//! dynamic loader, which refuses them with its own message.

use std::path::Path;

use object::elf::{FileHeader32, FileHeader64};
use object::read::elf::{FileHeader, ProgramHeader, SectionHeader};
use object::{Endianness, FileKind};

/// Why a file cannot be handed to the dynamic loader.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ElfProblem {
    /// The file could not be read.
    #[error("cannot read: {0}")]
    Unreadable(String),
    /// The file starts like an ELF file but is broken or cut short.
    #[error("a damaged or truncated shared library ({size} bytes): {detail}")]
    Damaged {
        /// The file's size.
        size: u64,
        /// What is wrong.
        detail: String,
    },
}

/// Checks that a file the dynamic loader would map is whole. `Ok` for a whole ELF file and for a
/// file that is not ELF (the dynamic loader refuses those safely).
pub fn check_file(path: &Path) -> Result<(), ElfProblem> {
    let data = std::fs::read(path).map_err(|e| ElfProblem::Unreadable(e.to_string()))?;
    check_bytes(&data)
}

/// [`check_file`] on a file's contents.
pub fn check_bytes(data: &[u8]) -> Result<(), ElfProblem> {
    const MAGIC: &[u8] = b"\x7fELF";
    let size = data.len() as u64;
    let damaged = |detail: String| ElfProblem::Damaged { size, detail };
    // A prefix of the magic (a file cut within its first four bytes) is a cut ELF file too.
    let starts_like_elf = !data.is_empty() && MAGIC.starts_with(&data[..data.len().min(4)]);
    if !starts_like_elf {
        return Ok(());
    }
    match FileKind::parse(data) {
        Ok(FileKind::Elf32) => check_segments::<FileHeader32<Endianness>>(data),
        Ok(FileKind::Elf64) => check_segments::<FileHeader64<Endianness>>(data),
        Ok(other) => Err(damaged(format!("unexpected object kind {other:?}"))),
        Err(e) => Err(damaged(format!("the ELF header is incomplete: {e}"))),
    }
}

fn check_segments<H: FileHeader<Endian = Endianness>>(data: &[u8]) -> Result<(), ElfProblem> {
    let size = data.len() as u64;
    let damaged = |detail: String| ElfProblem::Damaged { size, detail };
    let header =
        H::parse(data).map_err(|e| damaged(format!("the ELF header is incomplete: {e}")))?;
    let endian = header
        .endian()
        .map_err(|e| damaged(format!("the ELF header is invalid: {e}")))?;
    let segments = header
        .program_headers(endian, data)
        .map_err(|e| damaged(format!("the program headers are not within the file: {e}")))?;
    if segments.is_empty() {
        return Err(damaged("it has no program headers".to_owned()));
    }
    for (i, segment) in segments.iter().enumerate() {
        let offset: u64 = segment.p_offset(endian).into();
        let length: u64 = segment.p_filesz(endian).into();
        match offset.checked_add(length) {
            Some(end) if end <= size => {}
            _ => {
                return Err(damaged(format!(
                    "segment {i} needs bytes {offset}..{} of the file",
                    offset.saturating_add(length)
                )))
            }
        }
    }
    // The section headers sit at the end of the file: a file cut anywhere loses them.
    let sections = header
        .section_headers(endian, data)
        .map_err(|e| damaged(format!("the section headers are not within the file: {e}")))?;
    for (i, section) in sections.iter().enumerate() {
        if section.sh_type(endian) == object::elf::SHT_NOBITS {
            continue;
        }
        let offset: u64 = section.sh_offset(endian).into();
        let length: u64 = section.sh_size(endian).into();
        match offset.checked_add(length) {
            Some(end) if end <= size => {}
            _ => {
                return Err(damaged(format!(
                    "section {i} needs bytes {offset}..{} of the file",
                    offset.saturating_add(length)
                )))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal 64-bit little-endian ELF shared object: header, one PT_LOAD program header
    /// covering `load` bytes from offset 0.
    fn tiny_elf(load: u64) -> Vec<u8> {
        let mut v = vec![0u8; 64 + 56];
        v[..4].copy_from_slice(b"\x7fELF");
        v[4] = 2; // 64-bit
        v[5] = 1; // little endian
        v[6] = 1; // version
        v[16..18].copy_from_slice(&3u16.to_le_bytes()); // ET_DYN
        v[18..20].copy_from_slice(&62u16.to_le_bytes()); // x86-64
        v[20..24].copy_from_slice(&1u32.to_le_bytes());
        v[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
        v[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
        v[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
        v[56..58].copy_from_slice(&1u16.to_le_bytes()); // e_phnum
        let ph = 64;
        v[ph..ph + 4].copy_from_slice(&1u32.to_le_bytes()); // PT_LOAD
        v[ph + 32..ph + 40].copy_from_slice(&load.to_le_bytes()); // p_filesz
        v
    }

    #[test]
    fn a_whole_file_passes_and_every_cut_is_caught() {
        let whole = tiny_elf(120);
        assert_eq!(check_bytes(&whole), Ok(()));
        for cut in 1..whole.len() {
            let e = check_bytes(&whole[..cut]).unwrap_err();
            assert!(e.to_string().contains("truncated"), "{cut}: {e}");
        }
    }

    #[test]
    fn a_segment_past_the_end_is_named() {
        let e = check_bytes(&tiny_elf(4096)).unwrap_err().to_string();
        assert!(e.contains("segment 0 needs bytes 0..4096"), "{e}");
    }

    #[test]
    fn files_that_are_not_elf_are_left_to_the_loader() {
        assert_eq!(check_bytes(b""), Ok(()));
        assert_eq!(check_bytes(b"this is text"), Ok(()));
    }
}
