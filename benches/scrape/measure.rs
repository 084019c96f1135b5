//! What the benchmark reads from processes and how it sums up runs: CPU
//! time and memory from `/proc/<pid>`, medians, and byte sizes.

use std::time::Duration;

use super::Result;

/// CPU seconds (user + system, all threads, live and exited) of `pid`.
pub fn cpu_seconds(pid: u32) -> Result<f64> {
    let stat = procfs::process::Process::new(pid_of(pid)?)?.stat()?;
    Ok((stat.utime + stat.stime) as f64 / procfs::ticks_per_second() as f64)
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
