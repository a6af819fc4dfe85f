//! A plugin file read whole and hashed, its bytes in a mapping of their own.

use std::io::Read;
use std::path::Path;
use std::ptr::NonNull;

use sha2::{Digest, Sha256};

use crate::error::LoadError;

/// A plugin file's bytes and their sha256, read once: the digest serves the
/// change check of a reload, the `sha256` pin and the compile cache key.
pub(crate) struct PluginFile {
    pub(crate) bytes: FileBytes,
    pub(crate) digest: [u8; 32],
}

impl PluginFile {
    /// Read the file, refusing one over `max` bytes before reading it. One
    /// blocking thread reads and hashes it (no chunk crosses threads).
    pub(crate) async fn read(path: &Path, max: u64) -> Result<PluginFile, LoadError> {
        let owned = path.to_owned();
        tokio::task::spawn_blocking(move || Self::read_blocking(&owned, max))
            .await
            .map_err(|e| LoadError::Read {
                path: path.to_owned(),
                source: std::io::Error::other(e),
            })?
    }

    fn read_blocking(path: &Path, max: u64) -> Result<PluginFile, LoadError> {
        let read_error = |source| LoadError::Read {
            path: path.to_owned(),
            source,
        };
        let mut file = std::fs::File::open(path).map_err(read_error)?;
        let size = file.metadata().map_err(read_error)?.len();
        if size > max {
            return Err(LoadError::TooLarge {
                path: path.to_owned(),
                size,
                max,
            });
        }
        // One byte more than the file holds, so that a file which grows
        // while it is read is noticed rather than cut short.
        let size = usize::try_from(size).map_err(|e| read_error(std::io::Error::other(e)))?;
        let mut bytes = FileBytes::with_capacity(size + 1).map_err(read_error)?;
        loop {
            match file.read(bytes.spare()) {
                Ok(0) => break,
                Ok(n) => bytes.len += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(read_error(e)),
            }
            if bytes.spare().is_empty() {
                return Err(read_error(std::io::Error::other(
                    "the file grew while it was read",
                )));
            }
        }
        let digest = Sha256::digest(&*bytes).into();
        Ok(PluginFile { bytes, digest })
    }
}

/// Bytes in a private anonymous mapping of their own, unmapped when dropped.
///
/// A plugin file's buffer from the heap stayed with the allocator after the
/// load: the thread that read it idles until tokio retires it, 10 s later,
/// and an idle thread gives nothing back (a Python plugin, 18.5 MB: 32 MiB
/// of RSS for those 10 s, 14 MiB after). Unmapping returns it at once,
/// whatever the process's allocator.
pub(crate) struct FileBytes {
    start: NonNull<u8>,
    capacity: usize,
    len: usize,
}

// SAFETY: `FileBytes` owns its mapping exclusively, like a `Vec<u8>`.
unsafe impl Send for FileBytes {}
// SAFETY: shared references only read the initialised bytes.
unsafe impl Sync for FileBytes {}

impl FileBytes {
    /// An empty buffer with room for `capacity` bytes (at least one).
    fn with_capacity(capacity: usize) -> std::io::Result<FileBytes> {
        let capacity = capacity.max(1);
        // SAFETY: a new private anonymous mapping; no existing memory is
        // involved, and the result is checked before use.
        let start = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                capacity,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if start == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        let start = NonNull::new(start.cast()).ok_or_else(std::io::Error::last_os_error)?;
        Ok(FileBytes {
            start,
            capacity,
            len: 0,
        })
    }

    /// The room after the bytes held.
    fn spare(&mut self) -> &mut [u8] {
        // SAFETY: `len <= capacity`, the mapping is `capacity` bytes long,
        // readable and writable, zero-filled by the kernel (so initialised),
        // and borrowed mutably through `self`.
        unsafe {
            std::slice::from_raw_parts_mut(
                self.start.as_ptr().add(self.len),
                self.capacity - self.len,
            )
        }
    }
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        // SAFETY: the first `len` bytes of the mapping were written by reads.
        unsafe { std::slice::from_raw_parts(self.start.as_ptr(), self.len) }
    }
}

impl Drop for FileBytes {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `with_capacity`, unmapped once; no
        // borrow of it outlives `self`.
        unsafe { libc::munmap(self.start.as_ptr().cast(), self.capacity) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("corral-file-{name}-{}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn a_file_is_read_whole_and_hashed() {
        for (name, bytes) in [
            ("empty", Vec::new()),
            (
                "pages",
                (0..3 * 4096 + 5).map(|i| (i % 251) as u8).collect(),
            ),
        ] {
            let path = scratch(name, &bytes);
            let file = PluginFile::read_blocking(&path, 1 << 20).unwrap();
            assert_eq!(&*file.bytes, &bytes[..], "{name}");
            assert_eq!(
                file.digest,
                <[u8; 32]>::from(Sha256::digest(&bytes)),
                "{name}"
            );
            std::fs::remove_file(&path).unwrap();
        }
    }

    #[test]
    fn a_file_over_the_limit_is_refused_before_it_is_read() {
        let path = scratch("large", &[0; 100]);
        let refused = PluginFile::read_blocking(&path, 99).err().unwrap();
        assert!(
            matches!(
                refused,
                LoadError::TooLarge {
                    size: 100,
                    max: 99,
                    ..
                }
            ),
            "{refused}"
        );
        std::fs::remove_file(&path).unwrap();
    }
}
