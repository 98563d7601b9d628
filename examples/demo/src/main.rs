//! The orderlink demo: builds what it needs, starts both simulators with a few hundred linked
//! orders, runs `orderlink run` with `examples/demo/orderlink.toml`, plays shop operators and ERP
//! users changing statuses, and shows the statuses following, until Ctrl-C.
//!
//! `cargo run -p orderlink-demo [-- --orders N --seconds S]`

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use orderlink_e2e::orderlink::binary as orderlink_binary;
use orderlink_e2e::sims::terminate;
use orderlink_e2e::sync_env::{SimPair, ERP_PASSWORD, SHOP_KEY};
use rand::Rng;

const SHOP_STATUSES: [&str; 3] = ["new", "on_order", "packed"];
const ERP_STATUSES: [&str; 3] = ["Niepotwierdzony", "Potwierdzony", "Zaakceptowany"];

fn arg(name: &str, default: u64) -> anyhow::Result<u64> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == name) {
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("{name} needs a number")),
        None => Ok(default),
    }
}

fn main() -> anyhow::Result<()> {
    let orders = arg("--orders", 300)?;
    let seconds = arg("--seconds", 0)?;
    let demo_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));

    println!("== building orderlink, the plugins and the simulators ==");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let built = Command::new(cargo)
        .args(["build", "--workspace", "--bins", "--lib"])
        .status()
        .context("running cargo build")?;
    if !built.success() {
        bail!("cargo build failed");
    }

    println!("== starting the IdoSell and enova365 simulators with {orders} linked orders ==");
    let sims = SimPair::start(usize::try_from(orders)?, 2026);
    println!("   IdoSell shop:   {}", sims.shop.url);
    println!("   enova365 WebAPI: {}", sims.erp.url);

    let state = demo_dir.join("demo-state.sqlite");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", state.display()));
    }
    let config = demo_dir.join("orderlink.toml");
    println!("== orderlink check ==");
    let env = [
        ("DEMO_SHOP_URL", sims.shop.url.as_str()),
        ("DEMO_ERP_URL", sims.erp.url.as_str()),
        ("DEMO_SHOP_API_KEY", SHOP_KEY),
        ("DEMO_ERP_APP_TOKEN", ERP_PASSWORD),
    ];
    let plugin_dir = orderlink_e2e::sims::plugin_dir();
    let check = Command::new(orderlink_binary())
        .args(["check", "--config"])
        .arg(&config)
        .envs(env)
        .env("ORDERLINK_PLUGIN_DIR", &plugin_dir)
        .status()?;
    if !check.success() {
        bail!("orderlink check failed");
    }
    println!("== orderlink run: Ctrl-C to stop ==");
    let mut orderlink = Command::new(orderlink_binary())
        .args(["run", "--log", "info,orderlink::plugin=warn", "--config"])
        .arg(&config)
        .envs(env)
        .env("ORDERLINK_PLUGIN_DIR", &plugin_dir)
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting orderlink")?;

    let stop = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGINT, stop.clone())?;
    signal_hook::flag::register(signal_hook::consts::SIGTERM, stop.clone())?;
    let started = Instant::now();
    let mut rng = rand::thread_rng();
    let mut touched: Vec<(String, &str)> = Vec::new();
    let mut last_report = Instant::now();
    std::thread::sleep(Duration::from_secs(3));
    while !stop.load(Ordering::SeqCst) && (seconds == 0 || started.elapsed().as_secs() < seconds) {
        let key = rng.gen_range(1..=orders).to_string();
        if rng.gen_bool(0.5) {
            // enova365 refuses a new Potwierdzenie on a cancelled or locked ZO: users leave those.
            let zo = sims.erp.get(&format!("/_sim/documents/by-obcy/{key}"));
            if !matches!(zo["Stan"].as_str(), Some("Bufor" | "Zatwierdzony")) {
                continue;
            }
            let v = ERP_STATUSES[rng.gen_range(0..3)];
            println!("   [ERP user]      ZO for order {key}: Potwierdzenie -> {v}");
            sims.set_erp_status(&key, v);
            touched.push((key, "erp"));
        } else {
            let v = SHOP_STATUSES[rng.gen_range(0..3)];
            println!("   [shop operator] order {key}: status -> {v}");
            sims.set_shop_status(&key, v);
            touched.push((key, "shop"));
        }
        if last_report.elapsed() > Duration::from_secs(6) {
            println!("   ---- the last orders touched, a few seconds later ----");
            for (k, who) in touched.iter().rev().take(6) {
                println!(
                    "   order {k:>4} (changed in {who:>4}): shop = {:<10} enova365 = {}",
                    sims.shop_status(k),
                    sims.erp_status(k)
                );
            }
            touched.clear();
            last_report = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(rng.gen_range(700..1600)));
    }
    println!("== stopping orderlink ==");
    terminate(&orderlink);
    let status = orderlink.wait()?;
    println!("orderlink exited with {status}");
    let _ = Command::new(orderlink_binary())
        .args(["status", "--config"])
        .arg(&config)
        .envs(env)
        .status();
    Ok(())
}
