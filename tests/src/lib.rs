//! End-to-end test support for orderlink.
