//! A fake MISP server on loopback for the live-pull tests:
//! `POST /attributes/restSearch` with MISP's `Authorization: <key>`
//! header, the `to_ids`, `type`, `last`, `limit` and `page` filters, the
//! `{"response":{"Attribute":[…]}}` answer, and MISP's error body
//! `{"name","message","url"}`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use http_body_util::BodyExt;
use hyper::Request;
use hyper::body::Incoming;
use serde_json::{Value, json};

use crate::{Dropped, Reply, reply, spawn};

struct State {
    key: String,
    attributes: Vec<Value>,
    requests: Vec<Value>,
}

/// A running fake MISP; stops when dropped.
pub struct FakeMisp {
    state: Arc<Mutex<State>>,
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl FakeMisp {
    /// Serves `attributes` (restSearch attribute objects, each with its
    /// `Event`) to callers with `key`.
    ///
    /// # Errors
    ///
    /// When no loopback port can be bound.
    pub fn start(
        key: &str,
        attributes: Vec<Value>,
    ) -> std::io::Result<FakeMisp> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let state = Arc::new(Mutex::new(State {
            key: key.into(),
            attributes,
            requests: Vec::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let s = Arc::clone(&state);
        spawn(listener, Arc::clone(&stop), move |req| {
            answer(Arc::clone(&s), req)
        })?;
        Ok(FakeMisp { state, addr, stop })
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The search bodies received.
    pub fn requests(&self) -> Vec<Value> {
        self.state.lock().unwrap().requests.clone()
    }
}

impl Drop for FakeMisp {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(self.addr);
    }
}

fn misp_error(status: u16, name: &str, url: &str) -> Reply {
    reply(status, &json!({"name": name, "message": name, "url": url}))
}

async fn answer(
    state: Arc<Mutex<State>>,
    req: Request<Incoming>,
) -> Result<Reply, Dropped> {
    let path = req.uri().path().to_owned();
    let key = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body =
        req.into_body().collect().await.map_err(|_| Dropped)?.to_bytes();
    let mut s = state.lock().unwrap();
    if path != "/attributes/restSearch" {
        return Ok(misp_error(404, "Not Found", &path));
    }
    if key.as_deref() != Some(s.key.as_str()) {
        return Ok(misp_error(
            403,
            "Authentication failed. Please make sure you pass the API key of an API enabled user along in the Authorization header.",
            &path,
        ));
    }
    let Ok(q) = serde_json::from_slice::<Value>(&body) else {
        return Ok(misp_error(400, "Invalid JSON", &path));
    };
    s.requests.push(q.clone());
    let to_ids = matches!(q.get("to_ids"), Some(Value::Number(n)) if n.as_u64() == Some(1))
        || q.get("to_ids") == Some(&Value::Bool(true));
    let types: Option<Vec<String>> =
        q.get("type").and_then(Value::as_array).map(|a| {
            a.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect()
        });
    let limit =
        q.get("limit").and_then(Value::as_u64).unwrap_or(u64::MAX) as usize;
    let page =
        q.get("page").and_then(Value::as_u64).unwrap_or(1).max(1) as usize;
    let matching: Vec<&Value> = s
        .attributes
        .iter()
        .filter(|a| !to_ids || a.get("to_ids") == Some(&Value::Bool(true)))
        .filter(|a| {
            types.as_ref().is_none_or(|ts| {
                a.get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| ts.iter().any(|x| x == t))
            })
        })
        .collect();
    let start = (page - 1).saturating_mul(limit).min(matching.len());
    let end = start.saturating_add(limit).min(matching.len());
    let page: Vec<&Value> = matching[start..end].to_vec();
    let mut r = reply(200, &json!({"response": {"Attribute": page}}));
    r.headers_mut().insert(
        "X-Result-Count",
        matching.len().to_string().parse().expect("a header value"),
    );
    Ok(r)
}
