//! eventgate's batch kernel: the pure stages of one (partition, batch) of the ingest hot
//! path — decode, validate, decide, structure discovery, output and Redis-argument
//! encoding — in Rust, behind the Python module `eventgate._kernel` (DESIGN-NOTES
//! decision 10). Python keeps every I/O. This file only registers the module.

pub mod counters;
pub mod ingest;
pub mod json;
pub mod python;
pub mod registry;
pub mod validation;

use pyo3::prelude::*;

#[pymodule]
fn _kernel(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
