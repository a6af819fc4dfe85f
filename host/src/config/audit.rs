//! `[server.audit]`: where the audit log goes (a line per call), how it
//! rotates, and whether argument values are logged or only their shape.

use std::path::PathBuf;

use super::raw::RawAudit;
use super::resolve::{Resolver, Result};

/// The size past which an audit file is rotated, unless `max_size` says.
pub const DEFAULT_AUDIT_MAX_SIZE: u64 = 64 * 1024 * 1024;
/// Rotated audit files kept, unless `keep` says.
pub const DEFAULT_AUDIT_KEEP: u32 = 5;

/// Where audit records are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditTarget {
    /// Standard error, between the log lines (`file = "stderr"`).
    Stderr,
    /// A file, appended to and rotated by size.
    File(PathBuf),
}

/// `[server.audit]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditSettings {
    /// `file`: a path (relative to the config file) or `stderr`.
    pub target: AuditTarget,
    /// `max_size`: the size past which the file is rotated
    /// (`audit.log` → `audit.log.1` → …).
    pub max_size: u64,
    /// `keep`: rotated files kept (0: none, the file starts again empty).
    pub keep: u32,
    /// `audit_arguments`: log argument values, not only their shape (keys
    /// and types). Off by default: arguments may hold what users would not
    /// want in a log.
    pub arguments: bool,
}

impl Resolver<'_> {
    /// `[server.audit]`, if the table is there.
    pub(super) fn audit(&self, raw: &RawAudit) -> Result<AuditSettings> {
        let key = |field: &'static str| ["server", "audit", field];
        let target = match raw.file.as_deref() {
            None => {
                return Err(self.invalid(
                    &key("file"),
                    "is missing; write file = \"audit.log\" (a path) or file = \"stderr\"",
                ));
            }
            Some("") => {
                return Err(self.invalid(&key("file"), "is empty; name a file, or \"stderr\""));
            }
            Some("stderr") => AuditTarget::Stderr,
            Some(path) => {
                let path = self.base.join(path);
                if !path.parent().is_some_and(|dir| dir.is_dir()) {
                    return Err(self.invalid(
                        &key("file"),
                        format!("{}: its directory does not exist; create it, or write file = \"stderr\"", path.display()),
                    ));
                }
                AuditTarget::File(path)
            }
        };
        let max_size = match &raw.max_size {
            Some(v) => self.size(&key("max_size"), v, 4096)?,
            None => DEFAULT_AUDIT_MAX_SIZE,
        };
        let keep = match &raw.keep {
            Some(v) => {
                let n = self.count(&key("keep"), v, 0)?;
                u32::try_from(n)
                    .ok()
                    .filter(|n| *n <= 1000)
                    .ok_or_else(|| {
                        self.invalid(
                            &key("keep"),
                            format!("{n} is too many; keep at most 1000 files"),
                        )
                    })?
            }
            None => DEFAULT_AUDIT_KEEP,
        };
        Ok(AuditSettings {
            target,
            max_size,
            keep,
            arguments: raw.audit_arguments,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{expect_invalid, parse_in};
    use super::*;

    #[test]
    fn audit_resolves_and_refuses_what_cannot_work() {
        let t = "audit";
        let config = parse_in(t, "[server.audit]\nfile = \"data/audit.log\"\n").unwrap();
        let audit = config.server.audit.unwrap();
        assert!(matches!(&audit.target, AuditTarget::File(p) if p.ends_with("data/audit.log")));
        assert_eq!(
            (audit.max_size, audit.keep, audit.arguments),
            (DEFAULT_AUDIT_MAX_SIZE, DEFAULT_AUDIT_KEEP, false)
        );
        let config = parse_in(
            t,
            "[server.audit]\nfile = \"stderr\"\nmax_size = \"1MiB\"\nkeep = 0\naudit_arguments = true\n",
        )
        .unwrap();
        let audit = config.server.audit.unwrap();
        assert_eq!(audit.target, AuditTarget::Stderr);
        assert_eq!(
            (audit.max_size, audit.keep, audit.arguments),
            (1 << 20, 0, true)
        );
        assert!(parse_in(t, "").unwrap().server.audit.is_none());
        let a = |s: &str| format!("[server.audit]\n{s}\n");
        expect_invalid(
            t,
            &a("keep = 1"),
            "server.audit.file",
            &["is missing", "stderr"],
        );
        expect_invalid(t, &a("file = \"\""), "server.audit.file", &["is empty"]);
        let missing = a("file = \"nowhere/audit.log\"");
        expect_invalid(
            t,
            &missing,
            "server.audit.file",
            &["directory does not exist"],
        );
        expect_invalid(
            t,
            &a("file = \"a\"\nmax_size = \"1KiB\""),
            "server.audit.max_size",
            &["too small"],
        );
        expect_invalid(
            t,
            &a("file = \"a\"\nkeep = 5000"),
            "server.audit.keep",
            &["at most 1000"],
        );
        let unknown = parse_in(t, &a("file = \"a\"\narguments = true")).unwrap_err();
        let shown = unknown.to_string();
        assert!(
            shown.contains("server.audit.arguments") && shown.contains("`audit_arguments`"),
            "{shown}"
        );
    }
}
