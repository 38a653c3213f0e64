//! Errors about a scenario file: where (file, line, column, byte span), what, and a hint.
//!
//! The library only describes the problem; the binary decides how to render it (it uses
//! miette to underline the span). Bad input never panics: every path from a file to a
//! validated scenario returns a [`ScenarioError`].

use std::fmt;
use std::sync::Arc;

/// What went wrong, broadly (tests and exit codes match on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The file could not be read (missing, a directory, not UTF-8...).
    Io,
    /// The file is empty.
    Empty,
    /// Not valid RON for the schema (syntax, unknown field, wrong unit...).
    Parse,
    /// Well-formed but inconsistent (unknown node, cycle, bad parameters...).
    Invalid,
}

/// A problem with a scenario file.
#[derive(Debug, Clone)]
pub struct ScenarioError {
    /// Broad category.
    pub kind: ErrorKind,
    /// The file as the user named it.
    pub file: String,
    /// The file's text, when it could be read (for rendering a snippet).
    pub source: Option<Arc<str>>,
    /// Byte range in `source` the error is about, when known.
    pub span: Option<(usize, usize)>,
    /// What is wrong, in one sentence.
    pub message: String,
    /// How to fix it, when we can tell.
    pub hint: Option<String>,
}

impl ScenarioError {
    /// A new error with no location yet.
    pub fn new(kind: ErrorKind, file: &str, message: impl Into<String>) -> Self {
        ScenarioError {
            kind,
            file: file.to_string(),
            source: None,
            span: None,
            message: message.into(),
            hint: None,
        }
    }

    /// Attach a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// 1-based line and column of the span start, when known.
    pub fn line_col(&self) -> Option<(usize, usize)> {
        let (src, (start, _)) = (self.source.as_ref()?, self.span?);
        let before = &src[..start.min(src.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Some((line, col))
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line_col() {
            Some((l, c)) => write!(f, "{}:{l}:{c}: {}", self.file, self.message)?,
            None => write!(f, "{}: {}", self.file, self.message)?,
        }
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// The closest of `candidates` to `word`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        // Close: a few edits away (a transposition counts as one) or a long shared prefix.
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|&(d, c)| {
            d <= (word.chars().count() / 3).max(1) || strsim::jaro_winkler(word, c) >= 0.9
        })
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// Finds where things are written in the source text, for errors found after parsing
/// (when serde's positions are gone). Heuristic but predictable: the first match wins.
pub struct Locator<'a> {
    /// The file's text.
    pub src: &'a str,
}

impl<'a> Locator<'a> {
    /// Byte span of the first `"text"` (quoted) at or after `from`.
    pub fn quoted(&self, text: &str, from: usize) -> Option<(usize, usize)> {
        let needle = format!("\"{text}\"");
        let at = self.src.get(from..)?.find(&needle)? + from;
        Some((at, at + needle.len()))
    }

    /// Byte span of the declaration `name: "text"` (any spacing), falling back to the first
    /// quoted occurrence.
    pub fn decl(&self, text: &str) -> Option<(usize, usize)> {
        let mut from = 0;
        while let Some((s, e)) = self.quoted(text, from) {
            let before = self.src[..s].trim_end();
            if let Some(b) = before.strip_suffix(':') {
                if b.trim_end().ends_with("name") {
                    return Some((s, e));
                }
            }
            from = e;
        }
        self.quoted(text, 0)
    }

    /// Byte span of the identifier `field` followed by `:` at or after `from`.
    pub fn field(&self, field: &str, from: usize) -> Option<(usize, usize)> {
        let mut at = from;
        while let Some(i) = self.src.get(at..)?.find(field) {
            let s = at + i;
            let e = s + field.len();
            let ident_before = self.src[..s].chars().next_back().is_some_and(is_ident);
            let rest = self.src[e..].trim_start();
            if !ident_before && rest.starts_with(':') {
                return Some((s, e));
            }
            at = e;
        }
        None
    }

    /// Byte offset of the `i`-th entry of list `field` (an entry starts with one of
    /// `markers`, e.g. `At(`), for locating errors in a list of timed entries.
    pub fn nth_entry(&self, field: &str, i: usize, markers: &[&str]) -> usize {
        let mut at = self.field(field, 0).map_or(0, |s| s.1);
        for k in 0..=i {
            let next = self
                .src
                .get(at..)
                .and_then(|t| markers.iter().filter_map(|m| t.find(m)).min());
            match next {
                Some(p) if k == i => return at + p,
                Some(p) => at += p + 3,
                None => break,
            }
        }
        at
    }

    /// Span of `field:` inside the declaration of `owner`, or of the declaration itself.
    pub fn field_in(&self, owner: &str, field: &str) -> Option<(usize, usize)> {
        let d = self.decl(owner)?;
        self.field(field, d.1).or(Some(d))
    }
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_and_locations() {
        assert_eq!(
            did_you_mean("catalog-dbb", ["web", "catalog-db"]),
            Some("catalog-db")
        );
        assert_eq!(did_you_mean("zzz", ["web", "catalog-db"]), None);
        let src = "A(target: \"db\")\nB(name: \"db\", cores: 2)";
        let l = Locator { src };
        let d = l.decl("db").unwrap();
        assert_eq!(&src[d.0..d.1], "\"db\"");
        assert!(d.0 > 16);
        let f = l.field_in("db", "cores").unwrap();
        assert_eq!(&src[f.0..f.1], "cores");
        let mut e = ScenarioError::new(ErrorKind::Invalid, "x.ron", "bad");
        e.source = Some(src.into());
        e.span = Some(f);
        assert_eq!(e.line_col(), Some((2, 15)));
        assert_eq!(e.to_string(), "x.ron:2:15: bad");
    }
}
