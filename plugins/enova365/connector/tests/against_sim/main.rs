//! The real plugin file (`liborderlink_enova365.so`) against `enova365-sim` on loopback.
//! Both must be built first (`cargo build --workspace`); they are found next to this test
//! executable (`target/debug`).

mod apply;
mod conformance;
mod failures;
mod feed;
mod list;
mod secrets;
mod support;
