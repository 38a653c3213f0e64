//! Zones and regions: where service instances run, which zones make up a region, and what
//! a call pays for crossing from one zone (or region) to another.
//!
//! ```ron
//! regions: [
//!     Region(name: "us-east", zones: ["use1-a", "use1-b"]),
//!     Region(name: "eu-west", zones: ["euw1-a", "euw1-b"]),
//! ],
//! crossing: Latency(cross_zone: Exp("1ms"), cross_region: Exp("70ms")),
//! ```
//!
//! A zone is named by the services that run in it (`Service(zones: [...])`); a source may
//! say where its clients are (`Source(zone: ...)`). A call crosses when the instance that
//! serves it is in another zone than the caller (the calling instance, or the source's
//! zone for a client request); the crossing latency is drawn once per such call, on the
//! way in (it stands for the round trip's extra), from the stream `crossing`. Calls to
//! caches, databases and queues, which have no zone, never cross.

use super::dist::Dist;
use super::raw::RawDist;
use super::{Resolver, Scenario, ScenarioError};
use serde::Deserialize;

/// A region as written: a name and its zones.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "Region")]
pub struct RawRegion {
    /// Unique region name.
    pub name: String,
    /// Zones in it (each a zone some service runs in, each in one region only).
    pub zones: Vec<String>,
}

/// The latency of crossing, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "Latency")]
pub struct RawCrossing {
    /// Added to a call to an instance in another zone of the same region. Default: none.
    #[serde(default)]
    pub cross_zone: Option<RawDist>,
    /// Added to a call to an instance in another region. Default: none.
    #[serde(default)]
    pub cross_region: Option<RawDist>,
}

/// What a crossing call pays.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Crossing {
    /// Into another zone of the same region.
    pub cross_zone: Option<Dist>,
    /// Into another region.
    pub cross_region: Option<Dist>,
}

/// Validated regions: names, and per zone id its region id (both 1-based; 0 = none).
#[derive(Debug, Clone, Default)]
pub struct Regions {
    /// Region names, in file order (region id = index + 1).
    pub names: Vec<String>,
    /// Per zone id (index 0: no zone), the region id; 0 when no regions are declared.
    pub of_zone: Vec<u16>,
}

impl Regions {
    /// The zone ids of region `region` (1-based).
    pub fn zones(&self, region: u16) -> impl Iterator<Item = u16> + '_ {
        (1..self.of_zone.len() as u16).filter(move |&z| self.of_zone[z as usize] == region)
    }

    /// The id of region `name` (1-based), if declared.
    pub fn id(&self, name: &str) -> Option<u16> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| i as u16 + 1)
    }
}

/// Validate `regions` and `crossing` against the zones the services run in.
pub fn validate(
    raw: &[RawRegion],
    crossing: Option<&RawCrossing>,
    sc: &Scenario,
    r: &Resolver,
) -> Result<(Regions, Option<Crossing>), ScenarioError> {
    let loc = r.loc();
    let mut regions = Regions {
        names: vec![],
        of_zone: vec![0; sc.zones.len() + 1],
    };
    let known = || {
        if sc.zones.is_empty() {
            "give services zones: [...] first".to_string()
        } else {
            format!("zones of services: {}", sc.zones.join(", "))
        }
    };
    for (i, reg) in raw.iter().enumerate() {
        let from = loc.nth_entry("regions", i, &["Region("]);
        r.check_name("region", &reg.name)?;
        if regions.names.contains(&reg.name) || sc.zone_id(&reg.name) != 0 {
            return Err(r
                .err(
                    loc.quoted(&reg.name, from),
                    format!("region `{}` is declared twice, or is also a zone", reg.name),
                )
                .with_hint("give each region a name of its own"));
        }
        if reg.zones.is_empty() {
            return Err(r
                .err(
                    loc.quoted(&reg.name, from),
                    format!("region `{}` has no zones", reg.name),
                )
                .with_hint(known()));
        }
        regions.names.push(reg.name.clone());
        let id = regions.names.len() as u16;
        for zone in &reg.zones {
            let z = sc.zone_id(zone);
            if z == 0 {
                return Err(r
                    .err(
                        loc.quoted(zone, from),
                        format!("region `{}`: no service runs in zone `{zone}`", reg.name),
                    )
                    .with_hint(known()));
            }
            if regions.of_zone[z as usize] != 0 {
                return Err(r
                    .err(
                        loc.quoted(zone, from),
                        format!("zone `{zone}` is in two regions"),
                    )
                    .with_hint("a zone belongs to one region"));
            }
            regions.of_zone[z as usize] = id;
        }
    }
    if !raw.is_empty() {
        if let Some(z) = (1..=sc.zones.len()).find(|&z| regions.of_zone[z] == 0) {
            let name = &sc.zones[z - 1];
            return Err(r
                .err(
                    loc.field("regions", 0),
                    format!("zone `{name}` is in no region"),
                )
                .with_hint(format!(
                    "with regions declared, list every zone in one: add \"{name}\" to a region"
                )));
        }
    }
    let crossing = match crossing {
        None => None,
        Some(c) => {
            let dist = |d: &Option<RawDist>, field: &str| {
                d.as_ref()
                    .map(|d| {
                        Dist::from_raw(d).map_err(|m| {
                            r.err(loc.field(field, 0), format!("crossing: {field}: {m}"))
                        })
                    })
                    .transpose()
            };
            let c = Crossing {
                cross_zone: dist(&c.cross_zone, "cross_zone")?,
                cross_region: dist(&c.cross_region, "cross_region")?,
            };
            if c.cross_region.is_some() && raw.is_empty() {
                return Err(r
                    .err(
                        loc.field("cross_region", 0),
                        "crossing: cross_region without regions",
                    )
                    .with_hint(
                        "declare regions: [Region(name: \"us\", zones: [...]), ...], or use cross_zone",
                    ));
            }
            (c.cross_zone.is_some() || c.cross_region.is_some()).then_some(c)
        }
    };
    Ok((regions, crossing))
}
