//! The consolidated configuration shared by the parent and its children
//! (keepalived writes it to a memfd, `/keepalived/consolidated_configuration`):
//! the parent records every line of every file it reads, includes inline;
//! children parse that copy instead of the files. A file edited on disk
//! therefore reaches a respawned child only through a reload, and every
//! process sees the same configuration.

use std::fs::File;
use std::os::unix::fs::FileExt;

pub struct ConfigCopy {
    file: File,
}

impl ConfigCopy {
    /// A memfd (falls back to an unlinked file in /run if memfd is refused).
    pub fn new() -> std::io::Result<ConfigCopy> {
        let name = c"keepalived/consolidated_configuration";
        let fd = match nix::sys::memfd::memfd_create(name, nix::sys::memfd::MFdFlags::MFD_CLOEXEC) {
            Ok(fd) => File::from(fd),
            Err(_) => tempfile_in_run()?,
        };
        Ok(ConfigCopy { file: fd })
    }

    /// Replace the content (parent, at start-up and at each reload).
    pub fn write(&self, text: &str) -> std::io::Result<()> {
        self.file.set_len(0)?;
        self.file.write_all_at(text.as_bytes(), 0)
    }

    /// The current content (children; positional reads, so processes
    /// sharing the descriptor do not disturb each other's offsets).
    pub fn read(&self) -> std::io::Result<String> {
        let len = self.file.metadata()?.len() as usize;
        let mut buf = vec![0u8; len];
        let mut done = 0;
        while done < len {
            let n = self.file.read_at(&mut buf[done..], done as u64)?;
            if n == 0 {
                break;
            }
            done += n;
        }
        buf.truncate(done);
        String::from_utf8(buf).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }
}

fn tempfile_in_run() -> std::io::Result<File> {
    let path = std::path::Path::new("/run").join(format!(".keepalived-config-{}", std::process::id()));
    let f = std::fs::OpenOptions::new().read(true).write(true).create_new(true).open(&path)?;
    let _ = std::fs::remove_file(&path);
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_read_replace() {
        let c = ConfigCopy::new().unwrap();
        c.write("first\nsecond\n").unwrap();
        assert_eq!(c.read().unwrap(), "first\nsecond\n");
        c.write("x\n").unwrap();
        assert_eq!(c.read().unwrap(), "x\n");
    }
}
