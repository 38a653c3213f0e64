//! Traffic from a trace: `rate: Trace(file: "traffic.csv", speed: 2.0)`.
//!
//! A CSV with a header names its form:
//! - **requests** — `time` and any of `class`, `key`, `session`: one request per row at
//!   `time` (seconds from the start of the trace, or a duration like `1m30s`), with its
//!   class (one of the source's mix), key and session (integers) when the columns are
//!   there, drawn from the source's mix when not. Rows are in time order. The file is
//!   **streamed** during the run (a buffered reader, one row at a time, no allocation per
//!   row), so a large trace does not grow memory; it is also read through once when the
//!   scenario is loaded, to report a bad row as `file:line` and to summarise its rate per
//!   interval (what `validate` and the capacity analysis show).
//! - **rates** — `time,rate`: the rate (requests per second) from each row's time to the
//!   next; the last holds to the end of the run. Arrivals follow the source's `arrivals`
//!   (Poisson or Deterministic), like any rate profile. A rates trace is small (a row per
//!   interval) and is read whole.
//!
//! `speed` compresses time: a row at `t` happens at `t / speed` of the run (`speed: 60`
//! replays an hour in a minute). The file is found relative to the scenario file.

use super::profile::Profile;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// Most rate rows in a rates trace, and most intervals a request trace's summary has.
pub const MAX_RATE_ROWS: usize = 100_000;

/// A request trace to stream: where, how fast, and which column is which.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestTrace {
    /// The file.
    pub path: PathBuf,
    /// Time compression.
    pub speed: f64,
    /// Column index of `class`, `key`, `session`.
    pub class: Option<usize>,
    /// Key column.
    pub key: Option<usize>,
    /// Session column.
    pub session: Option<usize>,
    /// Class names allowed, with their ids (the source's mix).
    pub classes: Vec<(String, crate::ids::ClassId)>,
}

/// A trace, read and checked: a rate profile (summarised for a request trace), and the
/// request trace to stream.
#[derive(Debug, Clone)]
pub struct Trace {
    /// The rate over time (exact for a rates trace; per-interval counts for requests).
    pub profile: Profile,
    /// A request trace.
    pub requests: Option<RequestTrace>,
}

/// One parsed request row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row {
    /// Seconds into the run (already divided by `speed`).
    pub t: f64,
    /// Class, if the trace says.
    pub class: Option<crate::ids::ClassId>,
    /// Key, if the trace says.
    pub key: Option<u64>,
    /// Session, if the trace says.
    pub session: Option<u64>,
}

fn time_of(s: &str) -> Result<f64, String> {
    let s = s.trim();
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        Ok(_) => Err(format!("time `{s}` is not a time ≥ 0")),
        Err(_) => sim_core::parse_duration(s)
            .map(|d| d.as_secs_f64())
            .map_err(|_| format!("time `{s}` is neither seconds nor a duration like `1m30s`")),
    }
}

impl RequestTrace {
    /// Parse one data line (the fields split on commas). `Err`: what is wrong.
    pub fn parse(&self, line: &str) -> Result<Row, String> {
        let mut row = Row {
            t: 0.0,
            class: None,
            key: None,
            session: None,
        };
        let mut seen = 0;
        for (i, f) in line.split(',').enumerate() {
            let f = f.trim();
            seen = i + 1;
            if i == 0 {
                row.t = time_of(f)? / self.speed;
            } else if Some(i) == self.class {
                row.class = Some(
                    self.classes
                        .iter()
                        .find(|c| c.0 == f)
                        .map(|c| c.1)
                        .ok_or_else(|| format!("class `{f}` is not in the source's mix"))?,
                );
            } else if Some(i) == self.key {
                row.key = Some(
                    f.parse()
                        .map_err(|_| format!("key `{f}` is not an integer ≥ 0"))?,
                );
            } else if Some(i) == self.session {
                row.session = Some(
                    f.parse()
                        .map_err(|_| format!("session `{f}` is not an integer ≥ 0"))?,
                );
            }
        }
        let want = 1 + [self.class, self.key, self.session]
            .iter()
            .flatten()
            .count();
        if seen != want {
            return Err(format!("{seen} fields where the header has {want}"));
        }
        Ok(row)
    }
}

/// Streams a request trace's rows during a run.
#[derive(Debug)]
pub struct TraceReader {
    plan: RequestTrace,
    lines: Option<std::io::BufReader<std::fs::File>>,
    buf: String,
}

impl Clone for TraceReader {
    fn clone(&self) -> Self {
        // A copy starts from the beginning (each run opens its own).
        TraceReader::open(&self.plan)
    }
}

impl TraceReader {
    /// Open `plan`'s file past its header (a file gone since it was checked reads as
    /// empty).
    pub fn open(plan: &RequestTrace) -> Self {
        let mut lines = std::fs::File::open(&plan.path)
            .ok()
            .map(|f| std::io::BufReader::with_capacity(1 << 16, f));
        let mut buf = String::with_capacity(128);
        if let Some(l) = lines.as_mut() {
            let _ = l.read_line(&mut buf);
        }
        TraceReader {
            plan: plan.clone(),
            lines,
            buf,
        }
    }

    /// The next row, or `None` at the end (a row that no longer parses ends it too: the
    /// file was checked when the scenario was loaded).
    pub fn next_row(&mut self) -> Option<Row> {
        let lines = self.lines.as_mut()?;
        loop {
            self.buf.clear();
            match lines.read_line(&mut self.buf) {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
            let line = self.buf.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            return self.plan.parse(line).ok();
        }
    }
}

/// Read and check trace `file` (relative to `scenario`'s folder) for a run of
/// `horizon_s` seconds; `classes` are the source's mix. `Err`: a message naming the file
/// and line, and a hint.
pub fn load(
    file: &str,
    speed: f64,
    scenario: &str,
    classes: Vec<(String, crate::ids::ClassId)>,
    horizon_s: f64,
) -> Result<Trace, (String, String)> {
    if !(speed > 0.0 && speed.is_finite()) {
        return Err((
            format!("trace speed {speed} must be above 0"),
            "speed: 1.0 replays in real time, 60 an hour in a minute".into(),
        ));
    }
    let path = Path::new(scenario)
        .parent()
        .unwrap_or(Path::new(""))
        .join(file);
    let shown = path.display().to_string();
    let f = std::fs::File::open(&path).map_err(|e| {
        (
            format!("trace `{shown}`: cannot read: {e}"),
            "the file is found relative to the scenario file".to_string(),
        )
    })?;
    let mut lines = std::io::BufReader::new(f).lines().enumerate();
    let bad = |n: usize, what: String| {
        (
            format!("{shown}:{}: {what}", n + 1),
            "a trace is CSV with a header: `time,rate`, or `time` with any of `class,key,session`"
                .to_string(),
        )
    };
    let header = loop {
        match lines.next() {
            None => return Err(bad(0, "the trace is empty".into())),
            Some((n, Err(e))) => return Err(bad(n, format!("cannot read: {e}"))),
            Some((_, Ok(l))) if l.trim().is_empty() || l.trim().starts_with('#') => continue,
            Some((n, Ok(l))) => break (n, l),
        }
    };
    let cols: Vec<String> = header
        .1
        .split(',')
        .map(|c| c.trim().to_lowercase())
        .collect();
    if cols.first().map(String::as_str) != Some("time") {
        return Err(bad(
            header.0,
            format!("the header starts with `{}`, not `time`", cols[0]),
        ));
    }
    let rates = cols.len() == 2 && cols[1] == "rate";
    let find = |name: &str| cols.iter().position(|c| c == name);
    let plan = RequestTrace {
        path: path.clone(),
        speed,
        class: find("class"),
        key: find("key"),
        session: find("session"),
        classes,
    };
    if !rates {
        if let Some(c) = cols
            .iter()
            .skip(1)
            .find(|c| !["class", "key", "session"].contains(&c.as_str()))
        {
            return Err(bad(header.0, format!("unknown column `{c}`")));
        }
    }
    // Rates: the points. Requests: counts per interval (at most MAX_RATE_ROWS of them).
    let bucket = (horizon_s / 1000.0).max(1.0);
    let mut counts: Vec<u64> = vec![];
    let mut points: Vec<(f64, f64)> = vec![];
    let mut last_t = 0.0;
    for (n, line) in lines {
        let line = line.map_err(|e| bad(n, format!("cannot read: {e}")))?;
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let t = if rates {
            let mut it = l.split(',');
            let t = time_of(it.next().unwrap_or("")).map_err(|m| bad(n, m))? / speed;
            let r = it.next().ok_or_else(|| bad(n, "no rate".into()))?.trim();
            let r: f64 = r
                .parse()
                .ok()
                .filter(|r: &f64| r.is_finite() && *r >= 0.0)
                .ok_or_else(|| bad(n, format!("rate `{r}` is not a number ≥ 0")))?;
            if it.next().is_some() {
                return Err(bad(n, "more fields than `time,rate`".into()));
            }
            if points.len() >= MAX_RATE_ROWS {
                return Err(bad(n, format!("more than {MAX_RATE_ROWS} rate rows")));
            }
            // The rate holds from t: a jump.
            let prev = points.last().map_or(r, |p| p.1);
            points.push((t, prev));
            points.push((t, r * speed));
            t
        } else {
            let row = plan.parse(l).map_err(|m| bad(n, m))?;
            if row.t <= horizon_s {
                let b = (row.t / bucket) as usize;
                if counts.len() <= b {
                    counts.resize(b + 1, 0);
                }
                counts[b] += 1;
            }
            row.t
        };
        if t < last_t {
            return Err(bad(n, format!("time {t} s comes before the row above ({last_t} s): rows must be in time order")));
        }
        last_t = t;
    }
    let profile = if rates {
        if points.is_empty() {
            return Err(bad(header.0, "no rate rows".into()));
        }
        points[0].1 = points[1].1;
        Profile::Linear(points)
    } else {
        if counts.iter().all(|&c| c == 0) {
            return Err(bad(header.0, "no request falls within the run".into()));
        }
        // Piecewise-constant per bucket, zero after the last request.
        let mut pts = vec![];
        for (i, &c) in counts.iter().enumerate() {
            let t0 = i as f64 * bucket;
            let r = c as f64 / bucket;
            pts.push((t0, pts.last().map_or(r, |p: &(f64, f64)| p.1)));
            pts.push((t0, r));
        }
        let end = counts.len() as f64 * bucket;
        pts.push((end, pts.last().map_or(0.0, |p| p.1)));
        pts.push((end, 0.0));
        Profile::Linear(pts)
    };
    Ok(Trace {
        profile,
        requests: (!rates).then_some(plan),
    })
}
