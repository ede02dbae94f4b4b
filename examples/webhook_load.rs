//! Load generator for the webhook benchmark (`scripts/bench-webhooks`): posts signed
//! WhatsApp Cloud API first messages, each from a new contact, and reports events/s and
//! latency percentiles. Only talks to the address it is given (127.0.0.1 in the script).
//!
//! Usage: webhook_load <webhook url> <app secret> <count> <concurrency> [ref tag]

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use hmac::{Hmac, Mac};
use sha2::Sha256;

fn body(n: u64, tag: &str) -> String {
    format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"id":"102290129340398","changes":[{{"value":{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"15550783881","phone_number_id":"106540352242922"}},"contacts":[{{"profile":{{"name":"Load {n}"}},"wa_id":"1650{n:07}"}}],"messages":[{{"from":"1650{n:07}","id":"wamid.LOAD{n:012}","timestamp":"1763900000","text":{{"body":"Hi! I'd like to know more. (Ref: {tag})"}},"type":"text"}}]}},"field":"messages"}}]}}]}}"#
    )
}

fn sign(secret: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!("usage: webhook_load <url> <app secret> <count> <concurrency> [ref tag]");
        std::process::exit(2);
    }
    let url = Arc::new(args[1].clone());
    let secret = Arc::new(args[2].clone());
    let count: u64 = args[3].parse().expect("count");
    let concurrency: u64 = args[4].parse().expect("concurrency");
    let tag = Arc::new(args.get(5).cloned().unwrap_or_default());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency as usize)
        .build()
        .expect("client");
    let next = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, url, secret, tag, next, failures) = (
            client.clone(),
            url.clone(),
            secret.clone(),
            tag.clone(),
            next.clone(),
            failures.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= count {
                    break;
                }
                let body = body(n, &tag);
                let signature = sign(&secret, &body);
                let sent = Instant::now();
                let ok = client
                    .post(url.as_str())
                    .header("x-hub-signature-256", signature)
                    .header("content-type", "application/json")
                    .body(body)
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await
                    .map(|r| r.status().is_success())
                    .unwrap_or(false);
                latencies.push(sent.elapsed());
                if !ok {
                    failures.fetch_add(1, Ordering::Relaxed);
                }
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.expect("worker"));
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "sent={} failed={} seconds={:.2} events_per_s={:.0} p50_ms={:.2} p99_ms={:.2}",
        latencies.len(),
        failures.load(Ordering::Relaxed),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
    );
}
