//! What the user sees: progress bars on a terminal (one per active file and a total
//! line with rate and ETA), nothing when not a terminal or with `--no-progress`, or
//! one JSON event per line with `--json`.

use std::collections::HashMap;
use std::io::IsTerminal;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use updraft_core::engine::{Event, FileId, FileStatus};

use crate::files::Planned;

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Bars on stderr when it is a terminal, else nothing.
    Bars,
    Quiet,
    /// One JSON object per event on stdout.
    Json,
}

/// The progress display of one run.
#[derive(Debug)]
pub struct Output {
    mode: Mode,
    multi: MultiProgress,
    total: Option<ProgressBar>,
    bars: HashMap<FileId, ProgressBar>,
    keys: HashMap<FileId, String>,
    sizes: u64,
}

impl Output {
    /// A display in `mode`.
    pub fn new(mode: Mode) -> Self {
        let mode = if mode == Mode::Bars && !std::io::stderr().is_terminal() {
            Mode::Quiet
        } else {
            mode
        };
        let multi = MultiProgress::with_draw_target(if mode == Mode::Bars {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        });
        Output {
            mode,
            multi,
            total: None,
            bars: HashMap::new(),
            keys: HashMap::new(),
            sizes: 0,
        }
    }

    pub(crate) fn added(&mut self, id: FileId, planned: &Planned) {
        self.keys.insert(id, planned.key.clone());
        self.sizes += planned.size;
    }

    /// A line for the user (stderr, above the bars).
    pub(crate) fn message(&mut self, text: &str) {
        match self.mode {
            Mode::Bars => {
                let _ = self.multi.println(text);
            }
            _ => eprintln!("{text}"),
        }
    }

    pub(crate) fn event(&mut self, event: &Event) {
        match self.mode {
            Mode::Json => self.json(event),
            Mode::Bars => self.bars(event),
            Mode::Quiet => {
                if let Event::Failed { error, .. } = event {
                    eprintln!("error: {error}");
                }
            }
        }
    }

    fn json(&self, event: &Event) {
        let Ok(mut value) = serde_json::to_value(event) else {
            return;
        };
        let file = match event {
            Event::Submitted { file }
            | Event::StatusChanged { file, .. }
            | Event::Progress { file, .. }
            | Event::ResumeRecordChanged { file }
            | Event::Completed { file, .. }
            | Event::Failed { file, .. } => Some(*file),
            _ => None,
        };
        if let (Some(key), Some(obj)) =
            (file.and_then(|f| self.keys.get(&f)), value.as_object_mut())
        {
            obj.insert("key".into(), key.clone().into());
        }
        println!("{value}");
    }

    fn bars(&mut self, event: &Event) {
        let total = self.total.get_or_insert_with(|| {
            let bar = self.multi.add(ProgressBar::new(self.sizes));
            bar.set_style(
                ProgressStyle::with_template(
                    "total {bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        match event {
            Event::StatusChanged {
                file,
                status: FileStatus::Uploading,
            } if !self.bars.contains_key(file) => {
                let key = self.keys.get(file).cloned().unwrap_or_default();
                let bar = self.multi.insert_before(total, ProgressBar::new(0));
                bar.set_style(
                    ProgressStyle::with_template("{msg:40!} {bar:20} {bytes}/{total_bytes}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                bar.set_message(key);
                self.bars.insert(*file, bar);
            }
            Event::Progress {
                file,
                file_progress,
                total: all,
            } => {
                if let Some(bar) = self.bars.get(file) {
                    bar.set_length(file_progress.total);
                    bar.set_position(file_progress.sent);
                }
                total.set_length(all.total);
                total.set_position(all.sent);
            }
            Event::Completed { file, .. } => {
                if let Some(bar) = self.bars.remove(file) {
                    bar.finish_and_clear();
                }
                let key = self.keys.get(file).cloned().unwrap_or_default();
                let _ = self.multi.println(format!("uploaded {key}"));
            }
            Event::Failed { file, error } => {
                if let Some(bar) = self.bars.remove(file) {
                    bar.finish_and_clear();
                }
                let _ = self.multi.println(format!("error: {error}"));
            }
            Event::StatusChanged {
                file,
                status: FileStatus::Cancelled,
            } => {
                if let Some(bar) = self.bars.remove(file) {
                    bar.finish_and_clear();
                }
            }
            Event::AllComplete { .. } => total.finish_and_clear(),
            _ => {}
        }
    }
}
