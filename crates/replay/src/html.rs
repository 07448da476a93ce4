//! One self-contained HTML page of a run (`replay --html`, `gate
//! --html`): the summary, alerts by severity, hits per hour by table and
//! by indicator, top devices and indicators, indicators never hit,
//! rejected lines and indicators, and the gate's verdicts. Charts are
//! Chart.js (vendored, inlined: the page needs no network); every value
//! from an export or an indicator file is escaped.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::{self, Write};
use std::sync::Arc;

use iocmatch_core::{IndicatorId, IndicatorSet, Rejection, Severity};
use serde_json::json;

use crate::gate::{IndicatorVerdict, Verdict};
use crate::hit::Hit;
use crate::report::Report;
use crate::sink::Sink;

const CHART_JS: &str = include_str!("../assets/chart.umd.js");

/// Counts hits per hour, by table and by indicator, for the timeline.
#[derive(Debug, Default)]
pub struct Timeline {
    by_table: BTreeMap<(i64, Arc<str>), u64>,
    by_indicator: HashMap<(i64, IndicatorId), u64>,
}

impl Timeline {
    /// An empty timeline.
    pub fn new() -> Timeline {
        Timeline::default()
    }
}

const HOUR: i128 = 3_600 * 1_000_000_000;

impl Sink for Timeline {
    type Error = std::convert::Infallible;

    fn hit(&mut self, h: &Hit) -> Result<bool, Self::Error> {
        if let Some(t) = h.event().time {
            let hour = t.div_euclid(HOUR) as i64;
            *self
                .by_table
                .entry((hour, Arc::clone(&h.event().table)))
                .or_default() += 1;
            *self.by_indicator.entry((hour, h.indicator())).or_default() += 1;
        }
        Ok(true)
    }
}

/// What a page shows.
pub struct Page<'a> {
    /// The page's title.
    pub title: &'a str,
    /// The set replayed or gated.
    pub set: &'a IndicatorSet,
    /// The run's report, if there was a replay.
    pub report: Option<&'a Report>,
    /// Its timeline.
    pub timeline: Option<&'a Timeline>,
    /// Indicators refused while loading.
    pub rejected_indicators: &'a [Rejection],
    /// The gate's verdicts, for a gate page.
    pub verdicts: Option<&'a [IndicatorVerdict]>,
}

/// `s` safe inside HTML text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// How many rows the long tables show.
const ROWS: usize = 200;
/// Indicators drawn in the timeline.
const TOP_LINES: usize = 6;

fn hour_text(h: i64) -> String {
    jiff::Timestamp::from_second(h * 3600).map_or_else(
        |_| h.to_string(),
        |t| t.strftime("%Y-%m-%d %H:00").to_string(),
    )
}

fn severity_color(s: Severity) -> &'static str {
    match s {
        Severity::High => "#c0392b",
        Severity::Medium => "#e67e22",
        Severity::Low => "#f1c40f",
        Severity::Informational => "#3498db",
    }
}

/// The chart data: severities, and hours by table and by indicator.
fn chart_data(p: &Page<'_>) -> serde_json::Value {
    let mut sev: BTreeMap<Severity, u64> = BTreeMap::new();
    if let Some(r) = p.report {
        for a in &r.alerts {
            *sev.entry(p.set.get(a.indicator).severity()).or_default() += 1;
        }
    }
    let severities: Vec<_> = Severity::ALL
        .iter()
        .rev()
        .map(|s| json!({"label": s.as_str(), "count": sev.get(s).copied().unwrap_or(0), "color": severity_color(*s)}))
        .collect();
    let Some(t) = p.timeline else {
        return json!({"severities": severities, "hours": [], "tables": [], "indicators": []});
    };
    let mut hours: Vec<i64> = t.by_table.keys().map(|(h, _)| *h).collect();
    hours.sort_unstable();
    hours.dedup();
    let at: HashMap<i64, usize> =
        hours.iter().enumerate().map(|(i, h)| (*h, i)).collect();
    let mut tables: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for ((h, table), n) in &t.by_table {
        tables.entry(table).or_insert_with(|| vec![0; hours.len()])[at[h]] +=
            n;
    }
    let mut totals: HashMap<IndicatorId, u64> = HashMap::new();
    for ((_, id), n) in &t.by_indicator {
        *totals.entry(*id).or_default() += n;
    }
    let mut top: Vec<(IndicatorId, u64)> = totals.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    top.truncate(TOP_LINES);
    let indicators: Vec<_> = top
        .iter()
        .map(|(id, _)| {
            let mut v = vec![0u64; hours.len()];
            for ((h, i), n) in &t.by_indicator {
                if i == id {
                    v[at[h]] += n;
                }
            }
            let ind = p.set.get(*id);
            json!({"label": format!("{} {}", ind.indicator_type(), ind.value()), "counts": v})
        })
        .collect();
    json!({
        "severities": severities,
        "hours": hours.iter().map(|h| hour_text(*h)).collect::<Vec<_>>(),
        "tables": tables.iter().map(|(k, v)| json!({"label": k, "counts": v})).collect::<Vec<_>>(),
        "indicators": indicators,
    })
}

const STYLE: &str = "
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f5f6f8;color:#1d2330}
header{background:#1d2330;color:#fff;padding:18px 28px}header h1{margin:0;font-size:20px}header p{margin:4px 0 0;color:#b8c0cc}
main{padding:20px 28px;max-width:1280px}section{background:#fff;border-radius:8px;padding:16px 20px;margin:0 0 18px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
h2{font-size:16px;margin:0 0 12px}.cards{display:flex;flex-wrap:wrap;gap:12px}.card{background:#f5f6f8;border-radius:6px;padding:10px 14px;min-width:120px}
.card b{display:block;font-size:20px}.card span{color:#5a6475;font-size:12px}.charts{display:grid;grid-template-columns:1fr 2fr;gap:18px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e6e8ec;vertical-align:top}
th{font-size:12px;color:#5a6475;text-transform:uppercase}td.mono,.mono{font-family:ui-monospace,SFMono-Regular,Consolas,monospace;word-break:break-all}
.sev,.verdict{display:inline-block;border-radius:10px;padding:0 8px;color:#fff;font-size:12px}.pass{background:#27ae60}.warn{background:#e67e22}.block{background:#c0392b}
.muted{color:#5a6475}details summary{cursor:pointer;color:#2c5fb3}canvas{max-height:320px}
";

/// Writes the page.
///
/// # Errors
///
/// When `w` fails.
pub fn write_page(p: &Page<'_>, w: &mut dyn Write) -> io::Result<()> {
    let mut h = String::with_capacity(64 << 10);
    let data = serde_json::to_string(&chart_data(p))
        .expect("serialisable")
        .replace("</", "<\\/");
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{t}</title><style>{STYLE}</style></head><body><header><h1>{t}</h1><p>{n} indicators</p></header><main>",
        t = escape(p.title),
        n = p.set.len()
    );
    summary(&mut h, p);
    if p.report.is_some() {
        h.push_str("<section><h2>Alerts and hits</h2><div class=\"charts\"><div><canvas id=\"severities\" aria-label=\"alerts by severity\"></canvas></div>\
                    <div><canvas id=\"by-table\" aria-label=\"hits per hour by table\"></canvas></div></div>\
                    <div><canvas id=\"by-indicator\" aria-label=\"hits per hour by indicator\"></canvas></div></section>");
        top_devices(&mut h, p);
        top_indicators(&mut h, p);
        never_hit(&mut h, p);
        rejected_lines(&mut h, p);
    }
    rejected_indicators(&mut h, p);
    if let Some(v) = p.verdicts {
        verdicts(&mut h, v);
    }
    let _ = write!(
        h,
        "</main><script id=\"data\" type=\"application/json\">{data}</script><script>{CHART_JS}</script><script>{}</script></body></html>",
        CHARTS_JS
    );
    w.write_all(h.as_bytes())?;
    w.flush()
}

const CHARTS_JS: &str = r#"
(function(){
  const d = JSON.parse(document.getElementById('data').textContent);
  const palette = ['#2c5fb3','#27ae60','#8e44ad','#e67e22','#16a085','#c0392b','#7f8c8d','#d35400'];
  const el = id => document.getElementById(id);
  if (el('severities')) new Chart(el('severities'), {type:'bar', data:{labels:d.severities.map(s=>s.label),
    datasets:[{label:'alerts', data:d.severities.map(s=>s.count), backgroundColor:d.severities.map(s=>s.color)}]},
    options:{plugins:{legend:{display:false}, title:{display:true, text:'Alerts by severity'}}, animation:false}});
  if (el('by-table')) new Chart(el('by-table'), {type:'bar', data:{labels:d.hours,
    datasets:d.tables.map((t,i)=>({label:t.label, data:t.counts, backgroundColor:palette[i % palette.length]}))},
    options:{scales:{x:{stacked:true}, y:{stacked:true, beginAtZero:true}}, plugins:{title:{display:true, text:'Hits per hour, by table'}}, animation:false}});
  if (el('by-indicator')) new Chart(el('by-indicator'), {type:'line', data:{labels:d.hours,
    datasets:d.indicators.map((t,i)=>({label:t.label, data:t.counts, borderColor:palette[i % palette.length], tension:0}))},
    options:{scales:{y:{beginAtZero:true}}, plugins:{title:{display:true, text:'Hits per hour, top indicators'}}, animation:false}});
  document.body.setAttribute('data-charts', 'ready');
})();
"#;

fn card(h: &mut String, value: impl std::fmt::Display, label: &str) {
    let _ = write!(
        h,
        "<div class=\"card\"><b>{}</b><span>{}</span></div>",
        escape(&value.to_string()),
        escape(label)
    );
}

fn summary(h: &mut String, p: &Page<'_>) {
    h.push_str("<section><h2>Summary</h2><div class=\"cards\">");
    if let Some(r) = p.report {
        let t = &r.totals;
        card(h, t.records, "records");
        card(h, t.files, "files");
        card(h, format!("{:.1} MB", t.bytes as f64 / 1e6), "read");
        card(h, t.hits, "hits");
        card(h, t.hits - t.effective_hits, "suppressed");
        card(h, t.alerts, "alerts");
        card(h, t.rejected_total(), "rejected lines");
        card(h, t.duplicates, "re-deliveries skipped");
        card(h, format!("{:.2} s", t.elapsed), "replay time");
    }
    card(h, p.set.len(), "indicators");
    card(h, p.rejected_indicators.len(), "rejected indicators");
    if let Some(v) = p.verdicts {
        let t = crate::gate::Tally::of(v);
        card(h, t.pass, "pass");
        card(h, t.warn, "warn");
        card(h, t.block, "held back");
    }
    h.push_str("</div></section>");
}

fn top_devices(h: &mut String, p: &Page<'_>) {
    let Some(r) = p.report else { return };
    let mut by: HashMap<&str, (u64, &str, Severity)> = HashMap::new();
    for a in &r.alerts {
        let s = p.set.get(a.indicator).severity();
        let e = by.entry(&a.device_id).or_insert((0, &a.device_name, s));
        e.0 += 1;
        e.2 = e.2.max(s);
    }
    let mut rows: Vec<_> = by.into_iter().collect();
    rows.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
    h.push_str("<section><h2>Top devices by alerts</h2><table><tr><th>alerts</th><th>worst</th><th>device</th><th>device id</th></tr>");
    for (id, (n, name, s)) in rows.iter().take(20) {
        let _ = write!(
            h,
            "<tr><td>{n}</td><td><span class=\"sev\" style=\"background:{}\">{}</span></td><td>{}</td><td class=\"mono\">{}</td></tr>",
            severity_color(*s),
            s.as_str(),
            escape(name),
            escape(id)
        );
    }
    if rows.is_empty() {
        h.push_str(
            "<tr><td colspan=\"4\" class=\"muted\">no alerts</td></tr>",
        );
    }
    h.push_str("</table></section>");
}

fn top_indicators(h: &mut String, p: &Page<'_>) {
    let Some(r) = p.report else { return };
    let mut rows: Vec<_> = r.indicators.hit.iter().collect();
    rows.sort_by(|a, b| b.1.hits.cmp(&a.1.hits).then(a.0.cmp(b.0)));
    h.push_str("<section><h2>Indicators that hit</h2><table><tr><th>hits</th><th>devices</th><th>type</th><th>value</th><th>action</th><th>first seen</th><th>last seen</th></tr>");
    for (id, s) in rows.iter().take(ROWS) {
        let i = p.set.get(**id);
        let seen = |t: &Option<(Arc<str>, i128)>| {
            t.as_ref().map_or(String::new(), |(text, _)| escape(text))
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            s.hits,
            s.devices,
            i.indicator_type(),
            escape(i.value()),
            i.action(),
            seen(&s.first_seen),
            seen(&s.last_seen)
        );
    }
    if rows.is_empty() {
        h.push_str("<tr><td colspan=\"7\" class=\"muted\">none</td></tr>");
    }
    h.push_str("</table></section>");
}

fn never_hit(h: &mut String, p: &Page<'_>) {
    let Some(r) = p.report else { return };
    let _ = write!(
        h,
        "<section><h2>Indicators never hit: {} of {}</h2><details><summary>list</summary><table>",
        r.never_hit(),
        p.set.len()
    );
    for (id, i) in p
        .set
        .iter()
        .filter(|(id, _)| !r.indicators.hit.contains_key(id))
        .take(ROWS)
    {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"mono\">{}</td><td>{}</td><td class=\"mono\">{}</td></tr>",
            id,
            escape(i.value()),
            i.action(),
            escape(&i.source().to_string())
        );
    }
    h.push_str("</table></details></section>");
}

fn rejected_lines(h: &mut String, p: &Page<'_>) {
    let Some(r) = p.report else { return };
    let t = &r.totals;
    let _ =
        write!(h, "<section><h2>Rejected lines: {}</h2>", t.rejected_total());
    if t.rejected_total() > 0 {
        h.push_str("<table><tr><th>reason</th><th>lines</th></tr>");
        for (k, v) in &t.rejected {
            let _ = write!(h, "<tr><td>{}</td><td>{v}</td></tr>", k.as_str());
        }
        h.push_str(
            "</table><details><summary>first examples</summary><table>",
        );
        for e in t.rejection_examples.iter().take(ROWS) {
            let _ = write!(
                h,
                "<tr><td class=\"mono\">{}:{}</td><td>{}</td></tr>",
                escape(&e.source),
                e.line,
                e.reason.as_str()
            );
        }
        h.push_str("</table></details>");
    }
    h.push_str("</section>");
}

fn rejected_indicators(h: &mut String, p: &Page<'_>) {
    let r = p.rejected_indicators;
    let _ = write!(h, "<section><h2>Rejected indicators: {}</h2>", r.len());
    if !r.is_empty() {
        h.push_str("<table><tr><th>where</th><th>value</th><th>why</th></tr>");
        for x in r.iter().take(ROWS) {
            let _ = write!(
                h,
                "<tr><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{}</td></tr>",
                escape(&x.source.to_string()),
                escape(&x.value),
                escape(x.reason())
            );
        }
        h.push_str("</table>");
    }
    h.push_str("</section>");
}

fn verdicts(h: &mut String, v: &[IndicatorVerdict]) {
    let mut rows: Vec<&IndicatorVerdict> = v.iter().collect();
    rows.sort_by_key(|x| std::cmp::Reverse(x.verdict));
    h.push_str("<section><h2>Gate verdicts</h2><table><tr><th>verdict</th><th>type</th><th>value</th><th>action</th><th>reasons</th></tr>");
    for x in rows.iter().take(ROWS * 5) {
        let reasons: Vec<String> =
            x.reasons.iter().map(|r| escape(&r.message)).collect();
        let class = match x.verdict {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Block => "block",
        };
        let _ = write!(
            h,
            "<tr><td><span class=\"verdict {class}\">{}</span></td><td>{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td></tr>",
            x.verdict.as_str(),
            x.indicator_type,
            escape(&x.value),
            x.action,
            reasons.join("<br>")
        );
    }
    h.push_str("</table></section>");
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn values_are_escaped() {
        assert_eq!(
            escape("<script>alert('x')&\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;)&amp;&quot;&lt;/script&gt;"
        );
    }
}
