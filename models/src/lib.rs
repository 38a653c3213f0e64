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
