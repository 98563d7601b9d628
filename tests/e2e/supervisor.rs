//! `orderlink run` as one supervisor, end to end on the memory plugin: a broken link stays off
//! while the others sync, SIGHUP reloads (a fixed link starts, unchanged ones keep going, a
//! broken config is refused), and SIGTERM still exits 0.

use std::time::Duration;

use orderlink_e2e::memory_links::{MemoryLinks, MEMORY_MAPPING};

const WAIT: Duration = Duration::from_secs(20);

/// Points link `link` at another mapping file.
fn remap(links: &MemoryLinks, link: &str, mapping: &str) {
    let text = std::fs::read_to_string(&links.config).unwrap_or_else(|e| panic!("{e}"));
    let at = text
        .find(&format!("[links.{link}]"))
        .unwrap_or_else(|| panic!("no link {link}"));
    let (head, tail) = text.split_at(at);
    let tail = tail.replacen(
        "mapping = \"mapping.toml\"",
        &format!("mapping = \"{mapping}\""),
        1,
    );
    std::fs::write(&links.config, format!("{head}{tail}")).unwrap_or_else(|e| panic!("{e}"));
}

/// Lines of the log that report a write of link `link` to `packed` (one DEBUG line per write).
fn writes(log: &str, link: &str) -> usize {
    log.lines()
        .filter(|l| l.contains("-> packed") && l.contains(link))
        .count()
}

#[test]
fn a_broken_link_stays_off_the_others_sync_and_sighup_reloads() {
    let links = MemoryLinks::new(2, 3, "200ms", "");
    // l0001's mapping leaves ERP statuses out: the link cannot run.
    links.write("partial.toml", "[to_shop]\nnew = \"new\"\n");
    remap(&links, "l0001", "partial.toml");
    // Each write is a DEBUG line of the link task (INFO has one line per cycle).
    let mut host = links.run("info,orderlink::engine::supervisor::link_task=debug");

    host.wait_for("link stays off", 1, WAIT);
    let log = host.log();
    assert!(
        log.lines()
            .any(|l| l.contains("link stays off") && l.contains("l0001") && l.contains("packed")),
        "the broken link is reported with what is missing:\n{log}"
    );
    // The healthy link syncs all three orders anyway.
    let until = std::time::Instant::now() + WAIT;
    while writes(&host.log(), "l0000") < 3 {
        assert!(
            std::time::Instant::now() < until,
            "l0000 did not sync:\n{}",
            host.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(writes(&host.log(), "l0001"), 0);

    // Fix the mapping and reload: only the changed link restarts, and syncs.
    links.write("partial.toml", MEMORY_MAPPING);
    host.signal(libc::SIGHUP);
    host.wait_for(
        "config reloaded: 1 restarted, 0 started, 0 stopped, 1 unchanged",
        1,
        WAIT,
    );
    let until = std::time::Instant::now() + WAIT;
    while writes(&host.log(), "l0001") < 3 {
        assert!(
            std::time::Instant::now() < until,
            "l0001 did not sync after the reload:\n{}",
            host.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The unchanged link was not restarted: it did not write its orders again.
    assert_eq!(writes(&host.log(), "l0000"), 3, "{}", host.log());

    // A config that does not pass its checks is refused; the running one stays.
    let good = std::fs::read_to_string(&links.config).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        &links.config,
        good.replacen("poll_interval = \"200ms\"", "poll_interval = \"soon\"", 1),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    host.signal(libc::SIGHUP);
    host.wait_for("reload refused, the running config stays", 1, WAIT);
    assert!(host.log().contains("poll_interval"), "{}", host.log());

    host.signal(libc::SIGTERM);
    assert_eq!(host.wait(WAIT), Some(0), "{}", host.log());
}

#[test]
fn every_link_broken_at_start_exits_2_naming_each() {
    let links = MemoryLinks::new(2, 1, "200ms", "");
    links.write("partial.toml", "[to_shop]\nnew = \"new\"\n");
    remap(&links, "l0000", "partial.toml");
    remap(&links, "l0001", "partial.toml");
    let mut host = links.run("warn");
    assert_eq!(host.wait(WAIT), Some(2), "{}", host.log());
    let log = host.log();
    assert!(
        log.contains("link `l0000`") && log.contains("link `l0001`"),
        "{log}"
    );
}
