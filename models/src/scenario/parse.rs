//! Reading a scenario file into its raw form, with located, hinted errors.
//!
//! Bounds: a file is at most [`MAX_FILE_BYTES`]; values nest at most [`MAX_NESTING`] deep
//! (RON's recursion limit, which also bounds every recursive walk of handler steps later).
//! A UTF-8 byte-order mark at the start is accepted and ignored.

use super::error::{did_you_mean, ErrorKind, ScenarioError};
use super::raw::RawScenario;
use std::path::Path;
use std::sync::Arc;

/// Largest scenario file read (16 MiB); a larger one is refused before it is parsed.
pub const MAX_FILE_BYTES: u64 = 16 << 20;
/// Deepest nesting of values (brackets and parentheses) in a scenario.
pub const MAX_NESTING: usize = 128;

/// Read and parse the file at `path` (no validation yet).
pub fn read_file(path: &Path) -> Result<(RawScenario, Arc<str>), ScenarioError> {
    let text = read_text(path)?;
    parse_str(&path.display().to_string(), text.clone()).map(|raw| (raw, text))
}

/// Read a faults file (a RON list like a scenario's `faults`) at `path`.
pub fn read_faults(
    path: &Path,
) -> Result<(Vec<crate::control::faults::RawFaultTimed>, Arc<str>), ScenarioError> {
    let text = read_text(path)?;
    parse_ron(
        &path.display().to_string(),
        text.clone(),
        "a faults file is a list: [At(\"1m\", KillInstances(node: \"web\", count: 1)), ...]",
    )
    .map(|raw| (raw, text))
}

/// Read the text of the file at `path` (bounded, UTF-8).
pub fn read_text(path: &Path) -> Result<Arc<str>, ScenarioError> {
    let shown = path.display().to_string();
    if path.is_dir() {
        return Err(ScenarioError::new(
            ErrorKind::Io,
            &shown,
            "is a directory, not a scenario file",
        )
        .with_hint("pass a .ron file, e.g. scenarios/default.ron"));
    }
    let io = |e: std::io::Error| {
        let (msg, hint) = match e.kind() {
            std::io::ErrorKind::NotFound => (
                "no such file".to_string(),
                "check the path; curated scenarios live in scenarios/, e.g. scenarios/default.ron",
            ),
            _ => (format!("cannot read: {e}"), "check the file's permissions"),
        };
        ScenarioError::new(ErrorKind::Io, &shown, msg).with_hint(hint)
    };
    let mut bytes = vec![];
    use std::io::Read;
    std::fs::File::open(path)
        .map_err(io)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ScenarioError::new(
            ErrorKind::Io,
            &shown,
            format!(
                "is larger than {} MiB, the most a scenario may be",
                MAX_FILE_BYTES >> 20
            ),
        )
        .with_hint("a scenario is a short RON text file; is this the right file?"));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let b = e.as_bytes();
        let line = b[..at].iter().filter(|&&c| c == b'\n').count() + 1;
        ScenarioError::new(
            ErrorKind::Io,
            &format!("{shown}:{line}"),
            format!("is not UTF-8 text: byte {at} (line {line}) is not part of a UTF-8 character"),
        )
        .with_hint("a scenario is a RON text file in UTF-8")
    })?;
    Ok(text.into())
}

/// Parse scenario text; `file` names it in errors.
pub fn parse_str(file: &str, text: Arc<str>) -> Result<RawScenario, ScenarioError> {
    parse_ron(file, text, "a scenario starts with `Scenario(name: \"...\", duration: \"...\", sources: [...], nodes: [...])`")
}

/// Parse RON text into `T`; `file` names it in errors, `empty_hint` says what belongs in
/// an empty file.
fn parse_ron<T: serde::de::DeserializeOwned>(
    file: &str,
    text: Arc<str>,
    empty_hint: &str,
) -> Result<T, ScenarioError> {
    if text.trim().is_empty() {
        return Err(
            ScenarioError::new(ErrorKind::Empty, file, "the file is empty").with_hint(empty_hint),
        );
    }
    let opts = ron::Options::default()
        .with_default_extension(
            ron::extensions::Extensions::IMPLICIT_SOME
                | ron::extensions::Extensions::UNWRAP_VARIANT_NEWTYPES,
        )
        .with_recursion_limit(MAX_NESTING);
    // A byte-order mark is not part of the text: parse after it, locate errors in the whole.
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    opts.from_str::<T>(&text[bom..]).map_err(|e| {
        let body = &text[bom..];
        let start = bom + offset_of(body, e.span.start.line, e.span.start.col);
        let end = (bom + offset_of(body, e.span.end.line, e.span.end.col)).max(start);
        let (message, hint) = describe(&e.code);
        let mut err = ScenarioError::new(ErrorKind::Parse, file, message);
        err.hint = hint;
        err.span = Some((start, end));
        err.source = Some(text.clone());
        err
    })
}

/// Byte offset of 1-based (line, column-in-chars).
fn offset_of(text: &str, line: usize, col: usize) -> usize {
    let mut off = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return off
                + l.char_indices()
                    .nth(col.saturating_sub(1))
                    .map_or(l.len(), |(b, _)| b);
        }
        off += l.len();
    }
    text.len()
}

fn list(expected: &[&str]) -> String {
    expected
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// "unknown field `x` in `Service`" with a did-you-mean and the list of valid names.
fn unknown_name(
    what: &str,
    found: &str,
    expected: &[&str],
    outer: &Option<String>,
    preposition: &str,
    valid: &str,
) -> (String, Option<String>) {
    let context = outer
        .as_ref()
        .map(|o| format!(" {preposition} `{o}`"))
        .unwrap_or_default();
    let hint = match did_you_mean(found, expected.iter().copied()) {
        Some(s) => format!("did you mean `{s}`? {valid}: {}", list(expected)),
        None => format!("{}: {}", valid.to_lowercase(), list(expected)),
    };
    (format!("unknown {what} `{found}`{context}"), Some(hint))
}

fn describe(code: &ron::Error) -> (String, Option<String>) {
    use ron::Error as E;
    match code {
        E::NoSuchStructField {
            expected,
            found,
            outer,
        } => unknown_name("field", found, expected, outer, "in", "Fields here"),
        E::NoSuchEnumVariant {
            expected,
            found,
            outer,
        } => unknown_name("variant", found, expected, outer, "for", "Choices"),
        E::MissingStructField { field, outer } => {
            let in_ = outer
                .as_ref()
                .map(|o| format!(" in `{o}`"))
                .unwrap_or_default();
            (
                format!("missing field `{field}`{in_}"),
                Some(format!("add `{field}: ...`")),
            )
        }
        E::DuplicateStructField { field, outer } => {
            let in_ = outer
                .as_ref()
                .map(|o| format!(" in `{o}`"))
                .unwrap_or_default();
            (
                format!("field `{field}` is given twice{in_}"),
                Some("keep one".into()),
            )
        }
        E::ExceededRecursionLimit => (
            format!("values nest more than {MAX_NESTING} levels deep"),
            Some(
                "flatten the nesting (e.g. fewer Branch levels); no scenario needs this depth"
                    .into(),
            ),
        ),
        E::Message(m) => {
            let hint = if m.contains("time unit") || m.contains("duration") {
                Some(
                    "durations are strings like \"250us\", \"15ms\", \"2s\", \"5m\", \"1h30m\""
                        .to_string(),
                )
            } else if m.contains("probability") {
                Some("a probability is a number from 0 to 1, e.g. 0.25".to_string())
            } else if m.contains("≥ 0") {
                Some("rates, weights and prices cannot be negative".to_string())
            } else {
                None
            };
            (m.clone(), hint)
        }
        other => (
            format!("{other}"),
            Some("see README.md, \"A tour of a scenario file\"".into()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(src: &str) -> ScenarioError {
        parse_str("t.ron", src.into()).unwrap_err()
    }

    const OK: &str = r#"Scenario(name: "x", duration: "1s",
        sources: [Source(name: "s", target: "a", rate: Constant(5))],
        nodes: [Service(name: "a", queue: 3, handlers: {"*": [Cpu(Exp("1ms"))]})])"#;

    #[test]
    fn accepts_a_minimal_scenario_with_implicit_some() {
        let raw = parse_str("t.ron", OK.into()).unwrap();
        assert_eq!(raw.nodes.len(), 1);
    }

    #[test]
    fn bad_unit_is_located_on_its_line() {
        let e = err(&OK.replace("\"1ms\"", "\"15 parsecs\""));
        assert_eq!(e.kind, ErrorKind::Parse);
        assert!(e.message.contains("parsecs"), "{e}");
        assert_eq!(e.line_col().unwrap().0, 3, "{e}");
    }

    #[test]
    fn unknown_field_gets_did_you_mean() {
        let e = err(&OK.replace("queue: 3", "queu: 3"));
        assert!(e.message.contains("unknown field `queu`"), "{e}");
        assert!(
            e.hint.as_deref().unwrap().contains("did you mean `queue`"),
            "{e}"
        );
        assert_eq!(e.line_col().unwrap().0, 3);
    }
}
