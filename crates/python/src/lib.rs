//! `iocmatch._native`: the Rust side of the Python package. Python calls
//! it with whole files (or a batch of lines) and gets back the hits as
//! columns; `iocmatch/__init__.py` turns them into an Arrow record batch.
//! Matching is the library's own (`Replayer`), so a hit is what the CLI
//! reports, byte for byte in its JSON form.

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use iocmatch_core::load::{LoadOptions, Loaded, load_bytes, load_path};
use iocmatch_core::{IndicatorId, IndicatorSet};
use iocmatch_replay::output::{AlertRecord, HitRecord};
use iocmatch_replay::{
    Alert, Collect, Evidence, Hit, Input, ReplayOptions, Replayer, ReportId,
};
use pyo3::exceptions::{PyIOError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// A compiled indicator set.
#[pyclass(frozen, module = "iocmatch._native")]
struct NativeSet {
    set: Arc<IndicatorSet>,
    rejected: Vec<String>,
}

fn compile(loaded: Loaded) -> PyResult<NativeSet> {
    let rejected = loaded.rejected.iter().map(ToString::to_string).collect();
    let set = IndicatorSet::new(loaded.indicators)
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(NativeSet { set: Arc::new(set), rejected })
}

#[pymethods]
impl NativeSet {
    /// Loads indicator files (any format `iocmatch check` reads).
    #[staticmethod]
    fn from_files(paths: Vec<String>) -> PyResult<NativeSet> {
        let mut loaded = Loaded::default();
        for p in &paths {
            let l =
                load_path(std::path::Path::new(p), &LoadOptions::default())
                    .map_err(|e| PyIOError::new_err(e.to_string()))?;
            loaded.extend(l);
        }
        compile(loaded)
    }

    /// Loads indicators from bytes in `format` (`defender-csv`,
    /// `defender-json`, `txt`, `csv`, `misp`, `stix`, …).
    #[staticmethod]
    fn from_bytes(
        name: &str,
        data: &[u8],
        format: &str,
    ) -> PyResult<NativeSet> {
        let format =
            format.parse().map_err(|e: String| PyValueError::new_err(e))?;
        let name: Arc<str> = Arc::from(name);
        let loaded = load_bytes(&name, data, format, &LoadOptions::default())
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        compile(loaded)
    }

    /// Indicators in the set.
    fn __len__(&self) -> usize {
        self.set.len()
    }

    /// Indicators refused while loading, with file, line and reason.
    #[getter]
    fn rejected(&self) -> Vec<String> {
        self.rejected.clone()
    }

    /// The hits of one file's bytes (gzip, Avro, exports decoded, as the
    /// CLI reads them), as columns. Re-deliveries inside the file are
    /// dropped; across files, the caller keeps the first delivery.
    fn match_file<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        data: Vec<u8>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let input = Input::bytes(name, data);
        let hits = py.detach(|| self.replay(&[input]))?;
        self.columns(py, &hits)
    }

    /// The hits of a batch of export lines (numbered from `first_line`),
    /// as if they were the file `name`.
    #[pyo3(signature = (name, lines, first_line = 1))]
    fn match_lines<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        lines: Vec<Vec<u8>>,
        first_line: u64,
    ) -> PyResult<Bound<'py, PyDict>> {
        let mut data =
            Vec::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
        for l in &lines {
            data.extend_from_slice(l);
            data.push(b'\n');
        }
        let input = Input::bytes(name, data);
        let mut hits = py.detach(|| self.replay(&[input]))?;
        for h in &mut hits {
            h.1 += first_line - 1;
        }
        self.columns(py, &hits)
    }

    /// One alert line exactly as `iocmatch replay --alerts` writes it,
    /// from what the caller aggregated: evidence as (source, line,
    /// record, report_id as JSON, timestamp).
    #[allow(clippy::too_many_arguments)]
    fn alert_json(
        &self,
        indicator: u32,
        device_id: &str,
        device_name: &str,
        first_seen: &str,
        last_seen: &str,
        records: u64,
        tables: Vec<String>,
        columns: Vec<String>,
        evidence: Vec<(String, u64, u32, String, String)>,
    ) -> PyResult<String> {
        if indicator as usize >= self.set.len() {
            return Err(PyValueError::new_err(format!(
                "no indicator {indicator} in the set"
            )));
        }
        let alert = Alert {
            indicator: IndicatorId(indicator),
            device_id: device_id.into(),
            device_name: device_name.into(),
            first_seen: (first_seen.into(), None),
            last_seen: (last_seen.into(), None),
            records,
            tables: tables
                .iter()
                .map(|t| Arc::from(t.as_str()))
                .collect::<BTreeSet<_>>(),
            columns: columns.iter().map(|c| interned(c)).collect(),
            evidence: evidence
                .into_iter()
                .map(|(source, line, record, report_id, timestamp)| Evidence {
                    source: source.into(),
                    line,
                    record,
                    report_id: report_id_of(&report_id),
                    timestamp: timestamp.into(),
                })
                .collect(),
        };
        serde_json::to_string(&AlertRecord::new(&self.set, &alert))
            .map_err(|e| PyValueError::new_err(e.to_string()))
    }
}

/// A hit, its line and its JSON form.
type Found = (Hit, u64, String);

impl NativeSet {
    fn replay(&self, inputs: &[Input]) -> PyResult<Vec<Found>> {
        let opts = ReplayOptions::builder()
            .pool(Arc::clone(pool()?))
            .build()
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let mut sink = Collect::default();
        Replayer::new(&self.set, opts)
            .run(inputs, &mut sink)
            .map_err(|e| PyIOError::new_err(e.to_string()))?;
        sink.hits
            .into_iter()
            .map(|h| {
                let json =
                    serde_json::to_string(&HitRecord::new(&self.set, &h))
                        .map_err(|e| PyValueError::new_err(e.to_string()))?;
                let line = h.line();
                Ok((h, line, json))
            })
            .collect()
    }

    fn columns<'py>(
        &self,
        py: Python<'py>,
        hits: &[Found],
    ) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        let col = |f: &dyn Fn(&Found) -> String| {
            hits.iter().map(f).collect::<Vec<String>>()
        };
        d.set_item("source", col(&|h| h.0.source().to_string()))?;
        d.set_item("line", hits.iter().map(|h| h.1).collect::<Vec<u64>>())?;
        d.set_item(
            "record",
            hits.iter().map(|h| h.0.record()).collect::<Vec<u32>>(),
        )?;
        d.set_item("table", col(&|h| h.0.event().table.to_string()))?;
        d.set_item("timestamp", col(&|h| h.0.event().timestamp.to_string()))?;
        d.set_item(
            "time_ns",
            hits.iter()
                .map(|h| h.0.event().time.and_then(|t| i64::try_from(t).ok()))
                .collect::<Vec<Option<i64>>>(),
        )?;
        d.set_item("device_id", col(&|h| h.0.event().device_id.to_string()))?;
        d.set_item(
            "device_name",
            col(&|h| h.0.event().device_name.to_string()),
        )?;
        d.set_item(
            "report_id",
            col(&|h| report_id_json(&h.0.event().report_id)),
        )?;
        d.set_item(
            "delivery_key",
            col(&|h| format!("{:?}", h.0.event().delivery_key())),
        )?;
        d.set_item("column", col(&|h| h.0.column().to_owned()))?;
        d.set_item(
            "indicator",
            hits.iter().map(|h| h.0.indicator().0).collect::<Vec<u32>>(),
        )?;
        d.set_item(
            "alert",
            hits.iter().map(|h| h.0.raises_alert()).collect::<Vec<bool>>(),
        )?;
        d.set_item("json", col(&|h| h.2.clone()))?;
        Ok(d)
    }
}

/// One worker thread, shared by every call (Spark runs a task per core
/// already); a pool per call cost a thread start per file.
fn pool() -> PyResult<&'static Arc<rayon::ThreadPool>> {
    static POOL: OnceLock<Result<Arc<rayon::ThreadPool>, String>> =
        OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .map(Arc::new)
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| {
        PyIOError::new_err(format!("cannot start the worker thread: {e}"))
    })
}

fn report_id_json(r: &ReportId) -> String {
    match r {
        ReportId::None => "null".into(),
        ReportId::Number(n) => n.to_string(),
        ReportId::Text(t) => serde_json::to_string(&**t).unwrap_or_default(),
    }
}

fn report_id_of(json: &str) -> ReportId {
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(serde_json::Value::Number(n)) => n.as_u64().map_or_else(
            || ReportId::Text(n.to_string().into()),
            ReportId::Number,
        ),
        Ok(serde_json::Value::String(s)) => ReportId::Text(s.into()),
        _ => ReportId::None,
    }
}

/// Column names as the library's `&'static str`s (a few dozen exist).
fn interned(name: &str) -> &'static str {
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(n) = names.get(name) {
        return n;
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(leaked);
    leaked
}

/// The indicator format `iocmatch check` would read the file as
/// (`defender-csv`, `stix`, …), for shipping its bytes elsewhere.
#[pyfunction]
fn detect_format(path: &str) -> PyResult<String> {
    iocmatch_core::load::Format::detect(std::path::Path::new(path))
        .map(|f| f.name().to_owned())
        .map_err(|e| PyIOError::new_err(e.to_string()))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeSet>()?;
    m.add_function(wrap_pyfunction!(detect_format, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
