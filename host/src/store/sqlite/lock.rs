//! The exclusive lock of a store file for the process that writes it (`run`, `sync`): an OS
//! file lock (`fs4`) on `<store>.lock` beside it, which records who holds it. The OS drops the
//! lock when the process ends, however it ends; the file itself stays.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use fs4::{FileExt, TryLockError};

use crate::store::StoreError;

/// A held lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct StoreLock {
    _file: File,
    path: PathBuf,
}

/// The lock file of a store file.
pub fn lock_path(store: &Path) -> PathBuf {
    let mut p = store.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

impl StoreLock {
    /// Takes the lock of `store`, or says who holds it.
    pub fn acquire(store: &Path) -> Result<StoreLock, StoreError> {
        let path = lock_path(store);
        let io = |source| StoreError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match FileExt::try_lock(&file) {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(StoreError::Locked {
                    path: store.display().to_string(),
                    holder: if holder.is_empty() {
                        format!("lock file {}", path.display())
                    } else {
                        format!("{holder}; lock file {}", path.display())
                    },
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        let me = format!(
            "pid {} on host {}, since {}",
            std::process::id(),
            gethostname::gethostname().to_string_lossy(),
            crate::store::now_text()
        );
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(me.as_bytes()))
            .and_then(|()| file.flush())
            .map_err(io)?;
        Ok(StoreLock { _file: file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_and_told_who_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("s.sqlite");
        let first = StoreLock::acquire(&store).unwrap();
        let err = StoreLock::acquire(&store).unwrap_err();
        let text = err.to_string();
        assert!(err.is_bad_input());
        assert!(
            text.contains(&format!("pid {}", std::process::id())) && text.contains("s.sqlite"),
            "{text}"
        );
        drop(first);
        assert!(StoreLock::acquire(&store).is_ok(), "released on drop");
    }
}
