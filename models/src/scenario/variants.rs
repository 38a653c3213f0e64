//! Lessons' two sides: the SLOs a design is meant to break (`breaks`), and variants — the
//! same scenario with a few fields overridden, each with its own expectations — that
//! `scalelab check` runs beside it and `run`, `tui` and `compare` open by name.
//!
//! A variant is built from the file's text with its overrides applied (as `--set` does),
//! so an override that does not fit gets the file's own located error.

use super::overrides::Override;
use super::raw::RawVariant;
use super::{Resolver, Scenario, ScenarioError, Variant};
use crate::analysis::expect::Expect;

/// An SLO's name up to its comparison: `error_rate(browse)` for `error_rate(browse) ≤ 0.05`.
pub fn slo_key(name: &str) -> &str {
    name.split(' ').next().unwrap_or(name)
}

/// Validate `names` (written under `field`, at or after byte `from`) as SLOs of `sc`.
fn breaks_from(
    names: &[String],
    field: &str,
    from: usize,
    sc: &Scenario,
    r: &Resolver,
) -> Result<Vec<String>, ScenarioError> {
    let keys: Vec<String> = sc
        .slos
        .iter()
        .map(|s| slo_key(&s.name(sc)).to_string())
        .collect();
    for n in names {
        if !keys.contains(n) {
            let span = r.loc().quoted(n, from);
            let hint = match super::error::did_you_mean(n, keys.iter().map(String::as_str)) {
                Some(k) => format!("did you mean `{k}`?"),
                None if keys.is_empty() => "the scenario declares no slos".to_string(),
                None => format!("its SLOs: {}", keys.join(", ")),
            };
            return Err(r
                .err(
                    span,
                    format!("{field}: `{n}` is not one of the scenario's SLOs"),
                )
                .with_hint(hint));
        }
    }
    Ok(names.to_vec())
}

/// Validate the scenario's `breaks`.
pub fn breaks(
    names: &[String],
    field: &str,
    sc: &Scenario,
    r: &Resolver,
) -> Result<Vec<String>, ScenarioError> {
    let from = r.loc().field(field, 0).map_or(0, |s| s.1);
    breaks_from(names, field, from, sc, r)
}

/// Most variants a scenario declares.
pub const MAX_VARIANTS: usize = 20;

/// Validate the declared variants: names unique and plain, overrides well formed, their
/// `breaks` SLOs of the scenario, their expectations well formed. (Whether each override
/// fits the scenario is known when the variant is built: [`crate::load_variant`].)
pub fn validate(
    raw: &[RawVariant],
    sc: &Scenario,
    r: &Resolver,
) -> Result<Vec<Variant>, ScenarioError> {
    let start = r.loc().field("variants", 0).map_or(0, |s| s.1);
    if raw.len() > MAX_VARIANTS {
        return Err(r.err(
            r.loc().field("variants", 0),
            format!("{} variants, more than {MAX_VARIANTS}", raw.len()),
        ));
    }
    let mut out: Vec<Variant> = vec![];
    // Each variant is looked for after the one before it.
    let mut cursor = start;
    for v in raw {
        let at = r.loc().quoted(&v.name, cursor);
        let from = at.map_or(cursor, |s| s.1);
        cursor = from;
        if !super::resolve::is_plain_name(&v.name) {
            return Err(r
                .err(
                    at,
                    format!("variant `{}`: a name is letters, digits, - and _", v.name),
                )
                .with_hint("it is typed on the command line: --variant NAME"));
        }
        if out.iter().any(|o| o.name == v.name) {
            return Err(r.err(at, format!("two variants are named `{}`", v.name)));
        }
        if v.set.is_empty() {
            return Err(r
                .err(at, format!("variant `{}` sets nothing", v.name))
                .with_hint("set: [\"web.instances=8\"]: what differs from the scenario"));
        }
        let sets = v
            .set
            .iter()
            .map(|s| {
                Override::parse(s).map_err(|m| {
                    r.err(
                        r.loc().quoted(s, from),
                        format!("variant `{}`: {m}", v.name),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.push(Variant {
            name: v.name.clone(),
            description: v.description.clone().unwrap_or_default(),
            sets,
            breaks: breaks_from(&v.breaks, "breaks", from, sc, r)?,
            expect: Expect::validate_from(&v.expect, r, from)?,
        });
    }
    Ok(out)
}
