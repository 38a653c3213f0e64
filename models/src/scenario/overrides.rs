//! Overrides: `web.instances=8`, `sources.users.rate.peak=2000`, `duration=10m` — a field
//! of the scenario set from the command line (`compare --variant`, `sweep --set`).
//!
//! An override is applied to the scenario's *text*, before parsing and validation: the
//! value is written where the field's value stands (or the field is added to its
//! structure), and the result goes through the same parser and validator as a file. So a
//! bad value gets the same located, hinted error as in a file, and every other position in
//! the file is unchanged. A path is a node or source name (or a top-level field), then
//! field names, each descending into the structure the previous one holds
//! (`web.autoscale.max`, `sources.users.rate.peak`).
//!
//! Values are written as RON; a bare word that is not a number, a boolean, an enum variant
//! (capitalised) or a structure is quoted, so `timeout=2s` means `timeout: "2s"`. A number
//! with an exponent that is a whole number is written as an integer (`capacity=1e5` →
//! `100000`), so it fits integer fields.

use super::error::{did_you_mean, ErrorKind, Locator, ScenarioError};

/// One override: a path and the value (as typed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// `node.field[.field...]`, `sources.name.field...`, or a top-level field.
    pub path: String,
    /// The value, as typed (normalised when written).
    pub value: String,
}

impl Override {
    /// Parse `path=value`.
    pub fn parse(s: &str) -> Result<Override, String> {
        let (path, value) = s
            .split_once('=')
            .ok_or_else(|| format!("`{s}` is not PATH=VALUE, e.g. web.instances=8"))?;
        let (path, value) = (path.trim(), value.trim());
        if path.is_empty() || path.split('.').any(str::is_empty) {
            return Err(format!(
                "`{s}`: the path `{path}` has an empty part; write node.field, e.g. web.instances"
            ));
        }
        if value.is_empty() {
            return Err(format!("`{s}`: no value after `=`"));
        }
        Ok(Override {
            path: path.to_string(),
            value: value.to_string(),
        })
    }
}

impl std::fmt::Display for Override {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.path, self.value)
    }
}

/// `value` as RON (see the module docs).
pub fn ron_value(value: &str) -> String {
    let v = value.trim();
    if let Ok(x) = v.parse::<f64>() {
        let exp = v.contains(['e', 'E']);
        if exp && x.fract() == 0.0 && x.abs() < 9.0e15 {
            return format!("{}", x as i64);
        }
        return v.to_string();
    }
    let first = v.chars().next().unwrap_or(' ');
    if v == "true"
        || v == "false"
        || matches!(first, '"' | '(' | '[' | '{')
        || first.is_ascii_uppercase()
    {
        v.to_string()
    } else {
        format!("{v:?}")
    }
}

/// Split `s` at the commas outside brackets and quotes.
pub fn split_top(s: &str) -> Vec<&str> {
    let (mut out, mut depth, mut quoted, mut start) = (vec![], 0i32, false, 0);
    let mut prev = ' ';
    for (i, c) in s.char_indices() {
        match c {
            '"' if prev != '\\' => quoted = !quoted,
            '(' | '[' | '{' if !quoted => depth += 1,
            ')' | ']' | '}' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        prev = c;
    }
    out.push(&s[start..]);
    out
}

/// Top-level fields an override may set directly.
const TOP: &[&str] = &[
    "name",
    "description",
    "seed",
    "duration",
    "warmup",
    "sample_every",
    "limits",
    "crossing",
    "slos",
    "actions",
    "faults",
    "links",
    "regions",
    "nodes",
    "alerts",
];

/// Apply `overrides` to the scenario text `text` (named `file` in errors), in order.
pub fn apply(file: &str, text: &str, overrides: &[Override]) -> Result<String, ScenarioError> {
    let mut text = text.to_string();
    for o in overrides {
        text = apply_one(file, &text, o)?;
    }
    Ok(text)
}

fn apply_one(file: &str, text: &str, o: &Override) -> Result<String, ScenarioError> {
    let err = |span: Option<(usize, usize)>, msg: String, hint: String| {
        let mut e = ScenarioError::new(ErrorKind::Invalid, file, format!("--set {o}: {msg}"))
            .with_hint(hint);
        e.span = span;
        e.source = Some(text.into());
        e
    };
    let sc = Lex { s: text };
    let root = sc.root().ok_or_else(|| {
        err(
            None,
            "the file is not a `Scenario(...)`".into(),
            "check it with `scalelab validate FILE` first".into(),
        )
    })?;
    let segs: Vec<&str> = o.path.split('.').collect();
    // The structure the path starts in, and the rest of the path.
    let named = |list: &str, name: &str| -> Option<(usize, usize)> {
        let (_, vs, ve) = sc.field(root, list)?;
        sc.items(vs, ve)
            .into_iter()
            .find(|&(s, e)| sc.struct_body(s, e).and_then(|b| sc.name_of(b)) == Some(name))
    };
    let names = |list: &str| -> Vec<String> {
        sc.field(root, list).map_or(vec![], |(_, vs, ve)| {
            sc.items(vs, ve)
                .into_iter()
                .filter_map(|(s, e)| sc.struct_body(s, e).and_then(|b| sc.name_of(b)))
                .map(String::from)
                .collect()
        })
    };
    let (mut body, rest, mut shown) = if segs[0] == "sources" && segs.len() > 2 {
        let item = named("sources", segs[1]).ok_or_else(|| {
            let all = names("sources");
            err(
                sc.field(root, "sources").map(|f| (f.0, f.0 + 7)),
                format!("no source named `{}`", segs[1]),
                did_you_mean(segs[1], all.iter().map(String::as_str)).map_or_else(
                    || format!("sources: {}", all.join(", ")),
                    |m| format!("did you mean `{m}`?"),
                ),
            )
        })?;
        let b = sc.struct_body(item.0, item.1).expect("found by its body");
        (b, &segs[2..], format!("sources.{}", segs[1]))
    } else if let Some(item) = named("nodes", segs[0]).filter(|_| segs.len() > 1) {
        let b = sc.struct_body(item.0, item.1).expect("found by its body");
        (b, &segs[1..], segs[0].to_string())
    } else if TOP.contains(&segs[0]) {
        (root, &segs[..], String::new())
    } else {
        let all = names("nodes");
        let hint = match did_you_mean(segs[0], all.iter().map(String::as_str)) {
            Some(m) => format!("did you mean `{m}`?"),
            None => format!(
                "a path starts with a node ({}), `sources.NAME`, or one of {}",
                all.join(", "),
                TOP.join(", ")
            ),
        };
        let what = if segs.len() == 1 && !all.iter().any(|n| n == segs[0]) {
            format!("`{}` is neither a node nor a top-level field", segs[0])
        } else if segs.len() == 1 {
            format!(
                "`{}` is a node: name one of its fields, e.g. {}.instances",
                segs[0], segs[0]
            )
        } else {
            format!("no node named `{}`", segs[0])
        };
        return Err(err(None, what, hint));
    };
    // Descend to the structure holding the last field.
    for (k, seg) in rest.iter().enumerate() {
        let last = k + 1 == rest.len();
        let path = if shown.is_empty() {
            seg.to_string()
        } else {
            format!("{shown}.{seg}")
        };
        match sc.field(body, seg) {
            Some((_, vs, ve)) if last => {
                let mut out = text.to_string();
                out.replace_range(vs..ve, &ron_value(&o.value));
                return Ok(out);
            }
            Some((_, vs, ve)) => {
                body = sc.struct_body(vs, ve).ok_or_else(|| {
                    err(
                        Some((vs, ve)),
                        format!(
                            "`{path}` is `{}`, which has no fields to set",
                            &text[vs..ve]
                        ),
                        format!("set it whole: --set '{path}=...'"),
                    )
                })?;
            }
            None if last => {
                // Not written: add it at the end of the structure.
                let (open, close) = body;
                let inner = text[open + 1..close].trim_end();
                let comma = if inner.trim().is_empty() || inner.ends_with(',') {
                    ""
                } else {
                    ","
                };
                let at = open + 1 + inner.len();
                let mut out = text.to_string();
                out.insert_str(at, &format!("{comma} {seg}: {}", ron_value(&o.value)));
                return Ok(out);
            }
            None => {
                let span = Locator { src: text }.decl(segs[0]);
                return Err(err(
                    span,
                    format!("`{shown}` has no `{seg}` written, so nothing to set inside it"),
                    format!("set `{path}` whole, e.g. --set '{path}=...'"),
                ));
            }
        }
        shown = path;
    }
    unreachable!("the path has at least one field")
}

/// A small scanner of RON text: values, structures, fields; strings and comments skipped.
struct Lex<'a> {
    s: &'a str,
}

impl Lex<'_> {
    fn b(&self, i: usize) -> u8 {
        self.s.as_bytes().get(i).copied().unwrap_or(0)
    }

    /// The next position at or after `i` that is not whitespace or a comment.
    fn skip(&self, mut i: usize) -> usize {
        let n = self.s.len();
        while i < n {
            match (self.b(i), self.b(i + 1)) {
                (c, _) if c.is_ascii_whitespace() => i += 1,
                (b'/', b'/') => i = self.s[i..].find('\n').map_or(n, |k| i + k + 1),
                (b'/', b'*') => i = self.s[i + 2..].find("*/").map_or(n, |k| i + 2 + k + 2),
                _ => break,
            }
        }
        i
    }

    /// The end of the string literal starting at `i` (a `"`), past its closing quote.
    fn string_end(&self, mut i: usize) -> usize {
        i += 1;
        while i < self.s.len() {
            match self.b(i) {
                b'\\' => i += 2,
                b'"' => return i + 1,
                _ => i += 1,
            }
        }
        self.s.len()
    }

    /// The end of the value starting at `i`: before the `,` or closing bracket that ends
    /// it at its own depth (trailing whitespace and comments excluded).
    fn value_end(&self, mut i: usize) -> usize {
        let mut depth = 0i32;
        let mut last = i;
        while i < self.s.len() {
            let j = self.skip(i);
            if j != i {
                i = j;
                continue;
            }
            match self.b(i) {
                b'"' => {
                    i = self.string_end(i);
                    last = i;
                    continue;
                }
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => {
                    if depth == 0 {
                        return last;
                    }
                    depth -= 1;
                }
                b',' if depth == 0 => return last,
                _ => {}
            }
            i += 1;
            last = i;
        }
        last
    }

    /// The matching close of the bracket at `open`.
    fn close_of(&self, open: usize) -> Option<usize> {
        let e = self.value_end(open);
        (e > open && matches!(self.b(e - 1), b')' | b']' | b'}')).then_some(e - 1)
    }

    /// `Scenario( ... )` (or `( ... )`): the positions of its parentheses.
    fn root(&self) -> Option<(usize, usize)> {
        let i = self.skip(if self.s.starts_with('\u{feff}') { 3 } else { 0 });
        let e = self.value_end(i);
        self.struct_body(i, e)
    }

    /// The parentheses of a structure value `Name(...)` or `(...)` in `s..e`.
    fn struct_body(&self, s: usize, e: usize) -> Option<(usize, usize)> {
        let mut i = s;
        while i < e && (self.b(i).is_ascii_alphanumeric() || self.b(i) == b'_') {
            i += 1;
        }
        let i = self.skip(i);
        if self.b(i) != b'(' {
            return None;
        }
        let c = self.close_of(i)?;
        (c < e).then_some((i, c))
    }

    /// Field `name` of the structure `body` (its parentheses): (name start, value span).
    fn field(&self, (open, close): (usize, usize), name: &str) -> Option<(usize, usize, usize)> {
        let mut i = self.skip(open + 1);
        while i < close {
            let mut k = i;
            while k < close && (self.b(k).is_ascii_alphanumeric() || self.b(k) == b'_') {
                k += 1;
            }
            let colon = self.skip(k);
            if k == i || self.b(colon) != b':' {
                return None; // not a structure of named fields
            }
            let vs = self.skip(colon + 1);
            let ve = self.value_end(vs);
            if &self.s[i..k] == name {
                return Some((i, vs, ve));
            }
            i = self.skip(ve);
            if self.b(i) == b',' {
                i = self.skip(i + 1);
            }
        }
        None
    }

    /// The items of the list value in `s..e` (`[a, b, ...]`), each a span.
    fn items(&self, s: usize, e: usize) -> Vec<(usize, usize)> {
        let mut out = vec![];
        if self.b(s) != b'[' {
            return out;
        }
        let Some(close) = self.close_of(s).filter(|&c| c < e) else {
            return out;
        };
        let mut i = self.skip(s + 1);
        while i < close {
            let ve = self.value_end(i);
            if ve == i {
                break;
            }
            out.push((i, ve));
            i = self.skip(ve);
            if self.b(i) == b',' {
                i = self.skip(i + 1);
            }
        }
        out
    }

    /// The `name: "..."` of a structure, unquoted.
    fn name_of(&self, body: (usize, usize)) -> Option<&str> {
        let (_, vs, ve) = self.field(body, "name")?;
        let v = &self.s[vs..ve];
        v.strip_prefix('"')?.strip_suffix('"')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SC: &str = r#"// a comment with web.instances: 99 (ignored)
Scenario(
    name: "t", duration: "1m",
    sources: [Source(name: "users", target: "web", rate: Spike(base: 10, peak: 50, at: "10s", rise: "1s", hold: "5s", fall: "1s"))],
    nodes: [
        Service(name: "web", instances: 2, cores: 1, /* note */ handlers: {"*": [Cpu(Exp("1ms"))]}),
        Service(name: "db", cores: 4, handlers: {"*": [Cpu(Exp("2ms"))]},),
    ],
)"#;

    fn set(path: &str, value: &str) -> Result<String, ScenarioError> {
        apply(
            "t.ron",
            SC,
            &[Override {
                path: path.into(),
                value: value.into(),
            }],
        )
    }

    #[test]
    fn fields_are_replaced_added_or_refused_with_a_reason() {
        let t = set("web.instances", "8").unwrap();
        assert!(t.contains(r#"name: "web", instances: 8, cores: 1"#), "{t}");
        assert!(t.contains("web.instances: 99"), "comments untouched");
        // Added where not written (after a trailing comma too).
        let t = set("db.instances", "3").unwrap();
        assert!(
            t.contains(r#"handlers: {"*": [Cpu(Exp("2ms"))]}, instances: 3)"#),
            "{t}"
        );
        let t = set("web.queue", "100").unwrap();
        assert!(t.contains(r#"[Cpu(Exp("1ms"))]}, queue: 100)"#), "{t}");
        // Inside a structure; a top-level field; quoting and exponents.
        let t = set("sources.users.rate.peak", "2000").unwrap();
        assert!(t.contains("peak: 2000, at:"), "{t}");
        assert!(set("duration", "10m")
            .unwrap()
            .contains(r#"duration: "10m""#));
        assert!(set("web.queue", "1e4").unwrap().contains("queue: 10000"));
        let t = set("web.cost_per_hour", "0.5").unwrap();
        assert!(t.contains("cost_per_hour: 0.5"));
        // Each result still parses and validates (or fails as a file would).
        crate::load_str("t.ron", &set("sources.users.rate.peak", "2000").unwrap()).unwrap();
        let e = crate::load_str("t.ron", &set("web.instances", "abc").unwrap()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Parse);
        // Unknown names, with a suggestion.
        let e = set("wbe.instances", "8").unwrap_err();
        assert!(e.message.contains("no node named `wbe`"), "{e}");
        assert_eq!(e.hint.as_deref(), Some("did you mean `web`?"));
        let e = set("sources.usres.rate", "Constant(5)").unwrap_err();
        assert!(e.hint.unwrap().contains("`users`"));
        // Nothing to descend into.
        let e = set("web.instances.max", "8").unwrap_err();
        assert!(e.message.contains("which has no fields to set"), "{e}");
        let e = set("web.autoscale.max", "8").unwrap_err();
        assert!(e.message.contains("has no `autoscale` written"), "{e}");
        assert!(set("web", "8").unwrap_err().message.contains("is a node"));
    }

    #[test]
    fn values_are_written_as_ron() {
        assert_eq!(ron_value("8"), "8");
        assert_eq!(ron_value("1e6"), "1000000");
        assert_eq!(ron_value("1.5e-3"), "1.5e-3");
        assert_eq!(ron_value("2s"), "\"2s\"");
        assert_eq!(ron_value("LeastConnections"), "LeastConnections");
        assert_eq!(ron_value("Constant(100)"), "Constant(100)");
        assert_eq!(ron_value("true"), "true");
        assert!(Override::parse("web.instances").is_err());
        assert!(Override::parse("web..x=1").is_err());
        assert!(Override::parse("web.x=").is_err());
    }
}
