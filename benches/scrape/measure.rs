//! What the benchmark reads from processes and how it sums up runs: CPU
//! time and memory from `/proc/<pid>`, medians, and byte sizes.

use std::time::Duration;

use super::Result;

/// CPU seconds of `pid`: the time on a CPU of each of its threads, in
/// nanoseconds from `/proc/PID/task/TID/schedstat` (`utime + stime` of
/// `/proc/PID/stat` counts in 10 ms ticks, too coarse for one scrape of
/// 10,000 sessions). A thread that ends between two readings would take
/// its time with it: the exporter's threads live as long as it does.
pub fn cpu_seconds(pid: u32) -> Result<f64> {
    let mut nanos: u64 = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let path = task?.path().join("schedstat");
        // A thread may end while the list is read.
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let on_cpu = text.split_whitespace().next().ok_or("empty schedstat")?;
        nanos += on_cpu.parse::<u64>()?;
    }
    Ok(nanos as f64 / 1e9)
}

/// Resident memory of `pid` now and at its peak (`VmRSS`, `VmHWM`), bytes.
pub fn memory(pid: u32) -> Result<Memory> {
    let status = procfs::process::Process::new(pid_of(pid)?)?.status()?;
    let kib = |v: Option<u64>, what: &str| v.map(|k| k * 1024).ok_or(format!("no {what}"));
    Ok(Memory {
        resident: kib(status.vmrss, "VmRSS")?,
        peak: kib(status.vmhwm, "VmHWM")?,
    })
}

fn pid_of(pid: u32) -> Result<i32> {
    Ok(i32::try_from(pid)?)
}

/// Resident memory, bytes.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    /// `VmRSS`.
    pub resident: u64,
    /// `VmHWM`.
    pub peak: u64,
}

/// The median of `values` (0 for none).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The median of durations, in seconds.
pub fn median_seconds(values: &[Duration]) -> f64 {
    median(&values.iter().map(Duration::as_secs_f64).collect::<Vec<_>>())
}

/// `bytes` in MiB.
pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
