//! models: scalelab's world.
//!
//! Where things live (one room per concern; see DESIGN.md, "Layout"):
//! - [`scenario`]: the file — raw serde types, parsing, validation into a [`Scenario`]
//!   with typed ids ([`ids`]), handler programs, distributions and rate profiles;
//! - [`components`]: **one file per kind of node** (source, load balancer, service, and
//!   the station they share), each holding its config, validation, runtime state, event
//!   handling, verbs, metrics and capacity contribution. A new component kind is one new
//!   file there plus one line in its `components!` list; its module docs walk through an
//!   example;
//! - [`kernel`]: events, requests, frames, and the context handed to components;
//! - [`control`]: changes to a running world (scripted actions today; faults and
//!   autoscalers next), all as events on the one queue;
//! - [`world`]: the world of one run, steppable through `sim_core::Simulation`, with
//!   statistics and a [`world::observe::Snapshot`] for observers;
//! - [`analysis`]: capacity estimate, bottleneck, SLOs;
//! - [`report`]: per-run and merged reports, JSON and human;
//! - [`batch`]: replications, each report kept, and their merge.
//!
//! Entry points: [`load`] a file, then [`batch::replicate`] it (or step a
//! [`world::World::simulation`] yourself).
#![warn(missing_docs)]

pub mod analysis;
pub mod batch;
pub mod chaos;
pub mod components;
pub mod control;
pub mod ids;
pub mod kernel;
pub mod report;
pub mod scenario;
pub mod world;

pub use batch::{replicate, Replications, RunOptions};
pub use report::Report;
pub use scenario::{ErrorKind, Scenario, ScenarioError};

use std::path::Path;
use std::sync::Arc;

/// Read, parse and validate the scenario file at `path`.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let (raw, text) = scenario::parse::read_file(path)?;
    Scenario::validate(&raw, &path.display().to_string(), &text)
}

/// Parse and validate scenario text; `name` stands for the file in errors.
pub fn load_str(name: &str, text: &str) -> Result<Scenario, ScenarioError> {
    let text: Arc<str> = text.into();
    let raw = scenario::parse::parse_str(name, text.clone())?;
    Scenario::validate(&raw, name, &text)
}

/// Parse and validate scenario text after applying `overrides` (see
/// [`scenario::overrides`]); `name` stands for the file in errors, and an error found in
/// the overridden text names the overrides.
pub fn load_str_with(
    name: &str,
    text: &str,
    overrides: &[scenario::overrides::Override],
) -> Result<Scenario, ScenarioError> {
    let text = scenario::overrides::apply(name, text, overrides)?;
    load_str(name, &text).map_err(|mut e| {
        if !overrides.is_empty() {
            let list: Vec<String> = overrides.iter().map(|o| o.to_string()).collect();
            e.message = format!("{} (with --set {})", e.message, list.join(" --set "));
        }
        e
    })
}

/// [`load_str_with`] on the file at `path`.
pub fn load_with(
    path: &Path,
    overrides: &[scenario::overrides::Override],
) -> Result<Scenario, ScenarioError> {
    let text = scenario::parse::read_text(path)?;
    load_str_with(&path.display().to_string(), &text, overrides)
}

/// The declared variant `name` of the scenario file at `path` (see
/// [`scenario::variants`]).
pub fn load_variant(path: &Path, name: &str) -> Result<Scenario, ScenarioError> {
    let text = scenario::parse::read_text(path)?;
    let file = path.display().to_string();
    let base = load_str(&file, &text)?;
    variant_of(&base, &file, &text, name)
}

/// Variant `name` of `base` (loaded from `text`, the file `file`): its overrides applied to
/// the text, its own `breaks` and expectations in place of the scenario's, no variants of
/// its own. An override that does not fit gets the file's located error, naming the
/// variant.
pub fn variant_of(
    base: &Scenario,
    file: &str,
    text: &str,
    name: &str,
) -> Result<Scenario, ScenarioError> {
    let Some(v) = base.variants.iter().find(|v| v.name == name) else {
        let names: Vec<&str> = base.variants.iter().map(|v| v.name.as_str()).collect();
        let hint = match scenario::error::did_you_mean(name, names.iter().copied()) {
            Some(n) => format!("did you mean `{n}`?"),
            None if names.is_empty() => "this scenario declares no variants".into(),
            None => format!("its variants: {}", names.join(", ")),
        };
        return Err(ScenarioError::new(
            ErrorKind::Invalid,
            file,
            format!("no variant `{name}` in {}", base.name),
        )
        .with_hint(hint));
    };
    let sets: Vec<String> = v.sets.iter().map(|o| o.to_string()).collect();
    let text = scenario::overrides::apply(file, text, &v.sets).map_err(|mut e| {
        // Said as the variant's, not as a flag's.
        if let Some(rest) = e.message.strip_prefix("--set ") {
            e.message = format!("variant `{name}`: {rest}");
        }
        e
    })?;
    let mut sc = load_str(file, &text).map_err(|mut e| {
        e.message = format!("{} (variant `{name}`: {})", e.message, sets.join(", "));
        e
    })?;
    sc.breaks = v.breaks.clone();
    sc.expect = v.expect.clone();
    sc.variants = vec![];
    Ok(sc)
}
