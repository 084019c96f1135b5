//! A simulated connect secure appliance (not yet available).

use super::{DemoPart, Running};

/// This family's part of the demo (none yet).
pub async fn demo(_dir: &std::path::Path, _sims: &mut Vec<Running>) -> Result<DemoPart, String> {
    Ok(DemoPart::default())
}
