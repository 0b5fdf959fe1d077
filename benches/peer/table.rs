//! The one table the bench prints: workload, Rust, JS, ratio, the limit, met or not.

use std::fmt::Write as _;

/// How a row's values read.
#[derive(Clone, Copy)]
pub enum Unit {
    Ms,
    KiB,
    MiB,
    Count,
    Percent,
}

/// The limit a row is held to (issue 14), if any.
pub enum Limit {
    None,
    /// Rust ≤ factor × JS.
    TimesJs(f64),
    /// Rust ≤ factor × a floor measured in the same run (name, value).
    TimesFloor(f64, &'static str, f64),
    /// Rust (or the single value) ≤ this, in the row's unit.
    AtMost(f64),
}

pub struct Row {
    pub workload: String,
    pub rust: Option<f64>,
    pub js: Option<f64>,
    pub unit: Unit,
    pub limit: Limit,
}

impl Row {
    pub fn new(workload: impl Into<String>, unit: Unit) -> Self {
        Row {
            workload: workload.into(),
            rust: None,
            js: None,
            unit,
            limit: Limit::None,
        }
    }

    pub fn rust(mut self, v: Option<f64>) -> Self {
        self.rust = v;
        self
    }

    pub fn js(mut self, v: Option<f64>) -> Self {
        self.js = v;
        self
    }

    pub fn limit(mut self, limit: Limit) -> Self {
        self.limit = limit;
        self
    }

    fn ratio(&self) -> Option<f64> {
        match (self.rust, self.js) {
            (Some(r), Some(j)) if j > 0.0 => Some(r / j),
            _ => None,
        }
    }

    fn limit_text(&self) -> String {
        let unit = self.unit;
        match self.limit {
            Limit::None => String::new(),
            Limit::TimesJs(f) => format!("≤ {f}× JS"),
            Limit::TimesFloor(f, name, v) => format!("≤ {f}× {name} ({})", value(v, unit)),
            Limit::AtMost(v) => format!("≤ {}", value(v, unit)),
        }
    }

    /// `Some(true)` met, `Some(false)` not met, `None` no limit or nothing measured.
    pub fn met(&self) -> Option<bool> {
        let rust = self.rust?;
        match self.limit {
            Limit::None => None,
            Limit::TimesJs(f) => Some(rust <= f * self.js?),
            Limit::TimesFloor(f, _, v) => Some(rust <= f * v),
            Limit::AtMost(v) => Some(rust <= v),
        }
    }
}

fn value(v: f64, unit: Unit) -> String {
    let number = |v: f64| {
        if v >= 100.0 {
            format!("{v:.0}")
        } else if v >= 10.0 {
            format!("{v:.1}")
        } else if v >= 1.0 {
            format!("{v:.2}")
        } else {
            format!("{v:.3}")
        }
    };
    match unit {
        Unit::Ms => format!("{} ms", number(v)),
        Unit::KiB => format!("{} KiB", number(v)),
        Unit::MiB => format!("{} MiB", number(v)),
        Unit::Count => format!("{v:.0}"),
        Unit::Percent => format!("{v:.0} %"),
    }
}

/// The table as Markdown (readable in a terminal, pasted as is into docs/performance.md).
pub fn markdown(rows: &[Row]) -> String {
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.workload.clone(),
                r.rust.map_or("—".into(), |v| value(v, r.unit)),
                r.js.map_or("—".into(), |v| value(v, r.unit)),
                r.ratio().map_or("".into(), |v| format!("{v:.2}×")),
                r.limit_text(),
                match r.met() {
                    Some(true) => "met".into(),
                    Some(false) => "**not met**".into(),
                    None => String::new(),
                },
            ]
        })
        .collect();
    let header = [
        "workload",
        "Rust",
        "JS",
        "Rust/JS",
        "limit (issue 14)",
        "met?",
    ];
    let mut widths = header.map(|h| h.chars().count());
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, row: &[String]| {
        out.push('|');
        for (i, (c, w)) in row.iter().zip(widths).enumerate() {
            let pad = w - c.chars().count();
            // numbers right-aligned, text left-aligned
            if (1..=3).contains(&i) {
                let _ = write!(out, " {}{c} |", " ".repeat(pad));
            } else {
                let _ = write!(out, " {c}{} |", " ".repeat(pad));
            }
        }
        out.push('\n');
    };
    line(&mut out, &header.map(String::from));
    let rule: Vec<String> = widths
        .iter()
        .enumerate()
        .map(|(i, w)| {
            if (1..=3).contains(&i) {
                format!("{}:", "-".repeat(w - 1))
            } else {
                "-".repeat(*w)
            }
        })
        .collect();
    line(&mut out, &rule);
    for row in &cells {
        line(&mut out, row);
    }
    out
}
