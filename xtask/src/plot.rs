//! `cargo xtask plot RUN...`: training curves of one or more runs to PNG:
//! validation SI-SDRi, training loss and gradient norm against audio-seconds.

use std::path::{Path, PathBuf};

use plotters::prelude::*;

use crate::{eval::plot::font, train::RunFile};

/// Arguments of `plot`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Run folders (each with `run.json` and `metrics.csv`; `steps.csv` when logged).
    #[arg(required = true)]
    runs: Vec<PathBuf>,
    /// Output PNG (default: `curves.png` in the first run's folder).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Steps averaged per point of the loss and gradient-norm curves.
    #[arg(long, default_value_t = 50)]
    smooth: usize,
}

/// One run's curves, x in audio-seconds.
struct Curves {
    name: String,
    si_sdri: Vec<(f64, f64)>,
    loss: Vec<(f64, f64)>,
    grad_norm: Vec<(f64, f64)>,
}

/// Rows of a CSV file as (header, numbers), empty fields as NaN.
fn read_csv(path: &Path) -> Result<(Vec<String>, Vec<Vec<f64>>), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut lines = text.lines();
    let header = lines
        .next()
        .ok_or_else(|| format!("{} is empty", path.display()))?
        .split(',')
        .map(str::to_string)
        .collect();
    let rows = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.split(',')
                .map(|v| v.parse::<f64>().unwrap_or(f64::NAN))
                .collect()
        })
        .collect();
    Ok((header, rows))
}

fn column(header: &[String], name: &str, path: &Path) -> Result<usize, String> {
    header
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| format!("{} has no `{name}` column", path.display()))
}

/// Means of `n` consecutive points.
fn smooth(points: &[(f64, f64)], n: usize) -> Vec<(f64, f64)> {
    points
        .chunks(n.max(1))
        .map(|c| {
            let k = c.len() as f64;
            (
                c.iter().map(|p| p.0).sum::<f64>() / k,
                c.iter().map(|p| p.1).sum::<f64>() / k,
            )
        })
        .collect()
}

fn load(dir: &Path, smoothing: usize) -> Result<Curves, String> {
    let run: RunFile = serde_json::from_str(
        &std::fs::read_to_string(dir.join("run.json"))
            .map_err(|e| format!("{} is not a run folder: {e}", dir.display()))?,
    )
    .map_err(|e| format!("bad run.json in {}: {e}", dir.display()))?;
    let per_step = run.seconds * run.settings.batch as f64;
    let metrics = dir.join("metrics.csv");
    let (header, rows) = read_csv(&metrics)?;
    let (step, val) = (
        column(&header, "step", &metrics)?,
        column(&header, "val_si_sdri_db", &metrics)?,
    );
    let si_sdri = rows
        .iter()
        .map(|r| (r[step] * per_step, r[val]))
        .filter(|p| p.1.is_finite())
        .collect();
    let steps = dir.join("steps.csv");
    let (loss, grad_norm) = if steps.exists() {
        let (header, rows) = read_csv(&steps)?;
        let (s, l, g) = (
            column(&header, "step", &steps)?,
            column(&header, "loss", &steps)?,
            column(&header, "grad_norm", &steps)?,
        );
        let pick = |c: usize| -> Vec<(f64, f64)> {
            let points: Vec<_> = rows.iter().map(|r| (r[s] * per_step, r[c])).collect();
            smooth(&points, smoothing)
        };
        (pick(l), pick(g))
    } else {
        let l = column(&header, "train_loss", &metrics)?;
        let loss = rows.iter().map(|r| (r[step] * per_step, r[l])).collect();
        (loss, Vec::new())
    };
    let name = dir.file_name().map_or_else(
        || dir.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    Ok(Curves {
        name,
        si_sdri,
        loss,
        grad_norm,
    })
}

/// Range of the finite values of `ys`, with a margin.
fn span(ys: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = ys
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if lo > hi {
        return (0.0, 1.0);
    }
    let m = ((hi - lo) * 0.08).max(1e-3);
    (lo - m, hi + m)
}

fn panel(
    area: &DrawingArea<BitMapBackend, plotters::coord::Shift>,
    runs: &[Curves],
    (title, unit): (&str, &str),
    pick: fn(&Curves) -> &[(f64, f64)],
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<_>| format!("cannot draw the {title} panel: {e}");
    let x1 = runs
        .iter()
        .flat_map(|r| pick(r).iter().map(|p| p.0))
        .fold(1.0, f64::max);
    let (y0, y1) = span(runs.iter().flat_map(|r| pick(r).iter().map(|p| p.1)));
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(55)
        .build_cartesian_2d(0.0..x1, y0..y1)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("audio-seconds trained")
        .y_desc(unit)
        .draw()
        .map_err(err)?;
    for (i, run) in runs.iter().enumerate() {
        let colour = Palette99::pick(i).to_rgba();
        let points: Vec<_> = pick(run)
            .iter()
            .copied()
            .filter(|p| p.1.is_finite())
            .collect();
        chart
            .draw_series(LineSeries::new(points, colour.stroke_width(2)))
            .map_err(err)?
            .label(run.name.clone())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], colour.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(err)
}

/// Draws the curves of every run into one PNG.
pub fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    font()?;
    let runs = args
        .runs
        .iter()
        .map(|d| load(d, args.smooth))
        .collect::<Result<Vec<_>, _>>()?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.runs[0].join("curves.png"));
    let root = BitMapBackend::new(&out, (900, 1000)).into_drawing_area();
    root.fill(&WHITE)
        .map_err(|e| format!("cannot draw {}: {e}", out.display()))?;
    let areas = root.split_evenly((3, 1));
    panel(&areas[0], &runs, ("validation SI-SDRi", "dB"), |r| {
        &r.si_sdri
    })?;
    panel(&areas[1], &runs, ("training loss (-SI-SDR)", "dB"), |r| {
        &r.loss
    })?;
    panel(
        &areas[2],
        &runs,
        ("gradient norm before clipping", ""),
        |r| &r.grad_norm,
    )?;
    root.present()
        .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    for r in &runs {
        match r.si_sdri.last() {
            Some((x, y)) => println!("{}: {y:.2} dB SI-SDRi after {x:.0} audio-seconds", r.name),
            None => println!("{}: no validation yet", r.name),
        }
    }
    println!("curves in {}", out.display());
    Ok(())
}
