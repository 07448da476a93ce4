//! Reports how many lines of a file the fast path reads itself, the first
//! few it hands to the full parser, and the parse-only throughput of each
//! parser.
use iocmatch_replay::parse::Parser;

fn main() {
    let path = std::env::args().nth(1).expect("usage: fastpath FILE");
    let data = std::fs::read(path).expect("read");
    let lines: Vec<&[u8]> = data
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .collect();
    let fallback = lines
        .iter()
        .filter(|l| iocmatch_replay::fast::scan(l).is_none())
        .count();
    println!("lines {} fast-path fallbacks {fallback}", lines.len());
    for p in [Parser::Fast, Parser::Sonic, Parser::Reference] {
        let t = std::time::Instant::now();
        let ok = lines.iter().filter(|l| p.parse(l).is_ok()).count();
        let s = t.elapsed().as_secs_f64();
        println!(
            "{p:?}: {ok} parsed, {:.0} MB/s",
            data.len() as f64 / 1e6 / s
        );
    }
}
