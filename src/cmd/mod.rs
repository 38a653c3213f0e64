//! The commands. Each turns validated flags into a library call and its output; all
//! simulation logic lives in the library crates.

pub mod chaos;
pub mod check;
pub mod compare;
pub mod list;
pub mod merge;
pub mod plot;
pub mod run;
pub mod sweep;
pub mod tui;
pub mod validate;

use miette::{LabeledSpan, MietteDiagnostic, NamedSource};
use models::{Scenario, ScenarioError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The built-in default scenario (the same file as `scenarios/default.ron`).
pub const DEFAULT_SCENARIO: &str = include_str!("../../scenarios/default.ron");
const DEFAULT_NAME: &str = "scenarios/default.ron (built in)";

/// Longest source line shown as a snippet under an error (bytes); longer lines get the
/// location and message only.
const MAX_SNIPPET_LINE: usize = 1000;

/// Exit code for a report that could not be written.
pub const EXIT_WRITE: u8 = 1;
/// Exit code for bad input (scenario or flags).
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code for a run cut by a limit (in flight, events).
pub const EXIT_LIMIT: u8 = 3;
/// Exit code for a run with a failed SLO, under `--fail-on-slo`.
pub const EXIT_SLO: u8 = 4;

/// The `.ron` files of folder `dir`, sorted by name.
pub fn ron_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: cannot list the folder: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "ron"))
        .collect();
    files.sort();
    Ok(files)
}

/// Refuse a flag or an input: the message, a hint, exit code 2.
pub fn bad(msg: String, hint: &str) -> ExitCode {
    eprintln!("error: {msg}");
    eprintln!("  help: {hint}");
    ExitCode::from(EXIT_BAD_INPUT)
}

/// A progress bar of `n` `what` on stderr when it is a terminal (hidden when piped or
/// `quiet`).
pub fn progress(n: u64, what: &str, quiet: bool) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let b = indicatif::ProgressBar::new(n);
    b.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{spinner}} {{pos}}/{{len}} {what} [{{bar:30}}] {{elapsed}} (eta {{eta}})"
        ))
        .expect("template")
        .progress_chars("=> "),
    );
    b
}

/// Render a scenario error with its source snippet on stderr.
pub fn report_error(e: &ScenarioError) -> ExitCode {
    let mut diag = MietteDiagnostic::new(e.message.clone());
    if let Some(h) = &e.hint {
        diag = diag.with_help(h.clone());
    }
    let location = match e.line_col() {
        Some((l, c)) => format!("{}:{l}:{c}", e.file),
        None => e.file.clone(),
    };
    diag = diag.with_code(format!("scalelab::{:?}", e.kind).to_lowercase());
    // A snippet only for lines a terminal can show: miette's renderer panics on very long
    // lines (generated one-line files), and such a line says nothing on screen anyway.
    let line_len = |src: &str, at: usize| {
        let at = at.min(src.len());
        let start = src[..at].rfind('\n').map_or(0, |i| i + 1);
        let end = src[at..].find('\n').map_or(src.len(), |i| at + i);
        end - start
    };
    let report = match (&e.source, e.span) {
        (Some(src), Some((s, end))) if line_len(src, s) <= MAX_SNIPPET_LINE => {
            let len = end
                .saturating_sub(s)
                .max(1)
                .min(src.len().saturating_sub(s));
            let diag = diag.with_label(LabeledSpan::at(s..s + len, "here"));
            miette::Report::new(diag)
                .with_source_code(NamedSource::new(e.file.clone(), src.to_string()))
        }
        _ => miette::Report::new(diag),
    };
    eprintln!("error: {location}: {}", e.message);
    eprintln!("{report:?}");
    ExitCode::from(EXIT_BAD_INPUT)
}

pub fn load(file: Option<&Path>) -> Result<Scenario, ScenarioError> {
    match file {
        Some(f) => models::load(f),
        None => models::load_str(DEFAULT_NAME, DEFAULT_SCENARIO),
    }
}

/// The scenario FILE (default: the built-in one), or its declared variant `variant`.
pub fn load_design(file: Option<&Path>, variant: Option<&str>) -> Result<Scenario, ScenarioError> {
    match (variant, file) {
        (None, file) => load(file),
        (Some(v), Some(f)) => models::load_variant(f, v),
        (Some(v), None) => models::variant_of(&load(None)?, DEFAULT_NAME, DEFAULT_SCENARIO, v),
    }
}

/// Where a report goes: stdout, or a file written whole or not at all. Opened before the
/// simulation runs, so an unwritable path fails at once, not after an hour of simulating.
pub enum Output {
    /// Standard output.
    Stdout,
    /// A regular file (or a new one): a temporary file beside it, renamed over it at the
    /// end, with the old file's permissions (0644 for a new one).
    Atomic {
        /// The file to replace (symbolic links resolved: the link keeps pointing there).
        target: PathBuf,
        /// The temporary file being written.
        tmp: tempfile::NamedTempFile,
        /// Permissions to give it.
        mode: std::fs::Permissions,
    },
    /// Something that is not a regular file (a device, a pipe): written through directly.
    Direct(std::fs::File),
}

impl Output {
    /// Prepare to write to `path` (stdout when `None`).
    pub fn open(path: Option<&Path>) -> std::io::Result<Output> {
        let Some(path) = path else {
            return Ok(Output::Stdout);
        };
        // Write through symbolic links: replace what the link points to, not the link.
        let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        match std::fs::metadata(&target) {
            Ok(m) if !m.is_file() && !m.is_dir() => {
                return Ok(Output::Direct(
                    std::fs::OpenOptions::new().write(true).open(&target)?,
                ))
            }
            Ok(m) if m.is_dir() => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::IsADirectory,
                    "is a directory",
                ))
            }
            _ => {}
        }
        let mode = match std::fs::metadata(&target) {
            Ok(m) => m.permissions(),
            Err(_) => {
                use std::os::unix::fs::PermissionsExt;
                std::fs::Permissions::from_mode(0o644)
            }
        };
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let tmp = tempfile::NamedTempFile::new_in(dir)?;
        Ok(Output::Atomic { target, tmp, mode })
    }

    /// Write the whole report. A closed pipe on stdout is not an error (`| head`).
    pub fn write(mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.append(bytes)?;
        self.finish()
    }

    /// Write a part (a file appears only at [`Output::finish`]).
    pub fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Output::Stdout => match std::io::stdout().lock().write_all(bytes) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                r => r,
            },
            Output::Direct(f) => f.write_all(bytes),
            Output::Atomic { tmp, .. } => tmp.write_all(bytes),
        }
    }

    /// Put the file in place, whole (nothing to do for stdout or a device).
    pub fn finish(self) -> std::io::Result<()> {
        match self {
            Output::Atomic { target, tmp, mode } => {
                tmp.as_file().set_permissions(mode)?;
                tmp.as_file().sync_all()?;
                tmp.persist(&target).map_err(|e| e.error)?;
                Ok(())
            }
            _ => Ok(()),
        }
    }
}
